// Retention, on the worker's schedule (graphile-worker's cron: every hour, on one worker whatever their number):
//   RAW_EVENT_RETENTION_DAYS    raw event payloads older than this are removed (tasks/remove_raw_event_payloads.ts);
//                               unset: kept for ever and nothing is scheduled.
//   TRACKING_IP_RETENTION_DAYS  the client addresses of tracking hits older than this are truncated to their /24
//                               (IPv4) or /48 (IPv6) (tasks/truncate_tracking_ip_addresses.ts); default 30, 0 keeps them.
import type { CronItem } from "graphile-worker";

export const RETENTION_TASK = "remove_raw_event_payloads";
export const IP_RETENTION_TASK = "truncate_tracking_ip_addresses";

/** Rows per statement (each its own transaction) of a retention task. */
export const BATCH_ROWS = 10_000;
/** Statements per run: a run over a large backlog queues the next run rather than hold the worker long. */
const MAX_BATCHES = 100;

type Query = (text: string, values: unknown[]) => Promise<{ rows: { changed: number }[] }>;

/**
 * Calls the SQL function `fn(older_than interval, max_rows integer) returns integer` until it changes less than a
 * batch, or MAX_BATCHES times; returns how many rows it changed and whether more are left.
 */
export async function runInBatches(query: Query, fn: string, retentionDays: number): Promise<{ changed: number; more: boolean }> {
  let changed = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const { rows } = await query(`select ${fn}(make_interval(days => $1), $2) as changed`, [retentionDays, BATCH_ROWS]);
    changed += rows[0]!.changed;
    if (rows[0]!.changed < BATCH_ROWS) return { changed, more: false };
  }
  return { changed, more: true };
}

function hourly(task: string, minute: number, retentionDays: number): CronItem {
  return {
    task,
    identifier: task,
    match: `${minute} * * * *`,
    payload: { retentionDays },
    options: { backfillPeriod: 0, maxAttempts: 5 },
  };
}

export function retentionCronItems(retentionDays: number | undefined, ipRetentionDays?: number): CronItem[] {
  return [
    ...(retentionDays === undefined ? [] : [hourly(RETENTION_TASK, 17, retentionDays)]),
    ...(ipRetentionDays === undefined ? [] : [hourly(IP_RETENTION_TASK, 47, ipRetentionDays)]),
  ];
}
