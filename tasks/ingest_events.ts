// ingest_events: the deliveries queued by POST /webhooks/acs (an array of them: deliveries that arrive
// together share one job). The payload is passed through untouched: app_private.ingest_job reads it from
// the job's row and stores every event in one statement; attribution and every derived number follow by
// trigger. Content that cannot be stored (a NUL character, a lone surrogate, an id too long for the index)
// is isolated there and kept with its problem, so it never fails the job. Idempotent: a redelivered event
// is recorded as seen again, not stored twice. A transient error fails the job and graphile-worker retries it.
import type { Task } from "graphile-worker";

const task: Task = async (_payload, helpers) => {
  const { rows } = await helpers.query<{ received: number; inserted: number; duplicates: number }>(
    "select received, inserted, duplicates from app_private.ingest_job($1)",
    [helpers.job.id],
  );
  helpers.logger.debug(`ingested ${JSON.stringify(rows[0])}`);
};

export default task;
