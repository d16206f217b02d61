// One poisoned event never costs another event anything. Event Grid deliveries that arrive together share one
// ingest_events job; an event PostgreSQL cannot store as jsonb (a NUL character, a lone surrogate, nesting
// 10,000 deep, an id or topic of 100,000 characters) used to fail that job on every attempt until it was
// dropped with every good event in it. Now: every event answered 200 is in raw_events, the poisoned ones kept
// as text with their problem and counted nowhere, and no job fails even once.
import crypto from "node:crypto";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "../helpers/receiver.ts";

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
beforeEach(async () => {
  await db.pool.query("delete from graphile_worker._private_jobs");
});

const TOPIC = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs";

function event(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    topic: TOPIC,
    subject: "sender/news@news.example.com/message/00000000-0000-4000-8000-000000000000",
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: "2026-12-01T10:00:00Z",
    dataVersion: "1.0",
    metadataVersion: "1",
    data: { engagementType: "view", recipient: "ada@example.org", messageId: "00000000-0000-4000-8000-000000000000" },
    ...extra,
  };
}

const randomText = (length: number) => crypto.randomBytes(length).toString("base64url").slice(0, length);
const deep = (levels: number) => "[".repeat(levels) + "1" + "]".repeat(levels);

/** Each poison as the text of one event, and the id it is stored under (a digest when the id is unusable). */
function poisons(tag: string): { name: string; text: string; id: string | null }[] {
  const plain = (id: string) => JSON.stringify(event(id));
  return [
    { name: "NUL in a string", text: plain(`${tag}-nul`).replace('"view"', '"vi\\u0000ew"'), id: `${tag}-nul` },
    { name: "NUL in the id", text: JSON.stringify(event(`${tag}-nul\u0000id`)), id: null },
    { name: "lone surrogate", text: plain(`${tag}-surrogate`).replace('"view"', '"\\ud800"'), id: `${tag}-surrogate` },
    { name: "lone low surrogate", text: plain(`${tag}-low`).replace('"view"', '"x\\udc00"'), id: `${tag}-low` },
    { name: "nested 10,000 deep", text: plain(`${tag}-deep`).replace('"view"', deep(10_000)), id: `${tag}-deep` },
    { name: "nested 100,000 deep", text: plain(`${tag}-deeper`).replace('"view"', deep(100_000)), id: `${tag}-deeper` },
    { name: "id of 100,000 characters", text: plain(`${tag}-${randomText(100_000)}`), id: null },
    { name: "topic of 100,000 characters", text: JSON.stringify(event(`${tag}-topic`, { topic: randomText(100_000) })), id: `${tag}-topic` },
  ];
}

async function post(body: string) {
  const response = await fetch(`${receiver.url}/webhooks/acs?code=${TEST_SECRET}`, {
    method: "POST",
    headers: { "content-type": "application/json", "aeg-event-type": "Notification", "aeg-delivery-count": "0" },
    body,
  });
  return response.status;
}

async function jobCounts() {
  const { rows } = await db.pool.query(
    `select count(*)::int as jobs, count(*) filter (where attempts > 0)::int as attempted,
            count(*) filter (where last_error is not null)::int as failed
     from graphile_worker._private_jobs`,
  );
  return rows[0] as { jobs: number; attempted: number; failed: number };
}

