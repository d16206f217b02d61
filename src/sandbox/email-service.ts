// ACS Email's REST API: POST /emails:send and GET /emails/operations/{id}, with ACS's validation,
// Message-ID handling, Operation-Id, quotas, injected faults, and the events that follow every
// accepted email (a delivery report per recipient and engagement), scheduled on the emulated clock.
import crypto from "node:crypto";
import type { EventGrid, PublishedEvent } from "./event-grid.ts";
import type { Random } from "./random.ts";
import type { DeliveryStatus, SandboxSettings } from "./settings.ts";
import { Timeline } from "./timeline.ts";
import {
  FRACTION_DIGITS,
  HUMAN_USER_AGENTS,
  MACHINE_OPEN_USER_AGENTS,
  SCANNER_USER_AGENTS,
  TOPIC_SPELLINGS,
  acsTimestamp,
  deliveryOutcome,
  engagementTimestamp,
  topicSpelling,
  type EngagementShape,
} from "./traffic.ts";
import {
  isHttpUrl,
  isTrackingUrl,
  isUnsubscribeLink,
  listUnsubscribeOf,
  readHtml,
  type TrackingClient,
  type TrackingOrigin,
  type TrackingRequest,
} from "./tracking.ts";

export const API_VERSIONS = ["2023-03-31", "2025-09-01"];
export const MAX_RECIPIENTS = 50;
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** Links of one message that ACS tracks and scanners follow (the first ones). */
const MAX_LINKS = 20;
/** What a link scanner does with each link: look (HEAD), fetch (GET), or both. */
const SCANNER_METHODS: readonly (readonly ("HEAD" | "GET")[])[] = [["HEAD"], ["GET"], ["HEAD", "GET"]];

export interface AcsAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What the email says, as received (kept for the newest emails within retainedContentBytes). */
export interface EmailContent {
  subject: string;
  html: string | null;
  plainText: string | null;
}

export interface AcceptedEmail {
  operationId: string;
  internetMessageId: string;
  /** The messageId engagement events carry (the operation id, or a distinct id per the settings). */
  engagementMessageId: string;
  sender: string;
  subject: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  headers: Record<string, string>;
  attachments: number;
  requestBytes: number;
  userEngagementTrackingDisabled: boolean;
  apiVersion: string;
  acceptedAt: number;
  endsAt: number;
  outcome: "Succeeded" | "Failed";
  bodyHash: string;
  /** Subject, HTML and plain text; undefined once dropped to stay within retainedContentBytes. */
  content: EmailContent | undefined;
  /** UTF-8 bytes of the content's three parts (what it counts against retainedContentBytes). */
  contentBytes: number;
}

export interface EmailView {
  operationId: string;
  status: "Running" | "Succeeded" | "Failed";
  internetMessageId: string;
  engagementMessageId: string;
  sender: string;
  subject: string;
  recipients: { to: string[]; cc: string[]; bcc: string[] };
  replyTo: string[];
  headers: Record<string, string>;
  attachments: number;
  requestBytes: number;
  userEngagementTrackingDisabled: boolean;
  apiVersion: string;
  acceptedAt: string;
  /** When the operation ends (or ended) Succeeded or Failed. */
  endsAt: string;
}

/** One email with what it says: `content` is null when it was dropped to stay within retainedContentBytes. */
export interface EmailDetailView extends EmailView {
  content: EmailContent | null;
}

export type ScheduledKind =
  | "delivery-report"
  | "human-view"
  | "human-click"
  | "machine-open"
  | "scanner-click"
  /** A person's click on the body's unsubscribe link (an Azure click event; Mailroom does not count it as a click). */
  | "unsubscribe-click";

export interface ScheduledEvent {
  kind: ScheduledKind;
  email: AcceptedEmail;
  recipient: string;
  /** Emulated time of what happened (ms). */
  happenedAt: number;
  /** Emulated time Event Grid publishes it (ms). */
  publishedAt: number;
  status?: DeliveryStatus;
  statusMessage?: string;
  recipientMailServerHostName?: string;
  url?: string;
  userAgent?: string;
  /** How an engagement event is spelled (drawn when scheduled, so that a seed repeats it). */
  shape?: EngagementShape;
}

