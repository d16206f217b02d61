// Ingestion while a campaign starts. start_campaign inserts one message per recipient in one transaction (about
// 20 s for a million recipients). Events for OTHER campaigns' messages must be stored and attributed meanwhile,
// without waiting for that transaction; an event for one of the starting campaign's own messages (whose
// Message-ID only that transaction can see yet) may wait for it or be kept pending, but must end attributed to
// its message exactly once when the start commits.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { waitFor } from "./helpers/wait.ts";

const A_RECIPIENTS = 20;
const B_RECIPIENTS = 2_000;

interface MessageKeys {
  id: string;
  internet_message_id: string;
  operation_id: string;
  recipient: string;
}

let db: TestDatabase;
let aMessages: MessageKeys[];
let bCampaigns: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const senderId = (await q("insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id")).rows[0].id;
  const list = async (name: string, recipients: number) => {
    const id = (await q("insert into app_public.lists (name, opt_in) values ($1, 'single') returning id", [name])).rows[0].id;
    await q(
      `with s as (insert into app_public.subscribers (email) select $1 || '-' || i || '@example.org' from generate_series(1, $2::int) as i returning id)
       insert into app_public.list_memberships (list_id, subscriber_id, status) select $3, s.id, 'confirmed' from s`,
      [name.toLowerCase(), recipients, id],
    );
    return id;
  };
  const campaign = async (name: string, listId: string) => {
    const id = (await q("insert into app_public.campaigns (name, sender_id) values ($1, $2) returning id", [name, senderId])).rows[0].id;
    await q("insert into app_public.campaign_lists (campaign_id, list_id) values ($1, $2)", [id, listId]);
    return id as string;
  };
  const listA = await list("A", A_RECIPIENTS);
  const listB = await list("B", B_RECIPIENTS);
  // Campaign A: started and committed, its messages accepted an hour ago (so that views count as human opens).
  const campaignA = await campaign("A", listA);
  await q("select app_public.start_campaign($1)", [campaignA]);
  await q("update app_public.messages set send_status = 'accepted', accepted_at = now() - interval '1 hour' where campaign_id = $1", [campaignA]);
  aMessages = (await q("select id, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1 order by id", [campaignA])).rows;
  expect(aMessages).toHaveLength(A_RECIPIENTS);
  // Campaigns B: drafts on the bigger list, one per test (a campaign starts once).
  bCampaigns = [await campaign("B1", listB), await campaign("B2", listB)];
});
afterAll(async () => {
  await db?.drop();
});

