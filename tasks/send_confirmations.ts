// send_confirmations {"senderId": id}: queued when confirmation emails of a list whose confirmation sender this is
// are requested (app_private.queue_confirmations), and by the job itself when there is more to send later (a quota
// window, the send window, a 429 pause, a look-up). One job per sender (job key send_confirmations:ID).
// src/sending/confirmation.ts does the work; docs/opt-in.md explains the flow.
import type { Task } from "graphile-worker";
import { sendConfirmations } from "../src/sending/confirmation.ts";
import type { SendingSettings } from "../src/sending/settings.ts";

export default function sendConfirmationsTask(sending: SendingSettings): Task {
  return async (payload, helpers) => {
    const senderId = (payload as { senderId?: unknown } | null)?.senderId;
    if (typeof senderId !== "number" && typeof senderId !== "string") {
      throw new Error(`send_confirmations needs {"senderId": id}, got ${JSON.stringify(payload)}`);
    }
    const result = await sendConfirmations((text, values) => helpers.query(text, values), senderId, helpers.abortSignal, sending);
    helpers.logger.debug(`confirmations of sender ${senderId}: ${result.result} (${result.accepted} accepted, ${result.failed} failed)`);
  };
}
