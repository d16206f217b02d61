// Confirmation emails of double opt-in, sent by the send_confirmations task: one job per sender (job key
// send_confirmations:SENDER), the decisions in SQL (migrations/sql/55-opt-in: claim_confirmations,
// record_confirmation_outcomes, confirmations_next_send_at), this file rendering and talking to ACS:
//
//   claim (within the sender's quotas and send window, reserved like campaign messages) -> look up the ones in
//   doubt, send the others -> record every outcome at once -> when nothing is claimable: sleep, or queue the job
//   for when there is room again, or stop
//
// Each email has its own Message-ID and operation id (app_public.confirmations), so its delivery report is
// recognised and counted in no campaign. Its content is the list's (confirmation_subject, _html, _text) or the
// built-in one; fields: subscriber.email, subscriber.name, list.id, list.name, confirm_url.
import type { EmailMessage } from "@azure/communication-email";
import { confirmationUrl } from "./confirmation-token.ts";
import { loadSender, sleep, type Outcome, type Sender } from "./send-campaign.ts";
import type { SendingSettings } from "./settings.ts";
import { TemplateError, escapeHtml, htmlToText } from "./template.ts";
import { storedUnsubscribeSecret, type Query } from "./unsubscribe-token.ts";

export const DEFAULT_CONFIRMATION_SUBJECT = "Please confirm your subscription to {{ list.name }}";
export const DEFAULT_CONFIRMATION_HTML = `<!doctype html>
<html lang="en"><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:36rem">
<p>Someone, hopefully you, asked to subscribe {{ subscriber.email }} to <strong>{{ list.name }}</strong>.</p>
<p>To confirm, open this link and press the button on the page:</p>
<p><a href="{{ confirm_url }}">Confirm my subscription to {{ list.name }}</a></p>
<p>If it was not you, ignore this email: you will not be subscribed, and you will not hear from us again.</p>
</body></html>`;

export interface ConfirmationFields {
  subscriber: { email: string; name: string };
  list: { id: string | number; name: string };
  confirmUrl: string;
}

export interface ConfirmationContent {
  subject: string | null;
  html: string | null;
  text: string | null;
}

