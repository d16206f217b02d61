// start_scheduled_campaign {"campaignId": id}: queued by schedule_campaign to run at the scheduled time.
// app_private.start_scheduled_campaign starts the campaign only if it is still scheduled and due (it may
// have been unscheduled, cancelled or rescheduled since), so running the job twice, or late, is safe.
import type { Task } from "graphile-worker";

const task: Task = async (payload, helpers) => {
  const campaignId = (payload as { campaignId?: unknown } | null)?.campaignId;
  if (typeof campaignId !== "number" && typeof campaignId !== "string") {
    throw new Error(`start_scheduled_campaign needs {"campaignId": id}, got ${JSON.stringify(payload)}`);
  }
  const { rows } = await helpers.query<{ started: boolean }>(
    "select app_private.start_scheduled_campaign($1) as started",
    [campaignId],
  );
  helpers.logger.info(rows[0].started ? `campaign ${campaignId} started as scheduled` : `campaign ${campaignId} is no longer due; nothing to do`);
};

export default task;