export interface ScheduledEventView {
  dueAt: string;
  kind: ScheduledKind;
  operationId: string;
  recipient: string;
  happenedAt: string;
  status?: DeliveryStatus;
  url?: string;
}

export const EMAIL_DELIVERY_REPORT = "Microsoft.Communication.EmailDeliveryReportReceived";
export const EMAIL_ENGAGEMENT = "Microsoft.Communication.EmailEngagementTrackingReportReceived";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = `${ATOM}(?:\\.${ATOM})*`;
/** RFC 2822 msg-id: "<" id-left "@" id-right ">" (dot-atom-text, or a no-fold literal on the right). */
const MSG_ID = new RegExp(`^<${DOT_ATOM}@(?:${DOT_ATOM}|\\[[^\\[\\]\\\\\\s]*\\])>$`);
const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export function isRfc2822MessageId(value: string): boolean {
  return MSG_ID.test(value);
}

function error(status: number, code: string, message: string, extra: Record<string, string> = {}, target?: string): AcsAnswer {
  return {
    status,
    headers: { "x-ms-error-code": code, ...extra },
    body: { error: { code, message, ...(target ? { target } : {}) } },
  };
}

class InvalidRequest extends Error {
  readonly target: string;
  constructor(target: string, message: string) {
    super(message);
    this.target = target;
  }
}

/** Counts accepted sends in a sliding window: the last `limit` times in a ring. */
class SlidingWindow {
  private times: number[] = [];
  private next = 0;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  /** Milliseconds until one more send fits (0 = now). */
  wait(now: number, windowMs: number): number {
    if (this.times.length < this.limit) return 0;
    return Math.max(0, this.times[this.next] + windowMs - now);
  }
  record(now: number): void {
    if (this.times.length < this.limit) {
      this.times.push(now);
    } else {
      this.times[this.next] = now;
      this.next = (this.next + 1) % this.limit;
    }
  }
}