test("poisoned events sharing a job with 40 good deliveries: every acknowledged event stored, no job fails", async () => {
  const kinds = poisons("p1~");
  // Good deliveries of other requests, sent at the same moment as the poisoned ones, so that they share jobs;
  // each poisoned delivery also carries good events of its own.
  const goodIds = Array.from({ length: 40 }, (_, i) => `p1~good-${i}`);
  const bodies = [
    ...goodIds.map((id) => JSON.stringify([event(id)])),
    ...kinds.map((k, i) => `[${JSON.stringify(event(`p1~beside-${i}-a`))},${k.text},${JSON.stringify(event(`p1~beside-${i}-b`))}]`),
  ];
  const statuses = await Promise.all(bodies.map(post));
  expect(statuses.filter((s) => s === 200).length).toBe(bodies.length);
  // Deliveries that arrive together share a job (group commit), but how many do depends on timing: put all 48 in
  // one job, as a burst would, so that every poison certainly shares it with the good deliveries.
  await db.pool.query(
    `with taken as (delete from graphile_worker._private_jobs returning payload)
     select graphile_worker.add_job('ingest_events', (select json_agg(d.value) from taken, json_array_elements(taken.payload) as d),
                                    max_attempts => 25)`,
  );
  const queued = await jobCounts();
  expect(queued.jobs).toBe(1);

  await runQueuedJobs(db.pool);
  expect(await jobCounts()).toEqual({ jobs: 0, attempted: 0, failed: 0 });

  const { rows } = await db.pool.query(
    "select event_id, problem, event is null as no_event, event_text, times_received from app_public.raw_events",
  );
  const good = rows.filter((r) => r.problem === null);
  const expectedGood = [...goodIds, ...kinds.flatMap((_, i) => [`p1~beside-${i}-a`, `p1~beside-${i}-b`])].sort();
  expect(good.map((r) => r.event_id).sort()).toEqual(expectedGood);
  const poisoned = rows.filter((r) => r.problem !== null);
  expect(poisoned.length).toBe(kinds.length);
  for (const kind of kinds) {
    const row = poisoned.find((r) => r.event_text === kind.text);
    expect(row, kind.name).toBeDefined();
    expect(row.no_event, kind.name).toBe(true);
    if (kind.id) expect(row.event_id, kind.name).toBe(kind.id);
    else expect(row.event_id, kind.name).toMatch(/^sha256:[0-9a-f]{64}$/);
  }
  // Counted nowhere: no attribution, nothing pending.
  const { rows: effects } = await db.pool.query(
    `select (select count(*) from app_public.message_events e join app_public.raw_events r on r.id = e.raw_event_id
             where r.problem is not null)::int as attributed,
            (select count(*) from app_private.pending_events p join app_public.raw_events r on r.id = p.raw_event_id
             where r.problem is not null)::int as pending`,
  );
  expect(effects[0]).toEqual({ attributed: 0, pending: 0 });
  // DBAs see them with their text.
  const { rows: visible } = await db.pool.query("select count(*)::int as n from app_public.monitor_problem_events where event_text is not null");
  expect(visible[0].n).toBe(kinds.length);
});

test("a poisoned event delivered again is recognised, not stored twice", async () => {
  const kinds = poisons("p2~");
  for (let round = 0; round < 2; round++) {
    const statuses = await Promise.all(kinds.map((k) => post(`[${k.text}]`)));
    expect(statuses).toEqual(kinds.map(() => 200));
    await runQueuedJobs(db.pool);
    expect(await jobCounts()).toEqual({ jobs: 0, attempted: 0, failed: 0 });
  }
  const { rows } = await db.pool.query(
    "select count(*)::int as rows, min(times_received)::int as least, max(times_received)::int as most from app_public.raw_events where event_text like '%p2~%'",
  );
  expect(rows[0]).toEqual({ rows: kinds.length, least: 2, most: 2 });
});

test("content the receiver let through still cannot fail a job: ingest_job splits it event by event", async () => {
  // Written straight into a job, past the receiver: an id too long for the unique index, and a NUL character.
  const longId = `p3-${randomText(20_000)}`;
  const delivery = (events: string[]) =>
    `{"schema":"eventgrid","receivedAt":"2026-12-01T10:00:01Z","deliveryCount":0,"subscriptionName":"S","events":[${events.join(",")}]}`;
  const payload = `[${delivery([JSON.stringify(event("p3-good-1")), JSON.stringify(event(longId))])},` +
    `${delivery([JSON.stringify(event("p3-good-2")), JSON.stringify(event("p3-nul")).replace('"view"', '"\\u0000"')])},` +
    `${delivery([JSON.stringify(event("p3-good-3"))])}]`;
  await db.pool.query("select graphile_worker.add_job('ingest_events', $1::json, max_attempts => 25)", [payload]);
  await runQueuedJobs(db.pool);
  expect(await jobCounts()).toEqual({ jobs: 0, attempted: 0, failed: 0 });
  const { rows } = await db.pool.query(
    "select event_id, problem is not null as problem, event_text is not null as as_text from app_public.raw_events where received_at = '2026-12-01T10:00:01Z' order by event_id",
  );
  // The id too long for the index is isolated from its delivery's good event. A delivery PostgreSQL cannot even
  // parse (the NUL, which the receiver would have set aside) is kept whole, as text, with its problem.
  expect(rows.filter((r) => !r.problem).map((r) => r.event_id)).toEqual(["p3-good-1", "p3-good-3"]);
  expect(rows.filter((r) => r.problem).map((r) => [r.event_id.slice(0, 7), r.as_text])).toEqual([["sha256:", true]]);
  const { rows: whole } = await db.pool.query(
    `select problem from app_public.raw_events where event_text like '%"p3-good-2"%' and event_text like '%"p3-nul"%'`,
  );
  expect(whole.map((r) => r.problem)).toEqual(["delivery cannot be stored as JSON: unsupported Unicode escape sequence"]);
});
