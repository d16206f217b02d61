// Group commit for webhook deliveries. Every delivery must be durable in PostgreSQL before it is
// acknowledged, but one transaction per HTTP request caps the receiver at the disk's commit rate.
// Deliveries that arrive while earlier ones are being written wait and go together into the next
// transaction, as one ingest_events job: under light load each delivery is written at once, alone;
// under heavy load the batches grow by themselves. A caller's promise settles only when the
// transaction holding its delivery has committed (or failed).
import type pg from "pg";

export interface DeliveryQueueOptions {
  /** Transactions in flight at once. */
  maxConcurrentWrites?: number;
  /** Upper bounds for one job. */
  maxDeliveriesPerJob?: number;
  maxBytesPerJob?: number;
}

interface Pending {
  json: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class DeliveryQueue {
  private readonly pool: pg.Pool;
  private readonly taskIdentifier: string;
  private readonly maxConcurrentWrites: number;
  private readonly maxDeliveriesPerJob: number;
  private readonly maxBytesPerJob: number;
  private pending: Pending[] = [];
  private writing = 0;

  constructor(pool: pg.Pool, taskIdentifier: string, options: DeliveryQueueOptions = {}) {
    this.pool = pool;
    this.taskIdentifier = taskIdentifier;
    this.maxConcurrentWrites = options.maxConcurrentWrites ?? 4;
    this.maxDeliveriesPerJob = options.maxDeliveriesPerJob ?? 500;
    this.maxBytesPerJob = options.maxBytesPerJob ?? 8 * 1024 * 1024;
  }

  /** Resolves once the delivery (a JSON object, as text) is committed as part of a job. */
  add(deliveryJson: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ json: deliveryJson, resolve, reject });
      this.writeMore();
    });
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.pending.length && count < this.maxDeliveriesPerJob) {
      bytes += this.pending[count].json.length;
      if (count > 0 && bytes > this.maxBytesPerJob) break;
      count++;
    }
    return this.pending.splice(0, count);
  }

  private writeMore(): void {
    while (this.pending.length > 0 && this.writing < this.maxConcurrentWrites) {
      const batch = this.takeBatch();
      this.writing++;
      this.write(batch).finally(() => {
        this.writing--;
        this.writeMore();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.pool.query("select graphile_worker.add_job($1, $2::json, max_attempts => 25)", [
        this.taskIdentifier,
        `[${batch.map((p) => p.json).join(",")}]`,
      ]);
      for (const p of batch) p.resolve();
    } catch (error) {
      if (isContentError(error) && batch.length > 1) {
        // One delivery's content cannot be stored: write each alone, so that it fails only itself.
        await Promise.all(batch.map((p) => this.write([p])));
        return;
      }
      for (const p of batch) p.reject(error);
    }
  }
}

/**
 * A delivery as the ingest_events task reads it (app_private.ingest_events), as JSON text: the events are given as
 * the JSON text of an array, as received, so that they are not parsed and written again.
 */
export function deliveryJson(delivery: {
  schema: "eventgrid" | "cloudevents";
  receivedAt: string;
  deliveryCount: number | null;
  subscriptionName: string | null;
  eventsJson: string;
  unstorable?: unknown[];
}): string {
  return (
    `{"schema":${JSON.stringify(delivery.schema)},"receivedAt":${JSON.stringify(delivery.receivedAt)},` +
    `"deliveryCount":${delivery.deliveryCount ?? "null"},"subscriptionName":${JSON.stringify(delivery.subscriptionName)},` +
    `"events":${delivery.eventsJson}` +
    (delivery.unstorable && delivery.unstorable.length > 0 ? `,"unstorable":${JSON.stringify(delivery.unstorable)}}` : "}")
  );
}

/** An error caused by what a delivery holds (retrying it can never help), not by the database's state. */
export function isContentError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // 22: data exception (e.g. invalid JSON for PostgreSQL); 54: program limit exceeded (e.g. nesting too deep).
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("54"));
}
