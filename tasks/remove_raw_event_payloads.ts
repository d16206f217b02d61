// remove_raw_event_payloads {"retentionDays": N}: scheduled every hour by the worker when RAW_EVENT_RETENTION_DAYS
// is set (src/retention.ts). Sets raw_events.event (the payload as received) to NULL for events received more
// than N days ago, in statements of 10,000 rows (each its own transaction), oldest first. Everything derived
// from the events stays: their interpreted columns, message_events, messages, bounces and rollups, and
// recompute gives the same numbers. A run stops after 100 statements and queues the next run at once when
// more is left, so that a first run over a large backlog never holds the worker for long.
import type { Task } from "graphile-worker";

export const BATCH_ROWS = 10_000;
const MAX_BATCHES = 100;

type Query = (text: string, values: unknown[]) => Promise<{ rows: { removed: number }[] }>;

export async function removeRawEventPayloads(query: Query, retentionDays: number): Promise<{ removed: number; more: boolean }> {
  let removed = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const { rows } = await query(
      "select app_private.remove_raw_event_payloads(make_interval(days => $1), $2) as removed",
      [retentionDays, BATCH_ROWS],
    );
    removed += rows[0]!.removed;
    if (rows[0]!.removed < BATCH_ROWS) return { removed, more: false };
  }
  return { removed, more: true };
}

const task: Task = async (payload, helpers) => {
  const retentionDays = (payload as { retentionDays?: unknown } | null)?.retentionDays;
  if (typeof retentionDays !== "number" || !Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new Error(`remove_raw_event_payloads needs {"retentionDays": a positive integer}, got ${JSON.stringify(payload)}`);
  }
  const { removed, more } = await removeRawEventPayloads((text, values) => helpers.query(text, values), retentionDays);
  if (removed > 0) helpers.logger.info(`removed the payloads of ${removed} raw events received more than ${retentionDays} days ago`);
  if (more) {
    await helpers.addJob("remove_raw_event_payloads", { retentionDays }, { jobKey: "remove_raw_event_payloads:more" });
  }
};

export default task;
