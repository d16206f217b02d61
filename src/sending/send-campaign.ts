// The send loop of one campaign, run by the send_campaign task. The decisions live in SQL
// (migrations: app_private.claim_messages, record_send_outcomes, next_send_at, schedule_sending); this
// file renders, talks to ACS and hands the outcomes back, one statement per batch:
//
//   claim a batch (leased) -> look up the ones in doubt, send the others -> record every outcome at once
//
// A few claims run at once (lanes) so that claiming and recording overlap with requests in flight. When no
// claim returns anything, next_send_at says when there is work again: soon, the job sleeps; later, the job is
// queued again for then (schedule_sending); never, the campaign is done (the ledger's triggers finish it).
import type { EmailMessage } from "@azure/communication-email";
import type pg from "pg";
import { AcsResource, type LookUpOutcome, type SendOutcome } from "./acs.ts";
import type { SendingSettings } from "./settings.ts";
import { TemplateError, compileCampaign, type CompiledCampaign } from "./template.ts";
import { storedUnsubscribeSecret, unsubscribeToken, type Query } from "./unsubscribe-token.ts";
import { addTracking } from "../tracking/rewrite.ts";
import { loadTrackingKeys, type TrackingKeys } from "../tracking/token.ts";

export interface ClaimedMessage {
  message_id: string;
  sender_id: string;
  sender_send_id: string | null;
  operation_id: string;
  internet_message_id: string;
  recipient: string;
  look_up: boolean;
  subscriber_id: string;
  subscriber_name: string | null;
  subscriber_attributes: Record<string, unknown> | null;
  list_id: string | null;
  list_name: string | null;
}

/** What became of one send: a message's (record_send_outcomes) or a confirmation's (record_confirmation_outcomes). */
export interface Outcome {
  id: string;
  // not_sent: a new send never handed to ACS (queued again). not_looked_up: a message in doubt whose look-up
  // was never made (it stays in doubt, looked up again after retryAfterMs, at once without).
  outcome: SendOutcome["outcome"] | LookUpOutcome["outcome"] | "not_sent" | "not_looked_up";
  code?: string;
  error?: string;
  retryAfterMs?: number;
  senderSendId: string | null;
}

export interface Sender {
  fromAddress: string;
  resource: AcsResource | undefined;
}

export interface CampaignContentRow {
  id: string;
  name: string;
  subject: string;
  html: string;
  text: string;
  /** azure, mailroom, both or off (fixed when the campaign starts; NULL before: the sender's). */
  engagement_tracking: EngagementTracking;
}

export type EngagementTracking = "azure" | "mailroom" | "both" | "off";

/** The subject and bodies the campaign sends (app_private.campaign_content: its own, else its template's). */
export const CAMPAIGN_CONTENT_SQL = `
  select c.id, c.name, content.subject, content.html_body as html, content.text_body as text,
    coalesce(c.engagement_tracking, (select s.engagement_tracking from app_public.senders as s where s.id = c.sender_id), 'azure')
      as engagement_tracking
  from app_public.campaigns as c cross join lateral app_private.campaign_content(c) as content
  where c.id = $1`;

const resources = new Map<string, AcsResource>();

/** One client per ACS resource for the life of the process (its connections are kept alive). */
function resourceFor(connectionString: string): AcsResource {
  let resource = resources.get(connectionString);
  if (!resource) {
    resource = new AcsResource(connectionString);
    resources.set(connectionString, resource);
  }
  return resource;
}

/** A sender's from-address and ACS resource (its own connection string, else the default; none without either). */
export async function loadSender(query: Query, senderId: string, settings: SendingSettings): Promise<Sender> {
  const { rows } = await query<{ from_address: string; connection_string: string | null }>(
    `select s.from_address, ss.connection_string
     from app_public.senders as s left join app_private.sender_secrets as ss on ss.sender_id = s.id
     where s.id = $1`,
    [senderId],
  );
  const connectionString = rows[0]?.connection_string ?? settings.defaultConnectionString;
  return { fromAddress: rows[0]?.from_address ?? "", resource: connectionString ? resourceFor(connectionString) : undefined };
}

