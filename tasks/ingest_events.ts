// ingest_events: one Event Grid delivery, queued by POST /webhooks/acs. The whole batch goes into
// the raw events table in one statement (app_private.ingest_events); attribution and every derived
// number follow by trigger. Idempotent: a redelivered event is recorded as seen again, not stored
// twice. A transient error fails the job and graphile-worker retries it with backoff.
import type { Task } from "graphile-worker";

const task: Task = async (payload, helpers) => {
  const { rows } = await helpers.query<{ received: number; inserted: number; duplicates: number }>(
    "select received, inserted, duplicates from app_private.ingest_events($1::jsonb)",
    [JSON.stringify(payload)],
  );
  helpers.logger.debug(`ingested ${JSON.stringify(rows[0])}`);
};

export default task;
