// remove_raw_event_payloads {"retentionDays": N}: scheduled every hour by the worker when RAW_EVENT_RETENTION_DAYS
// is set (src/retention.ts). Sets raw_events.event (the payload as received) to NULL for events received more
// than N days ago, in statements of 10,000 rows (each its own transaction), oldest first. Everything derived
// from the events stays: their interpreted columns, message_events, messages, bounces and rollups, and
// recompute gives the same numbers. A run stops after 100 statements and queues the next run at once when
// more is left, so that a first run over a large backlog never holds the worker for long.
import type { Task } from "graphile-worker";
import { RETENTION_TASK, runInBatches } from "../src/retention.ts";

export { BATCH_ROWS } from "../src/retention.ts";

type Query = (text: string, values: unknown[]) => Promise<{ rows: { changed: number }[] }>;

export async function removeRawEventPayloads(query: Query, retentionDays: number): Promise<{ removed: number; more: boolean }> {
  const { changed, more } = await runInBatches(query, "app_private.remove_raw_event_payloads", retentionDays);
  return { removed: changed, more };
}

/** A retention task over `work`: checks the payload, logs what it did, queues itself again when more is left. */
export function retentionTask(
  identifier: string,
  work: (query: Query, retentionDays: number) => Promise<{ changed: number; more: boolean }>,
  done: (changed: number, retentionDays: number) => string,
): Task {
  return async (payload, helpers) => {
    const retentionDays = (payload as { retentionDays?: unknown } | null)?.retentionDays;
    if (typeof retentionDays !== "number" || !Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`${identifier} needs {"retentionDays": a positive integer}, got ${JSON.stringify(payload)}`);
    }
    const { changed, more } = await work((text, values) => helpers.query(text, values), retentionDays);
    if (changed > 0) helpers.logger.info(done(changed, retentionDays));
    if (more) await helpers.addJob(identifier, { retentionDays }, { jobKey: `${identifier}:more` });
  };
}

export default retentionTask(
  RETENTION_TASK,
  async (query, days) => {
    const { removed, more } = await removeRawEventPayloads(query, days);
    return { changed: removed, more };
  },
  (removed, days) => `removed the payloads of ${removed} raw events received more than ${days} days ago`,
);
