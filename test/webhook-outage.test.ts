// The database goes away while Event Grid keeps delivering: the receiver answers 503 (retry), never
// 4xx, and comes back by itself; every event it acknowledged with 200 is stored in the end.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createPool } from "../src/app.ts";
import type { PostgresServer } from "../src/db/postgres-server.ts";
import { startThrowawayDatabase, type ThrowawayDatabase } from "../src/db/throwaway.ts";
import pino from "pino";
import type pg from "pg";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";

let database: ThrowawayDatabase;
let server: PostgresServer;
let pool: pg.Pool;
let receiver: Receiver;

beforeAll(async () => {
  database = await startThrowawayDatabase({ fast: true, current: true });
  server = database.server;
  pool = createPool(database.ownerUrl, pino({ level: "silent" }), 8);
  receiver = await startReceiver(pool);
});

afterAll(async () => {
  await receiver?.close();
  await pool?.end();
  await database?.stop();
});

function delivery(id: string): string {
  return JSON.stringify([
    {
      id,
      topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
      subject: "sender/news@news.example.com/message/00000000-0000-4000-8000-000000000000",
      eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
      eventTime: new Date().toISOString(),
      dataVersion: "1.0",
      metadataVersion: "1",
      data: { engagementType: "view", recipient: "ada@example.org", messageId: "00000000-0000-4000-8000-000000000000" },
    },
  ]);
}

test("database stopped and started again mid-stream: 503s while it is down, 200s after, nothing acknowledged is lost", async () => {
  const statuses = new Map<string, number>();
  // Requests that straddle a stop or a start are in the transitional phases and may get either answer.
  let phase: "up" | "stopping" | "down" | "starting" | "back" = "up";
  const seenInPhase: Record<string, Set<number>> = { up: new Set(), stopping: new Set(), down: new Set(), starting: new Set(), back: new Set() };
  let sending = true;
  let counter = 0;

  const sender = async () => {
    while (sending) {
      const id = `outage-${counter++}`;
      const current = phase;
      const response = await fetch(`${receiver.url}/webhooks/acs?code=${TEST_SECRET}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: delivery(id),
      });
      await response.text();
      statuses.set(id, response.status);
      if (current === phase) seenInPhase[current].add(response.status);
    }
  };
  const senders = Array.from({ length: 4 }, sender);
  const waitFor = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  await waitFor(() => counter > 50);
  phase = "stopping";
  await server.stop();
  phase = "down";
  const downAt = counter;
  await waitFor(() => counter > downAt + 50);
  phase = "starting";
  await server.start();
  phase = "back";
  const backAt = counter;
  await waitFor(() => [...statuses.entries()].filter(([id, s]) => Number(id.split("-")[1]) > backAt && s === 200).length > 50);
  sending = false;
  await Promise.all(senders);

  expect(seenInPhase.up).toEqual(new Set([200]));
  expect(seenInPhase.down).toEqual(new Set([503]));
  expect(seenInPhase.back.has(200)).toBe(true);
  // Never a 4xx: Event Grid would drop those events for good.
  expect([...statuses.values()].filter((s) => s >= 400 && s < 500)).toEqual([]);

  await runQueuedJobs(pool);
  const acknowledged = [...statuses.entries()].filter(([, s]) => s === 200).map(([id]) => id);
  const { rows } = await pool.query("select event_id from app_public.raw_events where event_id = any($1)", [acknowledged]);
  expect(rows.length).toBe(acknowledged.length);
  expect(acknowledged.length).toBeGreaterThan(100);
});