export function unsubscribeUrl(publicUrl: string, secret: string, operationId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/unsubscribe/${unsubscribeToken(secret, operationId)}`;
}

/** How a message is tracked: Mailroom's own links (keys and PUBLIC_URL) when the campaign tracks mailroom or both. */
export interface MessageTracking {
  engagementTracking: EngagementTracking;
  keys: TrackingKeys | undefined;
  publicUrl: string;
}

/** The secret the unsubscribe links are signed with: UNSUBSCRIBE_SECRET, else the one kept in the database. */
export async function unsubscribeSigningSecret(query: Query, settings: Pick<SendingSettings, "unsubscribeSecret">): Promise<string> {
  return settings.unsubscribeSecret ?? (await storedUnsubscribeSecret(query));
}

/** How the campaign's messages are tracked; Mailroom's keys are loaded only when it tracks mailroom or both. */
export async function campaignTracking(
  query: Query,
  content: CampaignContentRow,
  settings: Pick<SendingSettings, "trackingSecrets" | "publicUrl">,
): Promise<MessageTracking> {
  const tracksOwn = content.engagement_tracking === "mailroom" || content.engagement_tracking === "both";
  return {
    engagementTracking: content.engagement_tracking,
    keys: tracksOwn ? await loadTrackingKeys(query, settings.trackingSecrets) : undefined,
    publicUrl: settings.publicUrl,
  };
}

/**
 * The ACS message for a claimed row: the ledger's Message-ID (validated by ACS), RFC 8058 one-click unsubscribe, and
 * the engagement tracking of the campaign: Mailroom's links and pixel (mailroom, both); Azure's tracking turned off
 * where it is not counted (mailroom, off), so that Azure does not rewrite the links as well.
 */
export function emailMessage(
  campaign: CompiledCampaign,
  content: CampaignContentRow,
  row: ClaimedMessage,
  senderAddress: string,
  listUnsubscribeUrl: string,
  tracking?: MessageTracking,
): EmailMessage {
  let rendered = campaign.render({
    subscriber: {
      id: row.subscriber_id,
      email: row.recipient,
      name: row.subscriber_name ?? "",
      attributes: row.subscriber_attributes ?? {},
    },
    list: row.list_id === null ? null : { id: row.list_id, name: row.list_name ?? "" },
    campaign: { id: content.id, name: content.name },
    unsubscribeUrl: listUnsubscribeUrl,
  });
  const mode = tracking?.engagementTracking ?? "azure";
  if ((mode === "mailroom" || mode === "both") && tracking?.keys) {
    rendered = addTracking(rendered, {
      keys: tracking.keys,
      publicUrl: tracking.publicUrl.replace(/\/+$/, ""),
      operationId: row.operation_id,
    });
  }
  return {
    senderAddress,
    content: { subject: rendered.subject, plainText: rendered.plainText, ...(rendered.html !== undefined ? { html: rendered.html } : {}) },
    recipients: { to: [{ address: row.recipient, ...(row.subscriber_name ? { displayName: row.subscriber_name } : {}) }] },
    headers: {
      "Message-ID": row.internet_message_id,
      "x-ms-acsemail-validate-message-id": "true",
      "List-Unsubscribe": `<${listUnsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...(mode === "mailroom" || mode === "off" ? { disableUserEngagementTracking: true } : {}),
  };
}

