// An event and its message written by two transactions at the same time: neither may miss the other.
// An event that matches no message is looked up again under advisory lock 'pending events' (shared) before it
// is parked; message insertion takes the lock exclusively (both until commit), so whichever commits second sees
// the first and the event is attributed exactly once.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
let campaignId: string;
let subscriberId: string;
let senderId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  senderId = (await db.pool.query("insert into app_public.senders (name, from_address) values ('N', 'news@news.example.com') returning id")).rows[0].id;
  campaignId = (await db.pool.query("insert into app_public.campaigns (name, sender_id) values ('C', $1) returning id", [senderId])).rows[0].id;
  subscriberId = (await db.pool.query("insert into app_public.subscribers (email) values ('a@example.org') returning id")).rows[0].id;
});
afterAll(async () => {
  await db?.drop();
});

const insertMessage = (client: pg.PoolClient | pg.Pool, imid: string, subscriber: string) =>
  client.query(
    `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id)
     values ($1, $2, $3, 'a@example.org', $4)`,
    [campaignId, subscriber, senderId, imid],
  );
const ingest = (client: pg.PoolClient | pg.Pool, id: string, imid: string) =>
  client.query("select * from app_private.ingest_events($1)", [
    JSON.stringify({
      schema: "eventgrid",
      receivedAt: new Date().toISOString(),
      events: [{
        id, topic: "/t", eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", eventTime: new Date().toISOString(),
        data: { internetMessageId: imid, engagementType: "view", userAgent: "Mozilla/5.0 (X11) Firefox/130.0" },
      }],
    }),
  ]);
const attributed = async (id: string) =>
  (await db.pool.query(
    `select count(*)::int as n from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id where e.event_id = $1`,
    [id],
  )).rows[0].n;
const waitingOnLock = async () =>
  (await db.pool.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0].n;
/** Polls `check` until it holds (a generous timeout: the machine may be busy). */
const eventually = async (check: () => Promise<boolean>) => {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe(`attribution across concurrent transactions (PostgreSQL ${inject("pgVersion")})`, () => {
  test("an event ingested while its message's transaction is open waits for it, then is attributed", async () => {
    const imid = "<aaaaaaaa-0000-4000-8000-000000000001@news.example.com>";
    const sending = await db.pool.connect();
    try {
      await sending.query("begin");
      await insertMessage(sending, imid, subscriberId);
      const ingesting = ingest(db.pool, "e1", imid);
      await eventually(async () => (await waitingOnLock()) === 1);
      await sending.query("commit");
      await ingesting;
    } finally {
      sending.release();
    }
    expect(await attributed("e1")).toBe(1);
  });

  test("a message inserted while an event's transaction is open waits for it, then attributes the event", async () => {
    const imid = "<aaaaaaaa-0000-4000-8000-000000000002@news.example.com>";
    const other = (await db.pool.query("insert into app_public.subscribers (email) values ('b@example.org') returning id")).rows[0].id;
    const receiving = await db.pool.connect();
    try {
      await receiving.query("begin");
      await ingest(receiving, "e2", imid);
      const inserting = insertMessage(db.pool, imid, other);
      await eventually(async () => (await waitingOnLock()) === 1);
      await receiving.query("commit");
      await inserting;
    } finally {
      receiving.release();
    }
    expect(await attributed("e2")).toBe(1);
    expect((await db.pool.query("select count(*)::int as n from app_private.pending_events")).rows[0].n).toBe(0);
  });

  test("two ingest transactions do not wait for each other", async () => {
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query("begin");
      await b.query("begin");
      await ingest(a, "p1", "<bbbbbbbb-0000-4000-8000-000000000001@news.example.com>");
      await ingest(b, "p2", "<bbbbbbbb-0000-4000-8000-000000000002@news.example.com>");
      await a.query("commit");
      await b.query("commit");
    } finally {
      a.release();
      b.release();
    }
    expect((await db.pool.query("select count(*)::int as n from app_public.unattributed_events where event_id in ('p1', 'p2')")).rows[0].n).toBe(2);
  });

  test("two batches reporting on one message at once: the higher-ranking report wins, whichever commits first", async () => {
    // Each batch locks the message before reading its current status, so the second waits for the first and then
    // compares with what the first wrote.
    const report = (client: pg.PoolClient | pg.Pool, id: string, imid: string, status: string, at: string) =>
      client.query("select * from app_private.ingest_events($1)", [
        JSON.stringify({
          schema: "eventgrid",
          receivedAt: new Date().toISOString(),
          events: [{
            id, topic: "/t", eventType: "Microsoft.Communication.EmailDeliveryReportReceived", eventTime: at,
            data: { internetMessageId: imid, status, deliveryAttemptTimestamp: at, deliveryStatusDetails: { statusMessage: "550 5.1.1" } },
          }],
        }),
      ]);
    for (const [n, first, second] of [[4, "Bounced", "Delivered"], [5, "Delivered", "Bounced"]] as const) {
      const imid = `<aaaaaaaa-0000-4000-8000-00000000000${n}@news.example.com>`;
      const other = (await db.pool.query("insert into app_public.subscribers (email) values ($1) returning id", [`r${n}@example.org`])).rows[0].id;
      await insertMessage(db.pool, imid, other);
      const a = await db.pool.connect();
      try {
        await a.query("begin");
        await report(a, `r${n}a`, imid, first, "2026-11-27T10:00:00Z");
        const waiting = report(db.pool, `r${n}b`, imid, second, "2026-11-27T10:00:01Z");
        await eventually(async () => (await waitingOnLock()) === 1);
        await a.query("commit");
        await waiting;
      } finally {
        a.release();
      }
      const message = (await db.pool.query("select delivery_status, bounce_type from app_public.messages where internet_message_id = $1", [imid])).rows[0];
      expect(message).toEqual({ delivery_status: "Bounced", bounce_type: "hard" });
    }
  });

  test("a view ingested while its message's acceptance is being recorded is classified with that acceptance time", async () => {
    // The view is attributed before the acceptance commits (it reads no acceptance time), then waits for the
    // message's row; it must end "less than 2 s after acceptance", as if it had arrived after the acceptance.
    const imid = "<aaaaaaaa-0000-4000-8000-000000000003@news.example.com>";
    const other = (await db.pool.query("insert into app_public.subscribers (email) values ('c@example.org') returning id")).rows[0].id;
    await insertMessage(db.pool, imid, other);
    const sending = await db.pool.connect();
    try {
      await sending.query("begin");
      await sending.query("update app_public.messages set send_status = 'accepted', accepted_at = now() where internet_message_id = $1", [imid]);
      const ingesting = ingest(db.pool, "v1", imid);
      await eventually(async () => (await waitingOnLock()) === 1);
      await sending.query("commit");
      await ingesting;
    } finally {
      sending.release();
    }
    const message = (await db.pool.query(
      `select m.opens_human, m.opens_machine, me.machine_reason
       from app_public.messages m join app_public.message_events me on me.message_id = m.id where m.internet_message_id = $1`,
      [imid],
    )).rows;
    expect(message).toEqual([{ opens_human: 0, opens_machine: 1, machine_reason: "less than 2 s after acceptance" }]);
  });
});
