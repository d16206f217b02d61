// The receiver's memory budget (WEBHOOK_MAX_BYTES_IN_FLIGHT), quickly, with a small budget: requests beyond
// it get 503 with Retry-After (decided from Content-Length before the body is read, or while a chunked
// body streams in), requests within it get 200 and are stored, and what a request held is given back when
// it is answered or its client goes away. The long version, with the real process and its peak memory
// under a hostile mix of requests, is test/chaos/webhook-memory.test.ts.
import http from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "../helpers/receiver.ts";

const KB = 1024;
const MAX_BODY = 1024 * KB;
const BUDGET = 2048 * KB;

let db: TestDatabase;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver(db.pool, { maxBodyBytes: MAX_BODY, maxBytesInFlight: BUDGET });
});
afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});

/** A valid Event Grid delivery of exactly `bytes` bytes: one event, its id `id`, padded. */
function delivery(id: string, bytes: number): Buffer {
  const event = {
    id,
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: "sender/news@news.example.com/message/00000000-0000-4000-8000-000000000000",
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: "2026-01-01T00:00:00Z",
    dataVersion: "1.0",
    metadataVersion: "1",
    data: { engagementType: "view", messageId: "00000000-0000-4000-8000-000000000000", padding: "" },
  };
  const bare = JSON.stringify([event]).length;
  event.data.padding = "p".repeat(bytes - bare);
  const body = Buffer.from(JSON.stringify([event]));
  expect(body.length).toBe(bytes);
  return body;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  error?: string;
}

/** A request whose body is written piece by piece; `chunked` leaves Content-Length out. */
function open(body: Buffer, { chunked = false } = {}) {
  const url = new URL(`${receiver.url}/webhooks/acs?code=${TEST_SECRET}`);
  const req = http.request(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "aeg-event-type": "Notification",
      ...(chunked ? {} : { "content-length": String(body.length) }),
    },
  });
  req.flushHeaders();
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] ?? null, error: text ? JSON.parse(text).error : undefined }),
      );
    });
  });
  let sent = 0;
  const write = (bytes: number) =>
    new Promise<void>((resolve) => {
      const piece = body.subarray(sent, Math.min(body.length, sent + bytes));
      sent += piece.length;
      req.write(piece, () => resolve());
    });
  return {
    answer,
    write,
    /** Sends the rest in pieces of 64 kB, as a socket would, and ends the request. */
    async finish() {
      while (sent < body.length) await write(64 * KB);
      req.end();
      return answer;
    },
    abort: () => req.destroy(),
  };
}

/** Lets the receiver take in what was written: two round trips to it on other connections. */
async function settle() {
  for (let i = 0; i < 2; i++) await fetch(`${receiver.url}/healthz`).then((r) => r.text());
}

const post = (body: Buffer, options?: { chunked?: boolean }) => open(body, options).finish();

async function storedIds(): Promise<string[]> {
  await runQueuedJobs(db.pool);
  const { rows } = await db.pool.query("select event_id from app_public.raw_events order by event_id");
  return rows.map((r) => r.event_id);
}

test("beyond the budget: 503 with Retry-After, decided from Content-Length or while streaming; within it: 200 and stored", async () => {
  // Two requests declare 900 kB each and send only the first 100 kB: 1,800 kB of the 2,048 kB are taken.
  const a = open(delivery("a", 900 * KB));
  const b = open(delivery("b", 900 * KB));
  await a.write(100 * KB);
  await b.write(100 * KB);
  await settle();

  // 300 kB more do not fit: refused at once, from the header (the held requests are not finished).
  const c = await post(delivery("c", 300 * KB));
  expect(c.status).toBe(503);
  expect(c.retryAfter).toBe("10");
  expect(c.error).toMatch(/WEBHOOK_MAX_BYTES_IN_FLIGHT/);

  // Without Content-Length the budget is taken as the body arrives, and the request is refused when it
  // runs out, before the body is complete.
  const e = await post(delivery("e", 300 * KB), { chunked: true });
  expect(e.status).toBe(503);
  expect(e.retryAfter).toBe("10");

  // A small delivery still fits beside them.
  expect((await post(delivery("d", 2 * KB))).status).toBe(200);

  // The held requests complete: 200.
  expect((await a.finish()).status).toBe(200);
  expect((await b.finish()).status).toBe(200);

  // Answered requests gave their bytes back: the refused ones get in when Event Grid retries them.
  expect((await post(delivery("c", 300 * KB))).status).toBe(200);
  expect((await post(delivery("e", 300 * KB), { chunked: true })).status).toBe(200);

  expect(await storedIds()).toEqual(["a", "b", "c", "d", "e"]);
});

test("a client that goes away mid-body gives back what its request held", async () => {
  const f = open(delivery("f", 1000 * KB));
  const g = open(delivery("g", 1000 * KB));
  const fAnswer = f.answer.catch(() => "gone");
  const gAnswer = g.answer.catch(() => "gone");
  await f.write(64 * KB);
  await g.write(64 * KB);
  await settle();
  expect((await post(delivery("h-refused", 100 * KB))).status).toBe(503);
  f.abort();
  g.abort();
  expect(await fAnswer).toBe("gone");
  expect(await gAnswer).toBe("gone");
  await settle();
  const [h, i] = await Promise.all([post(delivery("h", 1000 * KB)), post(delivery("i", 1000 * KB), { chunked: true })]);
  expect([h.status, i.status]).toEqual([200, 200]);
  expect((await storedIds()).filter((id) => ["f", "g", "h", "h-refused", "i"].includes(id))).toEqual(["h", "i"]);
});

test("over WEBHOOK_MAX_BODY_BYTES: 413 with or without Content-Length, whatever the budget holds", async () => {
  const over = await post(delivery("over", MAX_BODY + 1));
  expect(over.status).toBe(413);
  expect(over.error).toMatch(/WEBHOOK_MAX_BODY_BYTES/);
  expect((await post(delivery("over-chunked", MAX_BODY + 1), { chunked: true })).status).toBe(413);
  // Exactly the maximum is accepted.
  expect((await post(delivery("max", MAX_BODY))).status).toBe(200);
});