function limiter(size: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Waits ms, or less when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export type SendResult = "finished" | "scheduled" | "stopped";

/** Sends what the campaign has to send now; returns when nothing is left, or after queueing the job for later. */
export async function sendCampaign(
  query: Query,
  campaignId: string | number,
  signal: AbortSignal,
  settings: SendingSettings,
): Promise<SendResult> {
  const log = settings.log?.child({ component: "send", campaignId: String(campaignId) });
  const { rows: contentRows } = await query<CampaignContentRow>(CAMPAIGN_CONTENT_SQL, [campaignId]);
  const content = contentRows[0];
  if (!content) return "finished";

  let campaign: CompiledCampaign | undefined;
  let contentError: string | undefined;
  try {
    campaign = compileCampaign(content);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    contentError = error.message;
    const { rows } = await query<{ failed: number }>("select app_private.fail_queued_messages($1, $2) as failed", [campaignId, contentError]);
    log?.error({ failed: rows[0].failed }, `campaign ${campaignId} cannot be rendered: ${contentError}`);
  }
  const secret = await unsubscribeSigningSecret(query, settings);
  const tracking = await campaignTracking(query, content, settings);

  const senders = new Map<string, Promise<Sender>>();
  const senderOf = (id: string): Promise<Sender> => {
    let sender = senders.get(id);
    if (!sender) {
      sender = loadSender(query, id, settings);
      senders.set(id, sender);
    }
    return sender;
  };

  const noConnection = (senderId: string) => ({
    code: "NoConnectionString",
    error: `sender ${senderId} has no connection string and ACS_CONNECTION_STRING is not set`,
    retryAfterMs: 60_000,
  });
  // A message in doubt may have reached ACS: its only outcomes are its look-up's, or not_looked_up (it stays in
  // doubt for the next claim). Never not_sent or throttled, which queue a message to be sent again.
  const lookUp = async (row: ClaimedMessage, base: Pick<Outcome, "id" | "senderSendId">): Promise<Outcome> => {
    if (signal.aborted) return { ...base, outcome: "not_looked_up" };
    const sender = await senderOf(row.sender_id);
    if (!sender.resource) return { ...base, outcome: "not_looked_up", ...noConnection(row.sender_id) };
    return { ...base, ...(await sender.resource.lookUp(row.operation_id, settings.timeoutMs)) };
  };

  const slot = limiter(settings.concurrency);
  const handle = async (row: ClaimedMessage): Promise<Outcome> => {
    const base = { id: row.message_id, senderSendId: row.sender_send_id };
    if (row.look_up) return lookUp(row, base);
    if (signal.aborted) return { ...base, outcome: "not_sent" };
    const sender = await senderOf(row.sender_id);
    if (!sender.resource) return { ...base, outcome: "throttled", ...noConnection(row.sender_id) };
    if (!campaign) return { ...base, outcome: "failed", code: "InvalidContent", error: contentError ?? "invalid content" };
    const message = emailMessage(
      campaign,
      content,
      row,
      sender.fromAddress,
      unsubscribeUrl(settings.publicUrl, secret, row.operation_id),
      tracking,
    );
    return { ...base, ...(await sender.resource.send(message, row.operation_id, settings.timeoutMs)) };
  };

  const totals = { accepted: 0, failed: 0, unknown: 0, throttled: 0, lookedUp: 0 };
  const lane = async () => {
    while (!signal.aborted) {
      const { rows } = await query<ClaimedMessage>("select * from app_private.claim_messages($1, $2, $3)", [
        campaignId,
        settings.batchSize,
        settings.leaseSeconds,
      ]);
      if (rows.length === 0) return;
      const outcomes = await Promise.all(rows.map((row) => slot(() => handle(row))));
      // A 429 (or a refused key) pauses its sender first, in its own statement, then the outcomes are recorded.
      const pauses = new Map<string, Outcome>();
      outcomes.forEach((o, i) => {
        const senderId = rows[i].sender_id;
        if (o.outcome === "throttled" && (o.retryAfterMs ?? 0) >= (pauses.get(senderId)?.retryAfterMs ?? 0)) pauses.set(senderId, o);
      });
      for (const [senderId, o] of pauses) {
        await query("select app_private.pause_sender($1, $2, $3)", [senderId, o.retryAfterMs ?? 1000, `${o.code}: ${o.error}`]);
      }
      await query("select app_private.record_send_outcomes($1::jsonb, $2, $3)", [
        JSON.stringify(outcomes),
        settings.retryBaseMs,
        settings.maxAttempts,
      ]);
      for (const o of outcomes) {
        if (o.outcome === "accepted") totals.accepted++;
        else if (o.outcome === "failed") totals.failed++;
        else if (o.outcome === "unknown") totals.unknown++;
        else if (o.outcome === "throttled") totals.throttled++;
      }
      totals.lookedUp += rows.filter((r, i) => r.look_up && outcomes[i].outcome !== "not_looked_up").length;
      const problem = outcomes.find((o) => o.outcome === "unknown" || o.outcome === "throttled" || (o.outcome === "not_looked_up" && o.code));
      if (problem) log?.warn({ outcome: problem.outcome, code: problem.code }, problem.error ?? problem.outcome);
    }
  };

  for (;;) {
    await Promise.all(Array.from({ length: settings.lanes }, lane));
    if (signal.aborted) {
      await query("select app_private.schedule_sending($1)", [campaignId]);
      log?.info(totals, "send job stopped; queued again");
      return "stopped";
    }
    const { rows } = await query<{ wait_ms: number | null }>(
      "select extract(epoch from app_private.next_send_at($1) - clock_timestamp()) * 1000 as wait_ms",
      [campaignId],
    );
    const waitMs = rows[0]?.wait_ms === null || rows[0]?.wait_ms === undefined ? null : Number(rows[0].wait_ms);
    if (waitMs === null) {
      log?.info(totals, "nothing left to send");
      return "finished";
    }
    if (waitMs > settings.maxInlineWaitMs) {
      await query("select app_private.schedule_sending($1)", [campaignId]);
      log?.info({ ...totals, waitMs: Math.round(waitMs) }, "send job queued again for later");
      return "scheduled";
    }
    await sleep(Math.max(5, waitMs), signal);
  }
}
