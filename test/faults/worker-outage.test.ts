// A worker process survives the database going away in the middle of a job, and the jobs of a worker that
// died (kill -9) run again within a minute, but never while the worker that holds them lives.
// Each test holds advisory lock 'pending events' (7361003, which ingestion takes before parking events that match
// no message, as these do) so that an ingest job is certainly running, and blocked, at the moment of the fault.
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { startThrowawayDatabase, type ThrowawayDatabase } from "../../src/db/throwaway.ts";
import { runMailroom, type MailroomProcess } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";

let database: ThrowawayDatabase;
let pool: pg.Pool;
const workers: MailroomProcess[] = [];

beforeAll(async () => {
  database = await startThrowawayDatabase({ fast: true, current: true });
  pool = new pg.Pool({ connectionString: database.ownerUrl, max: 4 });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
});
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
  }
});
afterAll(async () => {
  await pool?.end();
  await database?.stop();
});

function startWorker(): MailroomProcess {
  const worker = runMailroom(["worker"], { DATABASE_URL: database.ownerUrl, WORKER_RECLAIM_AFTER_SECONDS: "5", LOG_LEVEL: "info" });
  workers.push(worker);
  return worker;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** Queues one ingest job holding `count` events with ids prefix-0 .. prefix-(count-1). */
async function queueEvents(prefix: string, count: number): Promise<string> {
  const events = Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: "sender/news@news.example.com/message/00000000-0000-4000-8000-000000000000",
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: "2026-12-01T10:00:00Z",
    data: { engagementType: "view", recipient: "ada@example.org", messageId: "00000000-0000-4000-8000-000000000000" },
  }));
  const payload = [{ schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 0, subscriptionName: "S", events }];
  const { rows } = await pool.query("select (graphile_worker.add_job('ingest_events', $1::json, max_attempts => 25)).id", [
    JSON.stringify(payload),
  ]);
  return String(rows[0].id);
}

async function stored(prefix: string): Promise<number> {
  const { rows } = await pool.query("select count(*)::int as n from app_public.raw_events where event_id like $1", [`${prefix}-%`]);
  return rows[0].n;
}

async function job(id: string): Promise<{ locked_by: string | null; attempts: number; last_error: string | null } | undefined> {
  const { rows } = await pool.query("select locked_by, attempts, last_error from graphile_worker._private_jobs where id = $1", [id]);
  return rows[0];
}

/** Holds the ingestion lock on a connection of its own until release() is called. */
async function holdIngestionLock(): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: database.ownerUrl });
  client.on("error", () => undefined);
  await client.connect();
  await client.query("select pg_advisory_lock(7361003)");
  return {
    async release() {
      await client.end().catch(() => undefined);
    },
  };
}

test("the database stops for 15 s while an ingest job runs: the worker lives on and the job completes", { timeout: 150_000 }, async () => {
  const worker = startWorker();
  await worker.waitFor(/Mailroom is ready/);
  const lock = await holdIngestionLock();
  const jobId = await queueEvents("outage", 50);
  await waitFor(async () => (await job(jobId))?.locked_by, 30_000, "the job to be taken");
  await sleep(500); // the job is now waiting for the ingestion lock

  await database.server.stop(); // the lock holder's connection goes too
  await lock.release();
  await sleep(15_000);
  expect(worker.child.exitCode, worker.output().slice(-3000)).toBeNull();
  await database.server.start();

  const later = await queueEvents("after-outage", 20);
  await waitFor(async () => (await stored("outage")) === 50 && (await stored("after-outage")) === 20, 90_000, "every event stored");
  await waitFor(async () => !(await job(jobId)) && !(await job(later)), 30_000, "no job left");
  expect(worker.child.exitCode).toBeNull();
  const { rows } = await pool.query("select count(*)::int as n from graphile_worker._private_jobs where attempts >= max_attempts");
  expect(rows[0].n).toBe(0);
});

test("kill -9 of a worker holding a job: another worker runs it within a minute", { timeout: 150_000 }, async () => {
  const first = startWorker();
  await first.waitFor(/Mailroom is ready/);
  const lock = await holdIngestionLock();
  const jobId = await queueEvents("killed", 30);
  const holder = await waitFor(async () => (await job(jobId))?.locked_by, 30_000, "the job to be taken");
  first.child.kill("SIGKILL");
  await first.exited;
  await lock.release();

  const killedAt = Date.now();
  const second = startWorker();
  await second.waitFor(/Mailroom is ready/);
  await waitFor(async () => (await stored("killed")) === 30, 60_000, "the killed worker's job to run again");
  const tookMs = Date.now() - killedAt;
  expect(tookMs).toBeLessThan(60_000);
  await waitFor(async () => !(await job(jobId)), 30_000, "no job left");
  expect(second.output()).toContain(holder);
  expect(second.output()).toContain("unlocked the jobs of worker pools that are gone");
});

test("a job that runs longer than the reclaim time is never taken from a live worker", { timeout: 150_000 }, async () => {
  const first = startWorker();
  await first.waitFor(/Mailroom is ready/);
  const second = startWorker();
  await second.waitFor(/Mailroom is ready/);
  const lock = await holdIngestionLock();
  const jobId = await queueEvents("alive", 10);
  const holder = await waitFor(async () => (await job(jobId))?.locked_by, 30_000, "the job to be taken");
  // Four times the reclaim time, and two sweeps of each worker at least.
  for (let waited = 0; waited < 22_000; waited += 1000) {
    const now = await job(jobId);
    expect(now?.locked_by).toBe(holder);
    expect(now?.attempts).toBe(1);
    await sleep(1000);
  }
  await lock.release();
  await waitFor(async () => !(await job(jobId)), 30_000, "the job to finish");
  expect(await stored("alive")).toBe(10);
  expect(first.output() + second.output()).not.toContain("unlocked the jobs of worker pools that are gone");
});

test("a worker stopped while a job is blocked past SHUTDOWN_TIMEOUT_MS hands the job back at once", { timeout: 120_000 }, async () => {
  const worker = runMailroom(["worker"], { DATABASE_URL: database.ownerUrl, SHUTDOWN_TIMEOUT_MS: "3000", LOG_LEVEL: "info" });
  workers.push(worker);
  await worker.waitFor(/Mailroom is ready/);
  const lock = await holdIngestionLock();
  const jobId = await queueEvents("handed-back", 5);
  await waitFor(async () => (await job(jobId))?.locked_by, 30_000, "the job to be taken");
  const stoppedAt = Date.now();
  worker.child.kill("SIGTERM");
  await worker.exited;
  expect(Date.now() - stoppedAt).toBeLessThan(6_000);
  const after = await job(jobId);
  expect(after?.locked_by).toBeNull(); // released, not left for the dead-worker sweep
  await lock.release();
  startWorker();
  await waitFor(async () => (await stored("handed-back")) === 5 && !(await job(jobId)), 60_000, "the job to run again");
});