const at = (secondsAgo = 0) => new Date(Date.now() - secondsAgo * 1000).toISOString();
const topic = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/test";
const deliveryReport = (id: string, m: MessageKeys) => ({
  id, topic, subject: `sender/news@news.example.com/message/${m.operation_id}`,
  eventType: "Microsoft.Communication.EmailDeliveryReportReceived", eventTime: at(), dataVersion: "1.0", metadataVersion: "1",
  data: { sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
    status: "Delivered", deliveryStatusDetails: { statusMessage: "No error." }, deliveryAttemptTimestamp: at(60) },
});
const view = (id: string, m: MessageKeys) => ({
  id, topic, subject: `sender/news@news.example.com/message/${m.operation_id}`,
  eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", eventTime: at(), dataVersion: "1.0", metadataVersion: "1",
  data: { sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
    userActionTimestamp: at(), engagementContext: "", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", engagementType: "view" },
});
/** Stores one Event Grid delivery as the ingest job does: app_private.ingest_events, whose trigger attributes the events. */
const ingest = (client: pg.PoolClient, events: object[]) =>
  client.query("select * from app_private.ingest_events($1)", [
    JSON.stringify({ schema: "eventgrid", receivedAt: at(), deliveryCount: 0, subscriptionName: "test", events }),
  ]);

const byEventId = (x: { event_id: string }, y: { event_id: string }) => (x.event_id < y.event_id ? -1 : x.event_id > y.event_id ? 1 : 0);
/** The message each event (by event id) is attributed to, once per attribution, sorted by event id. */
const attributions = async (eventIds: string[]) =>
  (await db.pool.query(
    `select e.event_id, me.message_id::text from app_public.raw_events e join app_public.message_events me on me.raw_event_id = e.id
     where e.event_id = any($1)`,
    [eventIds],
  )).rows.sort(byEventId);
const counters = async (ids: string[]) =>
  (await db.pool.query(
    "select m.id::text, m.delivery_status, m.opens_human from app_public.messages m where m.id = any($1::bigint[]) order by m.id",
    [ids],
  )).rows;

/** A connection with a lock timeout: a statement that would wait for the starting campaign fails instead of hanging. */
async function impatient(): Promise<pg.PoolClient> {
  const client = await db.pool.connect();
  await client.query("set lock_timeout = '3s'");
  return client;
}

/**
 * While `starting` holds start_campaign(campaign) uncommitted, ingests a delivery report for one of that
 * campaign's messages on another connection, without waiting for it; once that statement is waiting (or done),
 * runs `meanwhile`, then commits the start. Returns the message and the event id.
 */
async function ingestOwnEventDuringStart(
  starting: pg.PoolClient,
  campaignId: string,
  eventId: string,
  meanwhile: () => Promise<void>,
): Promise<MessageKeys> {
  // Only the starting transaction sees the new messages yet: read one there.
  const own: MessageKeys = (await starting.query(
    "select id::text, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1 order by id desc limit 1",
    [campaignId],
  )).rows[0];
  expect(own).toBeDefined();
  const other = await db.pool.connect();
  let ingesting: Promise<unknown> | undefined;
  try {
    const pid = (await other.query("select pg_backend_pid() as pid")).rows[0].pid;
    let done = false;
    ingesting = ingest(other, [deliveryReport(eventId, own)]).then(
      () => (done = true),
      (error: unknown) => {
        done = true;
        throw error;
      },
    );
    ingesting.catch(() => undefined); // awaited below
    await waitFor(
      async () =>
        done ||
        (await db.pool.query("select 1 from pg_stat_activity where pid = $1 and state = 'active' and wait_event_type = 'Lock'", [pid])).rowCount === 1,
      20_000,
      "the event for the starting campaign's message to be stored or waiting for a lock",
    );
    await meanwhile();
    await starting.query("commit");
    await ingesting;
  } finally {
    await starting.query("rollback").catch(() => undefined); // when something failed before the commit
    await ingesting?.catch(() => undefined);
    other.release();
  }
  return own;
}

/** The event is attributed to its message exactly once: not pending, not unattributed. */
async function expectAttributedOnce(eventId: string, message: MessageKeys) {
  await waitFor(async () => (await attributions([eventId])).length > 0, 20_000, `event ${eventId} to be attributed`);
  expect(await attributions([eventId])).toEqual([{ event_id: eventId, message_id: message.id }]);
  const left = await db.pool.query(
    `select (select count(*)::int from app_private.pending_events p join app_public.raw_events e on e.id = p.raw_event_id where e.event_id = $1) as pending,
            (select count(*)::int from app_public.unattributed_events where event_id = $1) as unattributed`,
    [eventId],
  );
  expect(left.rows[0]).toEqual({ pending: 0, unattributed: 0 });
  expect(await counters([message.id])).toEqual([{ id: message.id, delivery_status: "Delivered", opens_human: 0 }]);
}

describe(`ingestion while a campaign starts (PostgreSQL ${inject("pgVersion")})`, () => {
  test("events for another campaign's messages are attributed without waiting for the start to commit", async () => {
    const starting = await db.pool.connect();
    const ingesting = await impatient();
    try {
      await starting.query("begin");
      const started = (await starting.query("select app_public.start_campaign($1)", [bCampaigns[0]])).rows;
      expect(started).toHaveLength(1);

      // Delivery reports for A's first 10 messages and views of its first 5, in one delivery.
      const reported = aMessages.slice(0, 10);
      const viewed = aMessages.slice(0, 5);
      const first = [...reported.map((m, i) => deliveryReport(`a-delivery-${i}`, m)), ...viewed.map((m, i) => view(`a-view-${i}`, m))];
      expect((await ingest(ingesting, first)).rows[0]).toMatchObject({ received: 15, inserted: 15 });
      expect(await attributions(first.map((e) => e.id))).toEqual(
        [...reported.map((m, i) => ({ event_id: `a-delivery-${i}`, message_id: m.id })), ...viewed.map((m, i) => ({ event_id: `a-view-${i}`, message_id: m.id }))]
          .sort(byEventId),
      );
      expect(await counters(reported.map((m) => m.id))).toEqual(
        reported.map((m, i) => ({ id: m.id, delivery_status: "Delivered", opens_human: i < 5 ? 1 : 0 })),
      );

      // An event for one of B's own messages arrives meanwhile; while it is held, A's events still go through.
      const own = await ingestOwnEventDuringStart(starting, bCampaigns[0], "b-delivery-own", async () => {
        const later = aMessages.slice(10).map((m, i) => view(`a-view-later-${i}`, m));
        expect((await ingest(ingesting, later)).rows[0]).toMatchObject({ received: 10, inserted: 10 });
        expect(await attributions(later.map((e) => e.id))).toEqual(
          aMessages.slice(10).map((m, i) => ({ event_id: `a-view-later-${i}`, message_id: m.id })).sort(byEventId),
        );
      });
      await expectAttributedOnce("b-delivery-own", own);
    } finally {
      await starting.query("rollback").catch(() => undefined);
      starting.release();
      ingesting.release();
    }
  });

  test("an event for the starting campaign's own message, ingested before the start commits, is attributed once after", async () => {
    const starting = await db.pool.connect();
    try {
      await starting.query("begin");
      await starting.query("select app_public.start_campaign($1)", [bCampaigns[1]]);
      const own = await ingestOwnEventDuringStart(starting, bCampaigns[1], "b2-delivery-own", async () => undefined);
      await expectAttributedOnce("b2-delivery-own", own);
      const rollup = (await db.pool.query("select recipients::int, delivered::int from app_public.campaign_rollups where campaign_id = $1", [bCampaigns[1]])).rows;
      expect(rollup).toEqual([{ recipients: B_RECIPIENTS, delivered: 1 }]);
    } finally {
      await starting.query("rollback").catch(() => undefined);
      starting.release();
    }
  });
});
