// Preview: a campaign rendered for one subscriber exactly as the send task would send it, so that what people will
// receive, and any template error (unknown fields, stray braces, empty parts), shows before the campaign starts.
//
// Nothing here renders on its own: the content is the send task's (CAMPAIGN_CONTENT_SQL), compiled by the same
// compileCampaign, made into the ACS request by the same emailMessage with the campaign's tracking (campaignTracking:
// Mailroom's links, open pixel and honeypot when it tracks mailroom or both) and the same unsubscribe link
// (unsubscribeUrl with the same secret). Only the ids are the preview's own: a Message-ID made as start_campaign makes
// them (app_private.new_internet_message_id) and PREVIEW_OPERATION_ID, which no message has: the preview's tracking
// links answer and store nothing, its unsubscribe link unsubscribes no one. The real ones are generated at start.
//
// Who it is rendered for: the subscriber named (by id or email), eligible or not (`eligible` says whether the
// campaign would go to them); else the first eligible recipient of the campaign's lists (the rule of
// start_campaign); else, when there is none, a made-up sample person. `sample` and `notes` say which.
import type { EmailMessage } from "@azure/communication-email";
import {
  CAMPAIGN_CONTENT_SQL,
  campaignTracking,
  emailMessage,
  unsubscribeSigningSecret,
  unsubscribeUrl,
  type CampaignContentRow,
  type ClaimedMessage,
  type EngagementTracking,
} from "./send-campaign.ts";
import { PREVIEW_OPERATION_ID } from "../tracking/token.ts";
import type { SendingSettings } from "./settings.ts";
import { compileCampaign } from "./template.ts";
import type { Query } from "./unsubscribe-token.ts";

/** Whom to render for: a subscriber's id or email address. */
export type PreviewSubscriber = { id: string } | { email: string };

/** What a preview needs of the sending settings: where links point and the signing secrets. */
export type PreviewSettings = Pick<SendingSettings, "publicUrl" | "unsubscribeSecret" | "trackingSecrets">;

export interface PreviewHeader {
  name: string;
  value: string;
}

export interface PreviewRecipient {
  /** null for the made-up sample person. */
  subscriberId: string | null;
  email: string;
  name: string | null;
  /** The list the fields list.id and list.name come from (the first of the campaign's lists they are on). */
  listId: string | null;
  listName: string | null;
  /** Whether starting the campaign now would give them a message. */
  eligible: boolean;
}

export interface CampaignPreview {
  campaignId: string;
  campaignName: string;
  recipient: PreviewRecipient;
  /** No subscriber was named: the preview chose the first eligible recipient, or made one up. */
  sample: boolean;
  subject: string;
  html: string | null;
  text: string;
  /** The message's headers in order: From, To, Reply-To (when set), Subject, then those the ACS request sets. */
  headers: PreviewHeader[];
  engagementTracking: {
    /** The campaign's source of engagement numbers: azure, mailroom, both or off. */
    mode: EngagementTracking;
    /** Mailroom's tracked links, open pixel and honeypot are in the content. */
    mailroomTracking: boolean;
    /** The request turns Azure's engagement tracking off (disableUserEngagementTracking). */
    azureTrackingDisabled: boolean;
  };
  /** What a reader should know: which ids are the preview's own, who was chosen and why. */
  notes: string[];
  /** The ACS request body, as the send task would hand it to ACS. */
  message: EmailMessage;
}

/** The campaign or subscriber does not exist (CLI exit 3). */
export class PreviewNotFound extends Error {}

/** The campaign cannot be previewed as it is (no sender yet; CLI exit 4). */
export class PreviewRefused extends Error {}

/** The made-up person of a campaign whose lists have no eligible recipient. */
export const SAMPLE_PERSON = { email: "sample@example.com", name: "Sample Person" } as const;

interface PersonRow {
  id: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown> | null;
  list_id: string | null;
  list_name: string | null;
  eligible: boolean;
}

