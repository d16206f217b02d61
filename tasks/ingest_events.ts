// ingest_events: deliveries queued by POST /webhooks/acs (an array of them: deliveries that arrived
// together share one job). Deliveries with the same envelope schema, delivery count and subscription
// are merged into one batch, so that the raw events table gets one INSERT (and its statement-level
// triggers run once) per kind of delivery in the job rather than once per HTTP request; a merged batch
// keeps the earliest receivedAt of its deliveries. All batches go in one statement and one transaction;
// attribution and every derived number follow by trigger. Idempotent: a redelivered event is recorded as
// seen again, not stored twice. A transient error fails the job and graphile-worker retries it.
import type { Task } from "graphile-worker";

interface Delivery {
  schema: string;
  receivedAt: string;
  deliveryCount: number | null;
  subscriptionName: string | null;
  events: unknown[];
}

export function mergeDeliveries(deliveries: Delivery[]): Delivery[] {
  const batches = new Map<string, Delivery>();
  for (const d of deliveries) {
    const key = JSON.stringify([d.schema, d.deliveryCount, d.subscriptionName]);
    const batch = batches.get(key);
    if (!batch) {
      batches.set(key, { ...d, events: [...d.events] });
    } else {
      batch.events.push(...d.events);
      if (d.receivedAt < batch.receivedAt) batch.receivedAt = d.receivedAt;
    }
  }
  return [...batches.values()];
}

const task: Task = async (payload, helpers) => {
  const deliveries = (Array.isArray(payload) ? payload : [payload]) as Delivery[];
  const { rows } = await helpers.query<{ received: number; inserted: number; duplicates: number }>(
    `select coalesce(sum(r.received), 0)::int as received,
            coalesce(sum(r.inserted), 0)::int as inserted,
            coalesce(sum(r.duplicates), 0)::int as duplicates
     from jsonb_array_elements($1::jsonb) as b(batch), app_private.ingest_events(b.batch) as r`,
    [JSON.stringify(mergeDeliveries(deliveries))],
  );
  helpers.logger.debug(`ingested ${JSON.stringify(rows[0])}`);
};

export default task;
