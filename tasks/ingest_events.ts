// ingest_events: deliveries queued by POST /webhooks/acs (an array of them; deliveries that arrived
// together share one job). Each delivery's events go into the raw events table in one INSERT
// (app_private.ingest_events), all in one statement and one transaction; attribution and every
// derived number follow by trigger. Idempotent: a redelivered event is recorded as seen again, not
// stored twice. A transient error fails the job and graphile-worker retries it with backoff.
import type { Task } from "graphile-worker";

const task: Task = async (payload, helpers) => {
  const deliveries = Array.isArray(payload) ? payload : [payload];
  const { rows } = await helpers.query<{ received: number; inserted: number; duplicates: number }>(
    `select coalesce(sum(r.received), 0)::int as received,
            coalesce(sum(r.inserted), 0)::int as inserted,
            coalesce(sum(r.duplicates), 0)::int as duplicates
     from jsonb_array_elements($1::jsonb) as delivery, app_private.ingest_events(delivery) as r`,
    [JSON.stringify(deliveries)],
  );
  helpers.logger.debug(`ingested ${JSON.stringify(rows[0])}`);
};

export default task;
