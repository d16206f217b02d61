// send_test_email {"testSendId": id}: queued by app_public.send_test_email. Renders the campaign for the
// test send's address, sends it through the campaign's sender (subject "[Test] ..."), and records accepted or
// failed on the test send. A test send already sent is left alone, so running the job again is safe.
// src/sending/test-send.ts does the work.
import type { Task } from "graphile-worker";
import type { SendingSettings } from "../src/sending/settings.ts";
import { sendTestEmail } from "../src/sending/test-send.ts";

export default function sendTestEmailTask(sending: SendingSettings): Task {
  return async (payload, helpers) => {
    const testSendId = (payload as { testSendId?: unknown } | null)?.testSendId;
    if (typeof testSendId !== "number" && typeof testSendId !== "string") {
      throw new Error(`send_test_email needs {"testSendId": id}, got ${JSON.stringify(payload)}`);
    }
    const result = await sendTestEmail((text, values) => helpers.query(text, values), testSendId, sending);
    helpers.logger.info(`test send ${testSendId}: ${result.status}${"error" in result ? ` (${result.error})` : ""}`);
  };
}
