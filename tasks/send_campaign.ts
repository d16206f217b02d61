// send_campaign {"campaignId": id}: queued by start_campaign and resume_campaign, and by the job itself when
// there is more to do later (a quota window, a send window, a 429 pause, a backoff). One job per campaign
// (job key send_campaign:ID); any number of workers may run jobs of different campaigns, and claims are safe
// across processes. src/sending/send-campaign.ts is the loop; docs/sending.md the rules.
import type { Task } from "graphile-worker";
import { sendCampaign } from "../src/sending/send-campaign.ts";
import type { SendingSettings } from "../src/sending/settings.ts";

export default function sendCampaignTask(sending: SendingSettings): Task {
  return async (payload, helpers) => {
    const campaignId = (payload as { campaignId?: unknown } | null)?.campaignId;
    if (typeof campaignId !== "number" && typeof campaignId !== "string") {
      throw new Error(`send_campaign needs {"campaignId": id}, got ${JSON.stringify(payload)}`);
    }
    const result = await sendCampaign((text, values) => helpers.query(text, values), campaignId, helpers.abortSignal, sending);
    helpers.logger.debug(`campaign ${campaignId}: ${result}`);
  };
}
