// Retention of raw event payloads (RAW_EVENT_RETENTION_DAYS): the worker's schedule for the task
// tasks/remove_raw_event_payloads.ts. Unset: payloads are kept for ever and nothing is scheduled.
import type { CronItem } from "graphile-worker";

export const RETENTION_TASK = "remove_raw_event_payloads";

/** Every hour at minute 17, on one worker whatever the number of workers (graphile-worker's cron). */
export function retentionCronItems(retentionDays: number | undefined): CronItem[] {
  if (retentionDays === undefined) return [];
  return [{
    task: RETENTION_TASK,
    identifier: RETENTION_TASK,
    match: "17 * * * *",
    payload: { retentionDays },
    options: { backfillPeriod: 0, maxAttempts: 5 },
  }];
}