// start_campaign's rule, in two parts: a membership that may receive the campaign (confirmed on a double opt-in
// list, not unsubscribed on a single opt-in one), and a subscriber who may (enabled, not stopped by the bounce policy).
const MEMBERSHIP_RECEIVES = "case l.opt_in when 'double' then lm.status = 'confirmed' else lm.status <> 'unsubscribed' end";
const SUBSCRIBER_RECEIVES = `s.status = 'enabled' and not exists (
    select from app_public.bounces as b join app_public.bounce_policies as p on p.bounce_type = b.bounce_type
    where b.subscriber_id = s.id and p.action <> 'none'
    group by b.bounce_type, p.threshold
    having count(*) >= p.threshold
  )`;

/**
 * A subscriber with the list the send task renders list.* from (claim_messages: the first of the campaign's lists
 * they are on) and whether the campaign goes to them (start_campaign's rule, above). `where` picks the subscriber;
 * $1 is the campaign, $2 the subscriber's id or email if any.
 */
function personSql(where: string): string {
  return `
  select s.id, s.email, s.name, s.attributes, first_list.id as list_id, first_list.name as list_name, e.eligible
  from app_public.subscribers as s
  cross join lateral (
    select ${SUBSCRIBER_RECEIVES} and exists (
      select from app_public.campaign_lists as cl
      join app_public.lists as l on l.id = cl.list_id
      join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = s.id
      where cl.campaign_id = $1 and ${MEMBERSHIP_RECEIVES}
    ) as eligible
  ) as e
  left join lateral (
    select l.id, l.name
    from app_public.campaign_lists as cl
    join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = s.id
    join app_public.lists as l on l.id = cl.list_id
    where cl.campaign_id = $1
    order by l.id
    limit 1
  ) as first_list on true
  where ${where}`;
}

const BY_ID = personSql("s.id = $2");
const BY_EMAIL = personSql("lower(s.email) = lower(btrim($2))");
// The first eligible recipient: the smallest of each list's first one (read in the order of the memberships' primary
// key, list then subscriber, so that a list's scan stops at its first eligible member).
const FIRST_ELIGIBLE = personSql(`s.id = (
    select min(first.id) from app_public.campaign_lists as cl
    join app_public.lists as l on l.id = cl.list_id
    cross join lateral (
      select lm.subscriber_id as id
      from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
      where lm.list_id = cl.list_id and ${MEMBERSHIP_RECEIVES} and ${SUBSCRIBER_RECEIVES}
      order by lm.subscriber_id
      limit 1
    ) as first
    where cl.campaign_id = $1
  )`);

/** Reads a --subscriber / subscriberId argument: digits are an id, anything with "@" an email address. */
export function previewSubscriber(value: string): PreviewSubscriber | undefined {
  const trimmed = value.trim();
  if (/^[1-9][0-9]{0,18}$/.test(trimmed)) return { id: trimmed };
  if (trimmed.includes("@")) return { email: trimmed };
  return undefined;
}