const TAG = /\{\{\{\s*([^{}]*?)\s*\}\}\}|\{\{(?!\{)\s*([^{}]*?)\s*\}\}/g;

function fieldValue(field: string, fields: ConfirmationFields): string | undefined {
  switch (field) {
    case "subscriber.email":
      return fields.subscriber.email;
    case "subscriber.name":
      return fields.subscriber.name;
    case "list.id":
      return String(fields.list.id);
    case "list.name":
      return fields.list.name;
    case "confirm_url":
      return fields.confirmUrl;
    default:
      return undefined;
  }
}

/** One part rendered: {{ field }} escaped in HTML, {{{ field }}} as is. Throws TemplateError on an unknown field. */
export function renderConfirmationPart(source: string, part: string, mode: "html" | "text", fields: ConfirmationFields): string {
  return source.replace(TAG, (_whole: string, raw: string | undefined, plain: string | undefined) => {
    const field = raw ?? plain ?? "";
    const value = fieldValue(field, fields);
    if (value === undefined) throw new TemplateError(`the confirmation ${part} has an unknown field "${field}"`);
    return mode === "html" && raw === undefined ? escapeHtml(value) : value;
  });
}

/**
 * Subject, HTML and text of a confirmation email. Defaults: the built-in subject; the built-in HTML unless the list
 * has only a text part; the text part derived from the HTML when the list gives none.
 */
export function renderConfirmation(content: ConfirmationContent, fields: ConfirmationFields): { subject: string; html: string | undefined; plainText: string } {
  const subject = renderConfirmationPart(content.subject ?? DEFAULT_CONFIRMATION_SUBJECT, "subject", "text", fields).replace(/\s+/g, " ").trim();
  const htmlSource = content.html ?? (content.text === null ? DEFAULT_CONFIRMATION_HTML : null);
  const html = htmlSource === null ? undefined : renderConfirmationPart(htmlSource, "HTML part", "html", fields);
  const plainText = content.text !== null ? renderConfirmationPart(content.text, "text part", "text", fields) : htmlToText(html ?? "");
  return { subject, html, plainText };
}

export interface ClaimedConfirmation {
  confirmation_id: string;
  sender_send_id: string | null;
  operation_id: string;
  internet_message_id: string;
  recipient: string;
  look_up: boolean;
  subscriber_name: string | null;
  list_id: string;
  list_name: string | null;
  confirmation_subject: string | null;
  confirmation_html: string | null;
  confirmation_text: string | null;
}

/** The ACS message of a confirmation: its own Message-ID (validated by ACS), no engagement tracking. */
export function confirmationMessage(row: ClaimedConfirmation, senderAddress: string, confirmUrl: string): EmailMessage {
  const rendered = renderConfirmation(
    { subject: row.confirmation_subject, html: row.confirmation_html, text: row.confirmation_text },
    { subscriber: { email: row.recipient, name: row.subscriber_name ?? "" }, list: { id: row.list_id, name: row.list_name ?? "" }, confirmUrl },
  );
  return {
    senderAddress,
    content: { subject: rendered.subject, plainText: rendered.plainText, ...(rendered.html !== undefined ? { html: rendered.html } : {}) },
    recipients: { to: [{ address: row.recipient, ...(row.subscriber_name ? { displayName: row.subscriber_name } : {}) }] },
    headers: { "Message-ID": row.internet_message_id, "x-ms-acsemail-validate-message-id": "true" },
    // Nobody's opens or clicks are counted for a confirmation, and Azure must not rewrite its link.
    disableUserEngagementTracking: true,
  };
}

export type ConfirmationSendResult = { result: "finished" | "scheduled" | "stopped"; accepted: number; failed: number };

/** Sends the sender's confirmation emails that may go now; returns when none is left, or after queueing the job for later. */
export async function sendConfirmations(query: Query, senderId: string | number, signal: AbortSignal, settings: SendingSettings): Promise<ConfirmationSendResult> {
  const log = settings.log?.child({ component: "confirmations", senderId: String(senderId) });
  const sender: Sender = await loadSender(query, String(senderId), settings);
  const secret = settings.unsubscribeSecret ?? (await storedUnsubscribeSecret(query));
  const totals = { accepted: 0, failed: 0 };
  const noConnection = { code: "NoConnectionString", error: `sender ${senderId} has no connection string and ACS_CONNECTION_STRING is not set`, retryAfterMs: 60_000 };

  const handle = async (row: ClaimedConfirmation): Promise<Outcome> => {
    const base = { id: row.confirmation_id, senderSendId: row.sender_send_id };
    if (row.look_up) {
      // Looked up, never sent again before: it may have reached ACS.
      if (signal.aborted) return { ...base, senderSendId: null, outcome: "not_looked_up" };
      if (!sender.resource) return { ...base, senderSendId: null, outcome: "not_looked_up", ...noConnection };
      return { ...base, senderSendId: null, ...(await sender.resource.lookUp(row.operation_id, settings.timeoutMs)) };
    }
    if (signal.aborted) return { ...base, outcome: "not_sent" };
    if (!sender.resource) return { ...base, outcome: "throttled", ...noConnection };
    let message: EmailMessage;
    try {
      message = confirmationMessage(row, sender.fromAddress, confirmationUrl(settings.publicUrl, secret, row.confirmation_id));
    } catch (error) {
      if (error instanceof TemplateError) return { ...base, outcome: "failed", code: "InvalidContent", error: error.message };
      throw error;
    }
    return { ...base, ...(await sender.resource.send(message, row.operation_id, settings.timeoutMs)) };
  };

  for (;;) {
    while (!signal.aborted) {
      const { rows } = await query<ClaimedConfirmation>("select * from app_private.claim_confirmations($1, $2, $3)", [
        senderId,
        settings.batchSize,
        settings.leaseSeconds,
      ]);
      if (rows.length === 0) break;
      const outcomes: Outcome[] = [];
      // At most SEND_CONCURRENCY requests at once.
      for (let i = 0; i < rows.length; i += settings.concurrency) {
        outcomes.push(...(await Promise.all(rows.slice(i, i + settings.concurrency).map(handle))));
      }
      const throttled = outcomes.filter((o) => o.outcome === "throttled").sort((a, b) => (b.retryAfterMs ?? 0) - (a.retryAfterMs ?? 0))[0];
      if (throttled) {
        await query("select app_private.pause_sender($1, $2, $3)", [senderId, throttled.retryAfterMs ?? 1000, `${throttled.code}: ${throttled.error}`]);
        log?.warn({ code: throttled.code }, throttled.error ?? "throttled");
      }
      await query("select app_private.record_confirmation_outcomes($1::jsonb, $2, $3)", [JSON.stringify(outcomes), settings.retryBaseMs, settings.maxAttempts]);
      for (const o of outcomes) {
        if (o.outcome === "accepted") totals.accepted++;
        else if (o.outcome === "failed") totals.failed++;
      }
    }
    if (signal.aborted) {
      await query("select app_private.queue_confirmation_job($1)", [senderId]);
      return { result: "stopped", ...totals };
    }
    const { rows } = await query<{ next: Date | null; wait_ms: number | null }>(
      "select x.next, extract(epoch from x.next - clock_timestamp()) * 1000 as wait_ms from app_private.confirmations_next_send_at($1) as x(next)",
      [senderId],
    );
    const next = rows[0]?.next ?? null;
    if (next === null) {
      log?.info(totals, "no confirmation email left to send");
      return { result: "finished", ...totals };
    }
    const waitMs = Number(rows[0]?.wait_ms ?? 0);
    if (waitMs > settings.maxInlineWaitMs) {
      await query("select app_private.queue_confirmation_job($1, $2)", [senderId, next]);
      log?.info({ ...totals, waitMs: Math.round(waitMs) }, "confirmation job queued again for later");
      return { result: "scheduled", ...totals };
    }
    await sleep(Math.max(5, waitMs), signal);
  }
}
