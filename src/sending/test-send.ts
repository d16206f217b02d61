// Test emails, run by the send_test_email task: a test send recorded by app_public.send_test_email is
// rendered like a campaign message and sent through the campaign's sender with the same request as the send
// task (beginSend under the test send's operation id, no polling). Its subject starts with "[Test] ".
//
// Fields: when the address is a subscriber's, theirs (and the first of the campaign's lists they are on);
// otherwise sample values: subscriber.email is the address, subscriber.name "Test Recipient", subscriber.id 0,
// every subscriber.attributes.KEY empty, list the campaign's first list. The unsubscribe link is signed for
// the test send: it names no message, so it unsubscribes no one.
import type { EmailMessage } from "@azure/communication-email";
import { CAMPAIGN_CONTENT_SQL, emailMessage, loadSender, unsubscribeUrl, type CampaignContentRow, type ClaimedMessage } from "./send-campaign.ts";
import type { SendingSettings } from "./settings.ts";
import { TemplateError, compileCampaign } from "./template.ts";
import { storedUnsubscribeSecret, type Query } from "./unsubscribe-token.ts";

export const TEST_SUBJECT_PREFIX = "[Test] ";
export const SAMPLE_NAME = "Test Recipient";

interface QueuedTestSend {
  test_send_id: string;
  campaign_id: string;
  sender_id: string;
  operation_id: string;
  internet_message_id: string;
  recipient: string;
  subscriber_id: string | null;
  subscriber_name: string | null;
  subscriber_attributes: Record<string, unknown> | null;
  list_id: string | null;
  list_name: string | null;
}

export type TestSendResult = { status: "accepted" } | { status: "failed"; error: string } | { status: "already sent" };

/** The ACS message of a test send: the campaign's, rendered for the test send's fields, with "[Test] " before the subject. */
export function testEmailMessage(
  content: CampaignContentRow,
  row: QueuedTestSend,
  senderAddress: string,
  listUnsubscribeUrl: string,
): EmailMessage {
  const subscriber = row.subscriber_id !== null;
  const claimed: ClaimedMessage = {
    message_id: row.test_send_id,
    sender_id: row.sender_id,
    sender_send_id: null,
    operation_id: row.operation_id,
    internet_message_id: row.internet_message_id,
    recipient: row.recipient,
    look_up: false,
    subscriber_id: row.subscriber_id ?? "0",
    subscriber_name: subscriber ? row.subscriber_name : SAMPLE_NAME,
    subscriber_attributes: row.subscriber_attributes ?? {},
    list_id: row.list_id,
    list_name: row.list_name,
  };
  const message = emailMessage(compileCampaign(content), content, claimed, senderAddress, listUnsubscribeUrl);
  return {
    ...message,
    content: { ...message.content, subject: TEST_SUBJECT_PREFIX + message.content.subject },
    // A sample name is not the recipient's: no display name then.
    recipients: subscriber ? message.recipients : { to: [{ address: row.recipient }] },
  };
}

/** Sends a queued test send and records its outcome; a test send already sent is left as it is. */
export async function sendTestEmail(query: Query, testSendId: string | number, settings: SendingSettings): Promise<TestSendResult> {
  const { rows } = await query<QueuedTestSend>("select * from app_private.queued_test_send($1)", [testSendId]);
  const row = rows[0];
  if (!row) return { status: "already sent" };
  let result: TestSendResult;
  try {
    result = await send(query, row, settings);
  } catch (error) {
    // Nothing was sent (a request to ACS answers with an outcome, never by throwing): say why, once.
    result = { status: "failed", error: `the test email could not be sent: ${(error as Error).message}` };
  }
  await query(
    "update app_public.test_sends set status = $2, error = $3, sent_at = now() where id = $1 and status = 'queued'",
    [testSendId, result.status, result.status === "failed" ? result.error : null],
  );
  return result;
}

async function send(query: Query, row: QueuedTestSend, settings: SendingSettings): Promise<{ status: "accepted" } | { status: "failed"; error: string }> {
  const { rows } = await query<CampaignContentRow>(CAMPAIGN_CONTENT_SQL, [row.campaign_id]);
  if (!rows[0]) return { status: "failed", error: `campaign ${row.campaign_id} does not exist` };
  const sender = await loadSender(query, row.sender_id, settings);
  if (!sender.resource) {
    return { status: "failed", error: `sender ${row.sender_id} has no connection string and ACS_CONNECTION_STRING is not set` };
  }
  const secret = settings.unsubscribeSecret ?? (await storedUnsubscribeSecret(query));
  let message: EmailMessage;
  try {
    message = testEmailMessage(rows[0], row, sender.fromAddress, unsubscribeUrl(settings.publicUrl, secret, row.operation_id));
  } catch (error) {
    if (error instanceof TemplateError) return { status: "failed", error: error.message };
    throw error;
  }
  const outcome = await sender.resource.send(message, row.operation_id, settings.timeoutMs);
  switch (outcome.outcome) {
    case "accepted":
      return { status: "accepted" };
    case "failed":
      return { status: "failed", error: `ACS refused the email: ${outcome.code}: ${outcome.error}` };
    case "throttled":
      return { status: "failed", error: `ACS did not take the email now: ${outcome.code}: ${outcome.error} (throttled, or the sender's key refused)` };
    case "unknown":
      return { status: "failed", error: `no certain answer from ACS (${outcome.code ?? "error"}: ${outcome.error}); the email may still arrive` };
  }
}