/** "Name <address>", the name quoted when it holds characters that RFC 5322 allows only in quotes. */
export function formatAddress(address: string, displayName?: string | null): string {
  if (!displayName) return address;
  const name = /^[\p{L}\p{N} !#$%&'*+/=?^_`{|}~-]+$/u.test(displayName) ? displayName : `"${displayName.replace(/(["\\])/g, "\\$1")}"`;
  return `${name} <${address}>`;
}

/**
 * Renders the campaign as the send task would send it to the subscriber (default: a sample one, see above).
 * `query` runs as the owner (it reads the content rule app_private.campaign_content and the signing secrets).
 * Throws TemplateError (every template error), PreviewNotFound, PreviewRefused.
 */
export async function previewCampaign(
  query: Query,
  campaignId: string,
  subscriber: PreviewSubscriber | undefined,
  settings: PreviewSettings,
): Promise<CampaignPreview> {
  if (!/^[1-9][0-9]{0,18}$/.test(campaignId)) throw new PreviewNotFound(`campaign ${campaignId} does not exist`);
  const { rows: contentRows } = await query<CampaignContentRow>(CAMPAIGN_CONTENT_SQL, [campaignId]);
  const content = contentRows[0];
  if (!content) throw new PreviewNotFound(`campaign ${campaignId} does not exist`);
  const campaign = compileCampaign(content);

  const { rows: senders } = await query<{ from_address: string; display_name: string; sending_domain: string }>(
    `select s.from_address, s.display_name, s.sending_domain
     from app_public.campaigns as c join app_public.senders as s on s.id = c.sender_id
     where c.id = $1`,
    [campaignId],
  );
  const sender = senders[0];
  if (!sender) throw new PreviewRefused(`campaign ${campaignId} has no sender: give it one to preview its messages`);

  const notes: string[] = [];
  let person: PersonRow | undefined;
  if (subscriber) {
    const { rows } = "id" in subscriber ? await query<PersonRow>(BY_ID, [campaignId, subscriber.id]) : await query<PersonRow>(BY_EMAIL, [campaignId, subscriber.email]);
    person = rows[0];
    if (!person) throw new PreviewNotFound(`subscriber ${"id" in subscriber ? subscriber.id : subscriber.email} does not exist`);
    if (!person.eligible) notes.push(`${person.email} would not receive this campaign: not an enabled, subscribed member of its lists, or stopped by the bounce policy`);
  } else {
    person = (await query<PersonRow>(FIRST_ELIGIBLE, [campaignId])).rows[0];
    if (person) notes.push(`a sample: the first recipient of the campaign's lists (subscriber ${person.id}); --subscriber ID|EMAIL picks another`);
  }
  if (!person) {
    // The fields of a made-up person; list.* from the campaign's first list, as for a test email.
    const { rows } = await query<{ id: string; name: string }>(
      `select l.id, l.name from app_public.campaign_lists as cl join app_public.lists as l on l.id = cl.list_id
       where cl.campaign_id = $1 order by l.id limit 1`,
      [campaignId],
    );
    person = { id: "0", email: SAMPLE_PERSON.email, name: SAMPLE_PERSON.name, attributes: {}, list_id: rows[0]?.id ?? null, list_name: rows[0]?.name ?? null, eligible: false };
    notes.push(`a made-up sample person (${SAMPLE_PERSON.email}, subscriber.id 0, no attributes): the campaign's lists have no eligible recipient`);
  }

  // A Message-ID made as start_campaign makes them, and the preview's operation id, which no message has: its
  // tracking links answer but store nothing, its unsubscribe link unsubscribes nobody.
  const { rows: ids } = await query<{ operation_id: string; internet_message_id: string }>(
    "select $2::text as operation_id, app_private.new_internet_message_id($1) as internet_message_id",
    [sender.sending_domain, PREVIEW_OPERATION_ID],
  );
  notes.push("Message-ID and the operation id in the unsubscribe and tracking links are the preview's own: each message gets its own at start");

  const row: ClaimedMessage = {
    message_id: "0",
    sender_id: "0",
    sender_send_id: null,
    operation_id: ids[0].operation_id,
    internet_message_id: ids[0].internet_message_id,
    recipient: person.email,
    look_up: false,
    subscriber_id: person.id,
    subscriber_name: person.name,
    subscriber_attributes: person.attributes,
    list_id: person.list_id,
    list_name: person.list_name,
  };
  const secret = await unsubscribeSigningSecret(query, settings);
  const tracking = await campaignTracking(query, content, settings);
  const message = emailMessage(campaign, content, row, sender.from_address, unsubscribeUrl(settings.publicUrl, secret, row.operation_id), tracking);

  const headers: PreviewHeader[] = [
    { name: "From", value: formatAddress(message.senderAddress, sender.display_name) },
    { name: "To", value: message.recipients.to?.map((to) => formatAddress(to.address, to.displayName)).join(", ") ?? "" },
    ...(message.replyTo?.length ? [{ name: "Reply-To", value: message.replyTo.map((to) => formatAddress(to.address, to.displayName)).join(", ") }] : []),
    { name: "Subject", value: message.content.subject },
    ...Object.entries(message.headers ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const mailroomTracking = tracking.keys !== undefined;
  return {
    campaignId: content.id,
    campaignName: content.name,
    recipient: {
      subscriberId: person.id === "0" ? null : person.id,
      email: person.email,
      name: person.name,
      listId: person.list_id,
      listName: person.list_name,
      eligible: person.eligible,
    },
    sample: subscriber === undefined,
    subject: message.content.subject,
    html: message.content.html ?? null,
    text: message.content.plainText ?? "",
    headers,
    engagementTracking: { mode: content.engagement_tracking, mailroomTracking, azureTrackingDisabled: message.disableUserEngagementTracking === true },
    notes,
    message,
  };
}

// --- The preview as a MIME message (message.eml), to open in a mail client -------------------------------------

/** A header value as RFC 2047 encoded words when it is not plain ASCII. */
function encodeHeaderValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  // Encoded words of at most 75 characters: 45 bytes of UTF-8 make 60 base64 characters; never split a character.
  const words: string[] = [];
  let chunk = "";
  for (const char of value) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString("base64")}?=`).join("\r\n ");
}

/** An address header: the display names encoded, the addresses as they are. */
function encodeAddressHeader(value: string): string {
  return value
    .split(", ")
    .map((one) => {
      const match = /^(.*) <([^>]*)>$/.exec(one);
      return match && !/^[\x20-\x7e]*$/.test(match[1]) ? `${encodeHeaderValue(match[1].replace(/^"|"$/g, ""))} <${match[2]}>` : one;
    })
    .join(", ");
}

/** Quoted-printable (RFC 2045) of UTF-8 text, lines of at most 76 characters, CRLF line breaks. */
export function quotedPrintable(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, "utf8");
      let out = "";
      let width = 0;
      bytes.forEach((byte, i) => {
        const last = i === bytes.length - 1;
        const plain = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
        const piece = plain ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
        if (width + piece.length > 75) {
          out += "=\r\n";
          width = 0;
        }
        out += piece;
        width += piece.length;
      });
      return out;
    })
    .join("\r\n");
}

/**
 * The preview as an RFC 5322 message: its headers (with Date and MIME-Version), and the text and HTML parts as
 * multipart/alternative (text alone when there is no HTML), quoted-printable UTF-8, CRLF line breaks.
 */
export function previewEml(preview: CampaignPreview, date = new Date()): string {
  const boundary = `mailroom-preview-${preview.campaignId}-${date.getTime().toString(36)}`;
  const addressHeaders = new Set(["from", "to", "reply-to"]);
  const head = [
    ...preview.headers.map(({ name, value }) => `${name}: ${addressHeaders.has(name.toLowerCase()) ? encodeAddressHeader(value) : encodeHeaderValue(value)}`),
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    "MIME-Version: 1.0",
  ];
  const part = (type: string, body: string) =>
    [`Content-Type: ${type}; charset=utf-8`, "Content-Transfer-Encoding: quoted-printable", "", quotedPrintable(body)].join("\r\n");
  if (preview.html === null) return [...head, part("text/plain", preview.text), ""].join("\r\n");
  return [
    ...head,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    part("text/plain", preview.text),
    `--${boundary}`,
    part("text/html", preview.html),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** The headers as "Name: value" lines, as the message carries them (before any encoding). */
export function previewHeaderLines(preview: CampaignPreview): string {
  return preview.headers.map(({ name, value }) => `${name}: ${value}`).join("\n");
}
