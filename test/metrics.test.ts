// GET /metrics: a scrape after real deliveries has the series an operator alerts on.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { databaseMetrics, routeLabel } from "../src/metrics.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { createFixtureMessage } from "./helpers/fixture-message.ts";
import { endPool, testPool } from "./helpers/pg.ts";
import { freePort } from "./helpers/process.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";

let db: TestDatabase;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver(db.pool);
});
afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${receiver.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// Some series come from PostgreSQL's cumulative statistics, which a connection that went idle reports up to
// about 10 s later: wait well beyond that, the machine may be busy.
async function until(check: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await scrape();
    if (check(text) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("metrics", () => {
  test("deliveries, ingestion, attribution, the job queue and HTTP latency appear in one scrape", { timeout: 180_000 }, async () => {
    const mixed = fs.readFileSync(path.resolve(import.meta.dirname, "fixtures/eventgrid/eventgrid-batch-mixed.json"), "utf8");
    const count = JSON.parse(mixed).length;
    const response = await fetch(`${receiver.url}/webhooks/acs?code=${TEST_SECRET}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: mixed,
    });
    expect(response.status).toBe(200);
    await fetch(`${receiver.url}/webhooks/acs`, { method: "POST", headers: { "content-type": "application/json" }, body: mixed });

    const queued = await scrape();
    expect(value(queued, 'mailroom_jobs{state="runnable"}')).toBe(1);
    expect(value(queued, "mailroom_job_queue_oldest_seconds")).toBeGreaterThanOrEqual(0);
    expect(value(queued, 'mailroom_webhook_events_received_total{schema="eventgrid"}')).toBe(count);
    expect(value(queued, 'mailroom_webhook_deliveries_total{status="200"}')).toBe(1);
    expect(value(queued, 'mailroom_webhook_deliveries_total{status="401"}')).toBe(1);

    await runQueuedJobs(db.pool);
    const ingested = await until((t) => (value(t, "mailroom_raw_events_inserted_total") ?? 0) >= count);
    expect(value(ingested, "mailroom_database_up")).toBe(1);
    expect(value(ingested, "mailroom_raw_events_inserted_total")).toBe(count);
    expect(value(ingested, "mailroom_events_unattributed")).toBe(count);
    expect(value(ingested, 'mailroom_jobs{state="runnable"}')).toBe(0);

    // Three of the four belong to the fixture message; the bounce is for a message that does not exist here.
    await createFixtureMessage(db.pool);
    const attributed = await until((t) => (value(t, "mailroom_events_attributed_total") ?? 0) >= count - 1);
    expect(value(attributed, "mailroom_events_attributed_total")).toBe(count - 1);
    expect(value(attributed, "mailroom_events_unattributed")).toBe(1);
    expect(value(attributed, 'mailroom_attribution_lag_seconds{quantile="0.95"}')).toBeGreaterThanOrEqual(0);
    expect(value(attributed, 'mailroom_messages{send_status="queued"}')).toBe(1);
    expect(attributed).toMatch(/^mailroom_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/webhooks\/acs",status="200"\} \d+$/m);
    expect(attributed).toMatch(/^process_cpu_seconds_total /m);
  });

  test("request durations are labelled by route: the dashboard's pages and its live streams apart", () => {
    expect(["/", "/sign-in", "/campaigns", "/campaigns/12", "/campaigns/12/cancel", "/senders", "/health", "/subscribers", "/dashboard/assets/uPlot.min.js"].map(routeLabel))
      .toEqual(Array(9).fill("dashboard"));
    expect(routeLabel("/campaigns/12/live")).toBe("/campaigns/:id/live");
    expect(routeLabel("/webhooks/acs")).toBe("/webhooks/acs");
    expect(routeLabel("/t/o/x")).toBe("other");
  });

  test("the database unreachable: mailroom_database_up 0, and the scrape still answers", async () => {
    const unreachable = testPool({ connectionString: `postgres://nobody@127.0.0.1:${await freePort()}/none`, connectionTimeoutMillis: 1000 });
    try {
      const text = await databaseMetrics(unreachable);
      expect(value(text, "mailroom_database_up")).toBe(0);
    } finally {
      await endPool(unreachable);
    }
  });
});
