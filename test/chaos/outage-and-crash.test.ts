// npm run chaos: the long faults, under a steady stream of Event Grid deliveries.
// 1. The database stops for CHAOS_OUTAGE_SECONDS (default 360: longer than graphile-worker's own retries of a
//    job's outcome, about 5 minutes, so the worker pool gives up and is started again) while `mailroom start`
//    runs and an ingest job is blocked mid-way. The process lives on by itself.
// 2. kill -9 of one of two worker processes while jobs run; the server takes deliveries throughout.
// Counted in the end: deliveries answered 200 = events stored, each once; no job failed permanently; no job
// left; every other answer was 503 (retry), never 4xx.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startThrowawayDatabase, type ThrowawayDatabase } from "../../src/db/throwaway.ts";
import { freePort, runMailroom, type MailroomProcess } from "../helpers/process.ts";

const OUTAGE_SECONDS = Number(process.env.CHAOS_OUTAGE_SECONDS ?? 360);
const SECRET = "chaos-webhook-secret-0123456789";

let database: ThrowawayDatabase;
let pool: pg.Pool;
const processes: MailroomProcess[] = [];

beforeAll(async () => {
  database = await startThrowawayDatabase({ fast: true, current: true });
  pool = new pg.Pool({ connectionString: database.ownerUrl, max: 4 });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
});
afterAll(async () => {
  // Each process's output, for a look after a failure.
  processes.forEach((p, i) => {
    const file = path.join(os.tmpdir(), `mailroom-chaos-${i}-${p.child.pid}.log`);
    fs.writeFileSync(file, p.output());
    console.log(`output of process ${i}: ${file}`);
  });
  for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await pool?.end();
  await database?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(args: string[], env: Record<string, string> = {}): MailroomProcess {
  const p = runMailroom(args, {
    DATABASE_URL: database.ownerUrl,
    WEBHOOK_SECRETS: SECRET,
    ACS_CONNECTION_STRING: "endpoint=http://127.0.0.1:9/;accesskey=" + Buffer.from("chaos").toString("base64"),
    WORKER_RECLAIM_AFTER_SECONDS: "10",
    LOG_LEVEL: "info",
    ...env,
  });
  processes.push(p);
  return p;
}

/** Posts one event per request, ids prefix-0, prefix-1, ..., until stopped; records every answer. */
function deliveryStream(url: string, prefix: string) {
  const acknowledged = new Set<string>();
  const answers = new Map<number, number>();
  let running = true;
  let next = 0;
  const one = async () => {
    while (running) {
      const id = `${prefix}-${next++}`;
      const body = JSON.stringify([
        {
          id,
          topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
          subject: "sender/news@news.example.com/message/00000000-0000-4000-8000-000000000000",
          eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
          eventTime: new Date().toISOString(),
          data: { status: "Delivered", recipient: "ada@example.org", messageId: "00000000-0000-4000-8000-000000000000" },
        },
      ]);
      let status = 0;
      try {
        const response = await fetch(`${url}/webhooks/acs?code=${SECRET}`, {
          method: "POST",
          headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0; // no answer: Event Grid would retry
      }
      answers.set(status, (answers.get(status) ?? 0) + 1);
      if (status === 200) acknowledged.add(id);
      await sleep(status === 200 ? 5 : 200);
    }
  };
  const senders = Array.from({ length: 4 }, one);
  return {
    acknowledged,
    answers,
    async stop() {
      running = false;
      await Promise.all(senders);
    },
  };
}

async function settle(timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(
      "select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'ingest_events'",
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} ingest jobs still queued after ${timeoutMs} ms`);
    await sleep(500);
  }
}

async function check(prefix: string, acknowledged: Set<string>) {
  const { rows } = await pool.query(
    "select event_id, times_received from app_public.raw_events where event_id like $1",
    [`${prefix}-%`],
  );
  const stored = new Set(rows.map((r) => r.event_id as string));
  const missing = [...acknowledged].filter((id) => !stored.has(id));
  expect(missing).toEqual([]);
  expect(rows.length).toBe(stored.size); // each once
  const { rows: failed } = await pool.query("select count(*)::int as n from graphile_worker._private_jobs where attempts >= max_attempts");
  expect(failed[0].n).toBe(0);
  return { acknowledged: acknowledged.size, stored: stored.size };
}

test(`mailroom start through a database outage of ${OUTAGE_SECONDS} s, with an ingest job blocked at the moment it stops`, { timeout: (OUTAGE_SECONDS + 300) * 1000 }, async () => {
  const port = await freePort();
  // With GraphQL (its own pool and the live numbers' LISTEN connection), as npm start runs on the embedded database.
  const mailroom = start(["start"], { PORT: String(port), AUTH_DATABASE_URL: database.authUrl });
  await mailroom.waitFor(/Mailroom is ready/);
  const stream = deliveryStream(`http://127.0.0.1:${port}`, "outage");
  await sleep(5_000);

  const lock = new pg.Client({ connectionString: database.ownerUrl });
  lock.on("error", () => undefined);
  await lock.connect();
  await lock.query("select pg_advisory_lock(7361003)"); // 'pending events': ingestion of these events, which match no message, waits: jobs are running when the database stops
  await sleep(2_000);
  await database.server.stop();
  await lock.end().catch(() => undefined);
  await sleep(OUTAGE_SECONDS * 1000);
  expect(mailroom.child.exitCode, mailroom.output().slice(-4000)).toBeNull();
  await database.server.start();
  await sleep(20_000);
  await stream.stop();

  await settle(180_000);
  expect(mailroom.child.exitCode).toBeNull();
  const counts = await check("outage", stream.acknowledged);
  const answers = Object.fromEntries(stream.answers);
  console.log(`outage ${OUTAGE_SECONDS} s: answers ${JSON.stringify(answers)}, acknowledged ${counts.acknowledged}, stored ${counts.stored}`);
  expect(Object.keys(answers).filter((status) => !["200", "503", "0"].includes(status))).toEqual([]);
  expect(counts.acknowledged).toBeGreaterThan(100);
});

test("kill -9 of one of two workers while deliveries stream in: every acknowledged event stored once", { timeout: 300_000 }, async () => {
  const port = await freePort();
  const server = start(["server"], { PORT: String(port) });
  const first = start(["worker"]);
  const second = start(["worker"]);
  await Promise.all([server, first, second].map((p) => p.waitFor(/Mailroom is ready/)));
  const stream = deliveryStream(`http://127.0.0.1:${port}`, "crash");
  await sleep(10_000);
  first.child.kill("SIGKILL");
  await first.exited;
  await sleep(15_000);
  await stream.stop();
  await settle(90_000); // the dead worker's jobs are unlocked after WORKER_RECLAIM_AFTER_SECONDS (10 s)
  const counts = await check("crash", stream.acknowledged);
  console.log(`kill -9: answers ${JSON.stringify(Object.fromEntries(stream.answers))}, acknowledged ${counts.acknowledged}, stored ${counts.stored}`);
  expect(counts.acknowledged).toBeGreaterThan(100);
});