function addressList(value: unknown, target: string, required: boolean): string[] {
  if (value === undefined || value === null) {
    if (required) throw new InvalidRequest(target, `${target} is required.`);
    return [];
  }
  if (!Array.isArray(value)) throw new InvalidRequest(target, `${target} must be an array.`);
  return value.map((item: unknown, i: number) => {
    const address = (item as { address?: unknown } | null)?.address;
    if (typeof address !== "string" || !ADDRESS.test(address)) {
      throw new InvalidRequest(`${target}[${i}].address`, `${target}[${i}].address is not a valid email address.`);
    }
    return address;
  });
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export interface EmailServiceOptions {
  baseUrl: () => string;
  /** The emulated resource's topic (engagement events spell it in several ways). */
  topic: string;
  settings: () => SandboxSettings;
  random: Random;
  eventGrid: EventGrid;
  /** Makes the HTTP requests of opens, clicks and unsubscribes. */
  tracker: TrackingClient;
}

export class EmailService {
  private emails = new Map<string, AcceptedEmail>();
  /** The retained emails that still hold their content, oldest first, and the bytes of that content. */
  private withContent = new Map<string, AcceptedEmail>();
  private contentBytes = 0;
  private byInternetMessageId = new Map<string, string>();
  private perMinute: SlidingWindow | null = null;
  private perHour: SlidingWindow | null = null;
  private scheduled: Timeline<ScheduledEvent>;
  private readonly options: EmailServiceOptions;
  totals = { requests: 0, accepted: 0, recipients: 0, rejected: 0, throttled: 0, faults: 0, unauthorized: 0, replays: 0 };

  constructor(options: EmailServiceOptions) {
    this.options = options;
    this.scheduled = new Timeline((item) => this.options.eventGrid.publish(this.toEvent(item)));
  }

  unauthorized(): AcsAnswer {
    this.totals.unauthorized++;
    return error(401, "Denied", "Denied by the resource provider.");
  }

  checkApiVersion(apiVersion: string | null): AcsAnswer | undefined {
    if (apiVersion !== null && API_VERSIONS.includes(apiVersion)) return undefined;
    return error(
      400,
      "UnsupportedApiVersion",
      `The api-version ${JSON.stringify(apiVersion)} is not supported; supported versions: ${API_VERSIONS.join(", ")}.`,
    );
  }

  /** A 500 or 503 for the configured share of requests, else undefined. */
  injectedFault(): AcsAnswer | undefined {
    const random = this.options.random;
    if (!random.chance(this.options.settings().faultShare)) return undefined;
    this.totals.faults++;
    return random.chance(0.5)
      ? error(500, "InternalServerError", "An internal error occurred.")
      : error(503, "ServiceUnavailable", "The service is temporarily unavailable.");
  }

  send(body: Buffer, apiVersion: string, operationIdHeader: string | undefined): AcsAnswer {
    this.totals.requests++;
    const settings = this.options.settings();
    const now = Date.now();
    if (body.length > MAX_REQUEST_BYTES) {
      this.totals.rejected++;
      return error(413, "RequestEntityTooLarge", `The request is larger than ${MAX_REQUEST_BYTES} bytes (10 MB).`);
    }
    let parsed: ReturnType<typeof this.parse>;
    try {
      const operationId = operationIdHeader?.trim();
      if (operationId !== undefined && !UUID.test(operationId)) {
        throw new InvalidRequest("Operation-Id", "The Operation-Id header must be a UUID.");
      }
      parsed = this.parse(body);
    } catch (e) {
      this.totals.rejected++;
      if (e instanceof InvalidRequest) return error(400, "BadRequest", e.message, {}, e.target);
      throw e;
    }
    const bodyHash = crypto.createHash("sha256").update(body).digest("base64");

    // A reused Operation-Id: the same request again is answered as the first time (nothing is sent
    // twice); a different request under a used id is refused.
    const operationId = operationIdHeader?.trim() ?? crypto.randomUUID();
    const existing = this.emails.get(operationId.toLowerCase());
    if (existing) {
      if (existing.bodyHash !== bodyHash) {
        this.totals.rejected++;
        return error(409, "Conflict", `The operation id ${operationId} was used for a different request.`, {}, "Operation-Id");
      }
      this.totals.replays++;
      return this.accepted(existing, now);
    }

    const { message, internetMessageId, validateMessageId } = parsed;
    if (validateMessageId && internetMessageId && this.byInternetMessageId.has(internetMessageId)) {
      this.totals.rejected++;
      return error(400, "BadRequest", `The Message-ID ${internetMessageId} was used by another email.`, {}, "headers.Message-ID");
    }

    const throttled = this.checkQuota(now, settings);
    if (throttled) return throttled;

    const sender = message.senderAddress as string;
    const email: AcceptedEmail = {
      operationId,
      internetMessageId: internetMessageId ?? `<${crypto.randomUUID()}@${sender.split("@")[1].toLowerCase()}>`,
      engagementMessageId: settings.engagementMessageId === "operation-id" ? operationId : crypto.randomUUID(),
      sender,
      subject: parsed.subject,
      to: parsed.to,
      cc: parsed.cc,
      bcc: parsed.bcc,
      replyTo: parsed.replyTo,
      headers: parsed.headers,
      attachments: parsed.attachments,
      requestBytes: body.length,
      userEngagementTrackingDisabled: message.userEngagementTrackingDisabled === true,
      apiVersion,
      acceptedAt: now,
      endsAt: now + settings.operationSeconds * 1000 * settings.timeScale,
      outcome: this.options.random.chance(settings.failedShare) ? "Failed" : "Succeeded",
      bodyHash,
      content: { subject: parsed.subject, html: parsed.html ?? null, plainText: parsed.plainText ?? null },
      contentBytes:
        Buffer.byteLength(parsed.subject) + Buffer.byteLength(parsed.html ?? "") + Buffer.byteLength(parsed.plainText ?? ""),
    };
    this.remember(email, settings);
    this.totals.accepted++;
    this.totals.recipients += email.to.length + email.cc.length + email.bcc.length;
    if (email.outcome === "Succeeded") this.schedule(email, parsed.html, settings);

    if (this.options.random.chance(settings.lostResponseShare)) {
      this.totals.faults++;
      return error(500, "InternalServerError", "An internal error occurred.");
    }
    return this.accepted(email, now);
  }

  operation(operationId: string): AcsAnswer {
    const email = this.emails.get(operationId.toLowerCase());
    if (!email) return error(404, "NotFound", `No email operation with id ${operationId} was found.`);
    const now = Date.now();
    const status = this.statusOf(email, now);
    return {
      status: 200,
      headers: status === "Running" ? { "retry-after": this.retryAfter(email, now) } : {},
      body: {
        id: email.operationId,
        status,
        ...(status === "Failed"
          ? { error: { code: "EmailDropped", message: "The email was dropped and will not be delivered." } }
          : {}),
      },
    };
  }

  /** One retained email with its content (null when dropped to stay within retainedContentBytes). */
  getEmail(operationId: string): EmailDetailView | undefined {
    const email = this.emails.get(operationId.toLowerCase());
    return email ? { ...this.view(email, Date.now()), content: email.content ?? null } : undefined;
  }

  listEmails(offset = 0, limit = Infinity): EmailView[] {
    const now = Date.now();
    const out: EmailView[] = [];
    let i = 0;
    for (const email of this.emails.values()) {
      if (i++ < offset) continue;
      if (out.length >= limit) break;
      out.push(this.view(email, now));
    }
    return out;
  }

  get emailCount(): number {
    return this.emails.size;
  }

  /** Bytes of content held for retained emails (at most retainedContentBytes). */
  get retainedContentBytes(): number {
    return this.contentBytes;
  }

  get scheduledCount(): number {
    return this.scheduled.size;
  }

  listScheduled(limit = Infinity): ScheduledEventView[] {
    return this.scheduled.list(limit).map(({ at, item }) => ({
      dueAt: new Date(at).toISOString(),
      kind: item.kind,
      operationId: item.email.operationId,
      recipient: item.recipient,
      happenedAt: new Date(item.happenedAt).toISOString(),
      ...(item.status ? { status: item.status } : {}),
      ...(item.url ? { url: item.url } : {}),
    }));
  }

  /** Quota windows start again (after a change of the quota settings). */
  resetQuotas(): void {
    this.perMinute = null;
    this.perHour = null;
  }

  reset(): void {
    this.emails.clear();
    for (const email of this.withContent.values()) email.content = undefined;
    this.withContent.clear();
    this.contentBytes = 0;
    this.byInternetMessageId.clear();
    this.scheduled.clear();
    this.resetQuotas();
    this.totals = { requests: 0, accepted: 0, recipients: 0, rejected: 0, throttled: 0, faults: 0, unauthorized: 0, replays: 0 };
  }

  stop(): void {
    this.scheduled.stop();
  }

  private parse(body: Buffer) {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new InvalidRequest("body", "The request body is not valid JSON.");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw new InvalidRequest("body", "The request body must be a JSON object.");
    }
    if (typeof message.senderAddress !== "string" || !ADDRESS.test(message.senderAddress)) {
      throw new InvalidRequest("senderAddress", "senderAddress is required and must be an email address.");
    }
    const content = message.content as Record<string, unknown> | undefined;
    if (typeof content !== "object" || content === null) throw new InvalidRequest("content", "content is required.");
    if (typeof content.subject !== "string" || content.subject.trim() === "") {
      throw new InvalidRequest("content.subject", "content.subject is required.");
    }
    for (const part of ["plainText", "html"] as const) {
      if (content[part] !== undefined && content[part] !== null && typeof content[part] !== "string") {
        throw new InvalidRequest(`content.${part}`, `content.${part} must be a string.`);
      }
    }
    if (!content.plainText && !content.html) {
      throw new InvalidRequest("content", "content needs plainText or html.");
    }
    const recipients = message.recipients as Record<string, unknown> | undefined;
    if (typeof recipients !== "object" || recipients === null) {
      throw new InvalidRequest("recipients", "recipients is required.");
    }
    // The REST specification lists "to" as required, but the SDKs drop that requirement and the
    // service accepts a message with only cc or bcc: at least one recipient anywhere is what counts.
    const to = addressList(recipients.to, "recipients.to", false);
    const cc = addressList(recipients.cc, "recipients.cc", false);
    const bcc = addressList(recipients.bcc, "recipients.bcc", false);
    const total = to.length + cc.length + bcc.length;
    if (total === 0) throw new InvalidRequest("recipients", "At least one recipient is required.");
    if (total > MAX_RECIPIENTS) {
      throw new InvalidRequest("recipients", `At most ${MAX_RECIPIENTS} recipients (to, cc and bcc together); got ${total}.`);
    }
    const replyTo = addressList(message.replyTo, "replyTo", false);

    const attachments = message.attachments ?? [];
    if (!Array.isArray(attachments)) throw new InvalidRequest("attachments", "attachments must be an array.");
    attachments.forEach((a: unknown, i: number) => {
      const attachment = a as Record<string, unknown> | null;
      for (const field of ["name", "contentType", "contentInBase64"]) {
        if (typeof attachment?.[field] !== "string" || (attachment[field] as string).trim() === "") {
          throw new InvalidRequest(`attachments[${i}].${field}`, `attachments[${i}].${field} is required.`);
        }
      }
      const base64 = (attachment?.contentInBase64 as string).replace(/\s/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
        throw new InvalidRequest(`attachments[${i}].contentInBase64`, `attachments[${i}].contentInBase64 is not base64.`);
      }
    });

    const headersIn = message.headers ?? {};
    if (typeof headersIn !== "object" || headersIn === null || Array.isArray(headersIn)) {
      throw new InvalidRequest("headers", "headers must be an object of strings.");
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(headersIn)) {
      if (typeof value !== "string") throw new InvalidRequest(`headers.${name}`, `headers.${name} must be a string.`);
      headers[name] = value;
    }
    if (message.userEngagementTrackingDisabled !== undefined && typeof message.userEngagementTrackingDisabled !== "boolean") {
      throw new InvalidRequest("userEngagementTrackingDisabled", "userEngagementTrackingDisabled must be true or false.");
    }

    // Message-ID: kept when it is an RFC 2822 msg-id. With x-ms-acsemail-validate-message-id: true an
    // invalid one is refused (400); without it, it is replaced by one the service generates.
    const validateMessageId = headerValue(headers, "x-ms-acsemail-validate-message-id")?.trim().toLowerCase() === "true";
    const given = headerValue(headers, "message-id")?.trim();
    let internetMessageId: string | undefined;
    if (given !== undefined && isRfc2822MessageId(given)) {
      internetMessageId = given;
    } else if (given !== undefined && validateMessageId) {
      throw new InvalidRequest(
        "headers.Message-ID",
        `The Message-ID ${JSON.stringify(given)} is not an RFC 2822 msg-id such as <id@domain.com>.`,
      );
    }

    return {
      message,
      subject: content.subject,
      html: typeof content.html === "string" ? content.html : undefined,
      plainText: typeof content.plainText === "string" ? content.plainText : undefined,
      to,
      cc,
      bcc,
      replyTo,
      headers,
      attachments: attachments.length,
      internetMessageId,
      validateMessageId,
    };
  }

  private checkQuota(now: number, settings: SandboxSettings): AcsAnswer | undefined {
    if (settings.quotaPerMinute === null) this.perMinute = null;
    else if (this.perMinute?.limit !== settings.quotaPerMinute) this.perMinute = new SlidingWindow(settings.quotaPerMinute);
    if (settings.quotaPerHour === null) this.perHour = null;
    else if (this.perHour?.limit !== settings.quotaPerHour) this.perHour = new SlidingWindow(settings.quotaPerHour);

    const minuteMs = 60_000 * settings.timeScale;
    const wait = Math.max(this.perMinute?.wait(now, minuteMs) ?? 0, this.perHour?.wait(now, 60 * minuteMs) ?? 0);
    if (wait > 0) {
      this.totals.throttled++;
      return error(429, "TooManyRequests", "The sender has exceeded its email sending quota. Retry after the given time.", {
        "retry-after": String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }
    this.perMinute?.record(now);
    this.perHour?.record(now);
    return undefined;
  }

  /**
   * The 202 of an accepted send (or of a replay): always Running, with Operation-Location and Retry-After, as
   * ACS answers; the outcome is learned by polling, even when the operation has ended already (timeScale 0).
   */
  private accepted(email: AcceptedEmail, now: number): AcsAnswer {
    const location = new URL(`emails/operations/${email.operationId}`, this.options.baseUrl());
    location.searchParams.set("api-version", email.apiVersion);
    return {
      status: 202,
      headers: { "operation-location": location.href, "retry-after": this.retryAfter(email, now) },
      body: { id: email.operationId, status: "Running" },
    };
  }

  private statusOf(email: AcceptedEmail, now: number): EmailView["status"] {
    return now < email.endsAt ? "Running" : email.outcome;
  }

  /** Whole seconds until the operation ends, at least 1 (the SDK waits this long between polls). */
  private retryAfter(email: AcceptedEmail, now: number): string {
    return String(Math.max(1, Math.ceil((email.endsAt - now) / 1000)));
  }

  /**
   * Keeps the email (the newest retainedEmails are kept) and its content (the newest that fit in
   * retainedContentBytes). Content is dropped from the email object itself, so that events still scheduled
   * for an email, which hold the object, do not keep its content alive either.
   */
  private remember(email: AcceptedEmail, settings: SandboxSettings): void {
    const key = email.operationId.toLowerCase();
    this.emails.set(key, email);
    this.byInternetMessageId.set(email.internetMessageId, email.operationId);
    if (email.contentBytes <= settings.retainedContentBytes) {
      this.withContent.set(key, email);
      this.contentBytes += email.contentBytes;
    } else {
      email.content = undefined;
    }
    while (this.emails.size > settings.retainedEmails) {
      const oldest = this.emails.values().next().value as AcceptedEmail;
      this.emails.delete(oldest.operationId.toLowerCase());
      this.dropContent(oldest);
      if (this.byInternetMessageId.get(oldest.internetMessageId) === oldest.operationId) {
        this.byInternetMessageId.delete(oldest.internetMessageId);
      }
    }
    while (this.contentBytes > settings.retainedContentBytes && this.withContent.size > 0) {
      this.dropContent(this.withContent.values().next().value as AcceptedEmail);
    }
  }

  private dropContent(email: AcceptedEmail): void {
    if (this.withContent.delete(email.operationId.toLowerCase())) this.contentBytes -= email.contentBytes;
    email.content = undefined;
  }

  private view(email: AcceptedEmail, now: number): EmailView {
    return {
      operationId: email.operationId,
      status: this.statusOf(email, now),
      internetMessageId: email.internetMessageId,
      engagementMessageId: email.engagementMessageId,
      sender: email.sender,
      subject: email.subject,
      recipients: { to: email.to, cc: email.cc, bcc: email.bcc },
      replyTo: email.replyTo,
      headers: email.headers,
      attachments: email.attachments,
      requestBytes: email.requestBytes,
      userEngagementTrackingDisabled: email.userEngagementTrackingDisabled,
      apiVersion: email.apiVersion,
      acceptedAt: new Date(email.acceptedAt).toISOString(),
      endsAt: new Date(email.endsAt).toISOString(),
    };
  }

  /**
   * Schedules, per recipient, a delivery report and, for delivered ones, what people and machines do: opens
   * (a person's, an image or privacy proxy's), clicks (a person's, on one visible link that is not an
   * unsubscribe link; a link scanner's, on every link) and unsubscribes. Each of these becomes an Azure
   * engagement event when Azure tracking applies (the domain tracks, the message did not opt out, it has
   * HTML), and real HTTP requests when the message holds URLs the emulation may request (Mailroom's pixel
   * and tracked links, the List-Unsubscribe URL): both for the same act, as in reality.
   */
  private schedule(email: AcceptedEmail, html: string | undefined, settings: SandboxSettings): void {
    const random = this.options.random;
    const tracker = this.options.tracker;
    const azure = html !== undefined && settings.azureEngagementTracking && !email.userEngagementTrackingDisabled;
    // Modelled times (Azure's timing) are put on the real timeline, time-scaled from the acceptance: what an event
    // says happened, when it is published, and when a request to Mailroom's URLs is made are all one clock, so
    // that the events' timestamps and the times Mailroom's own endpoint sees its hits agree.
    const onTimeline = (at: number) => email.acceptedAt + (at - email.acceptedAt) * settings.timeScale;
    const add = (item: Omit<ScheduledEvent, "email" | "publishedAt">, reportedAt = item.happenedAt) => {
      if (item.kind !== "delivery-report" && !azure) return;
      const publishedAt = onTimeline(reportedAt + random.between(200, 900));
      const shape = item.kind === "delivery-report" ? undefined : this.engagementShape(email, settings);
      this.scheduled.add(publishedAt, { ...item, happenedAt: onTimeline(item.happenedAt), email, publishedAt, ...(shape ? { shape } : {}) });
    };
    const seconds = (range: [number, number]) => email.acceptedAt + random.between(range[0], range[1]) * 1000;

    // What the message offers: its links (every one, as ACS tracks them and scanners follow them), the
    // links a person may click, its unsubscribe link, Mailroom's open pixels, and the List-Unsubscribe URL.
    const page = html === undefined ? { anchors: [], images: [] } : readHtml(html);
    const unsubscribe = listUnsubscribeOf(email.headers);
    const httpAnchors = page.anchors.filter((a) => isHttpUrl(a.href));
    const unique = (urls: string[]) => [...new Set(urls)].slice(0, MAX_LINKS);
    const links = unique(httpAnchors.map((a) => a.href));
    const visibleLinks = unique(httpAnchors.filter((a) => !a.hidden && !isUnsubscribeLink(a, unsubscribe.url)).map((a) => a.href));
    const unsubscribeLink = httpAnchors.find((a) => !a.hidden && isUnsubscribeLink(a, unsubscribe.url))?.href;
    const requestable = (url: string) => (isTrackingUrl(url) || url === unsubscribe.url) && tracker.allows(url);
    const pixels = unique(page.images.filter((src) => isTrackingUrl(src) && tracker.allows(src)));
    const oneClickUrl = unsubscribe.url !== undefined && unsubscribe.oneClick && tracker.allows(unsubscribe.url) ? unsubscribe.url : undefined;
    const request = (at: number, origin: TrackingOrigin, recipient: string, method: TrackingRequest["method"], url: string, userAgent: string) =>
      tracker.schedule(onTimeline(at), {
        origin,
        operationId: email.operationId,
        recipient,
        method,
        url,
        userAgent,
        ...(method === "POST" ? { form: "List-Unsubscribe=One-Click" } : {}),
      });

    for (const recipient of [...email.to, ...email.cc, ...email.bcc]) {
      const outcome = deliveryOutcome(recipient, settings.statusMix, random);
      // The delivery attempt comes seconds after sending; its report, later (deliveryDelaySeconds): engagement
      // usually arrives before the delivery report, as with Azure.
      const reportedAt = seconds(settings.deliveryDelaySeconds);
      const deliveredAt = Math.min(reportedAt, seconds([0.5, 5]));
      add({ kind: "delivery-report", recipient, happenedAt: deliveredAt, ...outcome }, reportedAt);
      if (outcome.status !== "Delivered") continue;
      // What follows happens after the message arrives.
      const afterDelivery = (range: [number, number]) => deliveredAt + random.between(range[0], range[1]) * 1000;

      let viewedAt: number | undefined;
      const userAgent = random.pick(HUMAN_USER_AGENTS);
      if (html !== undefined) {
        // An image or privacy proxy fetches the images as the message arrives.
        if (random.chance(settings.machineOpenProbability)) {
          const at = afterDelivery([0.5, 4]);
          const proxy = random.pick(MACHINE_OPEN_USER_AGENTS);
          add({ kind: "machine-open", recipient, happenedAt: at, userAgent: proxy });
          for (const pixel of pixels) request(at, "machine-open", recipient, "GET", pixel, proxy);
        }
        // A link scanner follows every link, the hidden ones included, within a second or two.
        if (links.length > 0 && random.chance(settings.scannerClickProbability)) {
          const scanner = random.pick(SCANNER_USER_AGENTS);
          const methods = random.pick(SCANNER_METHODS);
          let at = afterDelivery([1, 8]);
          for (const url of links) {
            add({ kind: "scanner-click", recipient, happenedAt: at, url, userAgent: scanner });
            if (requestable(url)) {
              let step = at;
              for (const method of methods) {
                request(step, "scanner-click", recipient, method, url, scanner);
                step += random.between(20, 200);
              }
            }
            at += random.between(50, 400);
          }
        }
        // The person: opens (images shown), clicks one link they can see.
        if (random.chance(settings.viewProbability)) {
          viewedAt = afterDelivery(settings.engagementDelaySeconds);
          add({ kind: "human-view", recipient, happenedAt: viewedAt, userAgent });
          for (const pixel of pixels) request(viewedAt, "human-view", recipient, "GET", pixel, userAgent);
        }
        if (visibleLinks.length > 0 && random.chance(settings.clickProbability)) {
          const at = (viewedAt ?? afterDelivery(settings.engagementDelaySeconds)) + random.between(2_000, 60_000);
          const url = random.pick(visibleLinks);
          add({ kind: "human-click", recipient, happenedAt: at, url, userAgent });
          if (requestable(url)) request(at, "human-click", recipient, "GET", url, userAgent);
        }
      }
      // Unsubscribing: by the body's unsubscribe link (a click ACS tracks, the page, then its one-click
      // button), or without one by the mail client's unsubscribe button (the one-click POST alone).
      if ((unsubscribeLink !== undefined || oneClickUrl !== undefined) && random.chance(settings.unsubscribeRate)) {
        const at = (viewedAt ?? afterDelivery(settings.engagementDelaySeconds)) + random.between(5_000, 120_000);
        let postAt = at;
        if (unsubscribeLink !== undefined) {
          add({ kind: "unsubscribe-click", recipient, happenedAt: at, url: unsubscribeLink, userAgent });
          if (requestable(unsubscribeLink)) request(at, "unsubscribe-page", recipient, "GET", unsubscribeLink, userAgent);
          postAt = at + random.between(2_000, 15_000);
        }
        if (oneClickUrl !== undefined) request(postAt, "unsubscribe", recipient, "POST", oneClickUrl, userAgent);
      }
    }
  }

  /**
   * The spelling of one engagement event, mixed as in Microsoft's published samples: userActionTimestamp or
   * userActionTimeStamp, 0, 3, 6 or 7 fraction digits, the topic in several casings, view/View and click/Click,
   * and internetMessageId on a share of them. With a distinct messageId (engagementMessageId "distinct")
   * internetMessageId is the only key that ties the event to its message, so it is always there.
   */
  private engagementShape(email: AcceptedEmail, settings: SandboxSettings): EngagementShape {
    const random = this.options.random;
    return {
      timestampKey: random.chance(0.5) ? "userActionTimestamp" : "userActionTimeStamp",
      fractionDigits: random.pick(FRACTION_DIGITS),
      ticks: Math.floor(random.between(0, 10_000)),
      topicSpelling: Math.floor(random.between(0, TOPIC_SPELLINGS)),
      capitalised: random.chance(0.5),
      internetMessageId: email.engagementMessageId !== email.operationId || random.chance(settings.engagementInternetMessageId),
    };
  }

  private toEvent(item: ScheduledEvent): PublishedEvent {
    const email = item.email;
    const eventTime = new Date(item.publishedAt).toISOString();
    if (item.kind === "delivery-report") {
      return {
        id: crypto.randomUUID(),
        eventType: EMAIL_DELIVERY_REPORT,
        subject: `sender/${email.sender}/message/${email.operationId}`,
        eventTime,
        dataVersion: "1.0",
        origin: item.kind,
        data: {
          sender: email.sender,
          recipient: item.recipient,
          messageId: email.operationId,
          internetMessageId: email.internetMessageId,
          status: item.status,
          deliveryStatusDetails: {
            statusMessage: item.statusMessage,
            ...(item.recipientMailServerHostName ? { recipientMailServerHostName: item.recipientMailServerHostName } : {}),
          },
          deliveryAttemptTimestamp: acsTimestamp(item.happenedAt),
        },
      };
    }
    // No recipient: none of Microsoft's published engagement samples has one.
    const shape = item.shape as EngagementShape;
    const messageId = email.engagementMessageId;
    const engagementType = item.kind.endsWith("click") ? "click" : "view";
    return {
      id: crypto.randomUUID(),
      eventType: EMAIL_ENGAGEMENT,
      subject: `sender/${email.sender}/message/${messageId}`,
      eventTime,
      dataVersion: "1.0",
      origin: item.kind,
      topic: topicSpelling(this.options.topic, shape.topicSpelling),
      data: {
        sender: email.sender,
        messageId,
        ...(shape.internetMessageId ? { internetMessageId: email.internetMessageId } : {}),
        [shape.timestampKey]: engagementTimestamp(item.happenedAt, shape.fractionDigits, shape.ticks),
        engagementContext: item.url ?? "",
        userAgent: item.userAgent ?? "",
        engagementType: shape.capitalised ? `${engagementType[0].toUpperCase()}${engagementType.slice(1)}` : engagementType,
      },
    };
  }
}
