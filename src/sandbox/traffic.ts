// What happens to a message after ACS accepts it: the delivery outcome of each recipient and the
// engagement that follows, with the details real mail produces (SMTP status lines, user agents of
// people, image proxies and link scanners).
import type { Random } from "./random.ts";
import { DELIVERY_STATUSES, type DeliveryStatus } from "./settings.ts";

export const HUMAN_USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
];

/** Opens by machines: Apple Mail Privacy Protection, Gmail's and Yahoo's image proxies. */
export const MACHINE_OPEN_USER_AGENTS = [
  "Mozilla/5.0",
  "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
];

/** Security scanners that follow every link of a message. */
export const SCANNER_USER_AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43",
  "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))",
  "python-requests/2.31.0",
];

const BOUNCE_MESSAGES = [
  "550 5.1.1 The email account that you tried to reach does not exist.",
  "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
  "552 5.2.2 The email account that you tried to reach is over quota.",
  "554 5.7.1 Service unavailable; Client host blocked using Spamhaus.",
  "550 5.7.509 Access denied, sending domain does not pass DMARC verification.",
  "553 5.1.3 The recipient address is not a valid RFC 5321 address.",
];

const STATUS_MESSAGES: Record<DeliveryStatus, readonly string[]> = {
  Delivered: ["No error."],
  Expanded: ["The distribution list was expanded and the message was delivered to its members."],
  Bounced: BOUNCE_MESSAGES,
  Suppressed: ["The recipient address is on the suppression list of the sender domain; no delivery was attempted."],
  FilteredSpam: ["The message was identified as spam and was not delivered."],
  Quarantined: ["The message was quarantined by the recipient's mail server."],
  Failed: ["451 4.4.0 DNS query failed; the message could not be delivered before it expired."],
};

/**
 * The outcome of one recipient. An address whose local part (before any "+tag") names a status, such
 * as bounced@example.org or suppressed+17@example.org, always gets that status; others follow the mix.
 */
export function deliveryOutcome(
  recipient: string,
  mix: Record<DeliveryStatus, number>,
  random: Random,
): { status: DeliveryStatus; statusMessage: string; recipientMailServerHostName?: string } {
  const local = recipient.split("@")[0].split("+")[0].toLowerCase();
  const named = DELIVERY_STATUSES.find((s) => s.toLowerCase() === local);
  const status = named ?? random.weighted(mix);
  const statusMessage = random.pick(STATUS_MESSAGES[status]);
  const domain = recipient.split("@")[1]?.toLowerCase() ?? "example.org";
  return status === "Delivered" || status === "Expanded"
    ? { status, statusMessage, recipientMailServerHostName: `mx.${domain}` }
    : { status, statusMessage };
}

/** How one engagement event is spelled; Microsoft's samples and production differ, so the sandbox mixes them. */
export interface EngagementShape {
  timestampKey: "userActionTimestamp" | "userActionTimeStamp";
  /** Fraction digits of the timestamp: 0, 3, 6 or 7. */
  fractionDigits: number;
  /** Sub-millisecond 100 ns ticks (0..9999) for 6 or 7 digits. */
  ticks: number;
  /** Index into topicSpelling's variants. */
  topicSpelling: number;
  /** "View" / "Click" instead of "view" / "click". */
  capitalised: boolean;
  internetMessageId: boolean;
}

export const FRACTION_DIGITS = [0, 3, 6, 7] as const;
export const TOPIC_SPELLINGS = 4;

/**
 * The resource's topic as events spell it: as configured, with the provider segment as in the REST
 * specification's examples (communicationServices), all in lower case as in the event documentation, or with
 * the resource group in upper case as Azure Resource Manager often reports it.
 */
export function topicSpelling(topic: string, variant: number): string {
  const provider = /\/providers\/Microsoft\.Communication\/CommunicationServices\//i;
  switch (variant) {
    case 1:
      return topic.replace(provider, "/providers/Microsoft.Communication/communicationServices/");
    case 2:
      return topic.replace(provider, "/providers/microsoft.communication/communicationservices/");
    case 3:
      return topic.replace(/\/resourceGroups\/([^/]+)\//i, (_m, group: string) => `/resourceGroups/${group.toUpperCase()}/`);
    default:
      return topic;
  }
}

/** An engagement timestamp: 0, 3, 6 or 7 fraction digits and +00:00, as Microsoft's samples show them. */
export function engagementTimestamp(ms: number, fractionDigits: number, ticks: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-27T10:04:31.285Z
  const fraction = `${iso.slice(20, 23)}${String(ticks).padStart(4, "0")}`.slice(0, fractionDigits);
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ""}+00:00`;
}

/** A timestamp as ACS writes them inside event data: seven fraction digits and +00:00. */
export function acsTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-27T10:04:31.285Z
  const ticks = String(Math.floor((ms % 1) * 10_000)).padStart(4, "0");
  return `${iso.slice(0, 23)}${ticks}+00:00`;
}
