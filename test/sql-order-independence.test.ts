// Order independence at scale: thousands of messages, their delivery reports (several per message, any status),
// views and clicks, 5% duplicates, messages and events arriving in random order and in random batches. The
// maintained rollup must equal the one computed from the raw events and the counts expected here; a second
// database fed the same items in another order must end with the same message states.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

const MESSAGES = Number(process.env.ORDER_MESSAGES ?? 2000);
const BASE = Date.parse("2026-11-27T10:00:00Z");
const PRECEDENCE: Record<string, number> = {
  Expanded: 10, Delivered: 20, Quarantined: 30, FilteredSpam: 40, Failed: 50, Bounced: 60, Suppressed: 70,
};
const STATUSES = [
  ["Delivered", "No error."], ["delivered", "No error."], ["Expanded", "Expanded."], ["Bounced", "550 5.1.1 no such user"],
  ["Failed", "550 5.7.1 rejected"], ["Failed", "421 4.4.2 timed out"], ["Quarantined", "quarantined"],
  ["FilteredSpam", "spam"], ["Suppressed", "suppressed"], ["Deferred", "unknown to Mailroom"],
] as const;

// A seeded generator, so that a failure can be reproduced.
let seed = Number(process.env.ORDER_SEED ?? 20261127);
const random = () => {
  seed = (seed * 1664525 + 1013904223) % 4294967296;
  return seed / 4294967296;
};
const pick = <T,>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
const shuffled = <T,>(xs: T[]) => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

interface Message { n: number; email: string; imid: string; opid: string }
type Item = { kind: "message"; m: Message } | { kind: "event"; event: object };

const messages: Message[] = [];
const events: object[] = [];
const expected = {
  recipients: MESSAGES, delivered: 0, expanded: 0, bounced_hard: 0, bounced_soft: 0, suppressed: 0, filtered_spam: 0,
  quarantined: 0, delivery_failed: 0, unknown_status: 0, unique_opens_human: 0, unique_opens: 0, opens_human: 0, opens: 0,
  unique_clicks_human: 0, unique_clicks: 0, clicks_human: 0, clicks: 0,
};
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
for (let n = 0; n < MESSAGES; n++) {
  const m = { n, email: `r${n}@example.org`, imid: `<${crypto.randomUUID()}@news.example.com>`, opid: crypto.randomUUID() };
  messages.push(m);
  const envelope = (type: string, time: string, data: object) => ({
    id: crypto.randomUUID(), topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/news@news.example.com/message/${m.opid}`, eventType: `Microsoft.Communication.${type}`,
    eventTime: time, dataVersion: "1.0", metadataVersion: "1", data,
  });
  // Delivery reports: 0 to 3, at distinct times.
  let best: { status: string; precedence: number; time: number; message: string } | undefined;
  const reports = Math.floor(random() * 4);
  for (let r = 0; r < reports; r++) {
    const [raw, message] = pick(STATUSES);
    const time = 60 + n * 0.5 + r * 0.1 + random() * 0.05; // before the engagement, which is an hour later
    const status = raw === "delivered" ? "Delivered" : raw;
    const precedence = PRECEDENCE[status] ?? 0;
    if (!best || precedence > best.precedence || (precedence === best.precedence && time > best.time)) best = { status, precedence, time, message };
    events.push(envelope("EmailDeliveryReportReceived", at(time), {
      sender: "news@news.example.com", recipient: m.email, messageId: m.opid, internetMessageId: m.imid, status: raw,
      deliveryStatusDetails: { statusMessage: message }, [random() < 0.5 ? "deliveryAttemptTimestamp" : "deliveryAttemptTimeStamp"]: at(time),
    }));
  }
  if (best) {
    const s = best.status;
    if (s === "Delivered") expected.delivered++;
    else if (s === "Expanded") expected.expanded++;
    else if (s === "Suppressed") expected.suppressed++;
    else if (s === "FilteredSpam") expected.filtered_spam++;
    else if (s === "Quarantined") expected.quarantined++;
    else if (s === "Failed") expected.delivery_failed++;
    else if (!(s in PRECEDENCE)) expected.unknown_status++;
    if (s === "Bounced" || (s === "Failed" && /5\.\d+\.\d+/.test(best.message))) expected.bounced_hard++;
    else if (s === "Failed" || s === "Quarantined" || s === "FilteredSpam") expected.bounced_soft++;
  }
  // Views: 0 to 3, a fifth of them by Gmail's image proxy; some carry only the operation id and no recipient.
  let human = 0;
  let all = 0;
  const views = Math.floor(random() * 4);
  for (let v = 0; v < views; v++) {
    const proxy = random() < 0.2;
    const byOperationOnly = random() < 0.1;
    all++;
    if (!proxy) human++;
    events.push(envelope("EmailEngagementTrackingReportReceived", at(3600 + n + v * 20), {
      sender: "news@news.example.com",
      ...(byOperationOnly ? { messageId: m.opid } : { recipient: m.email, messageId: crypto.randomUUID(), internetMessageId: m.imid }),
      userActionTimestamp: at(3600 + n + v * 20), engagementContext: "",
      userAgent: proxy ? "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" : "Mozilla/5.0 (X11) Firefox/130.0",
      engagementType: random() < 0.5 ? "view" : "View",
    }));
  }
  expected.opens += all;
  expected.opens_human += human;
  if (all) expected.unique_opens++;
  if (human) expected.unique_opens_human++;
  // Clicks: 0 to 2 on distinct links, 30 s apart (never a burst), by operation id and recipient.
  const clicks = Math.floor(random() * 3);
  for (let c = 0; c < clicks; c++) {
    events.push(envelope("EmailEngagementTrackingReportReceived", at(7200 + n + c * 30), {
      sender: "news@news.example.com", recipient: m.email.toUpperCase(), messageId: m.opid,
      userActionTimeStamp: at(7200 + n + c * 30), engagementContext: `https://example.com/${c}`, userAgent: "Mozilla/5.0 (iPhone) Mobile/15E148",
      engagementType: "click",
    }));
  }
  expected.clicks += clicks;
  expected.clicks_human += clicks;
  if (clicks) {
    expected.unique_clicks++;
    expected.unique_clicks_human++;
  }
}
const duplicates = events.filter(() => random() < 0.05);
const items: Item[] = [
  ...messages.map((m) => ({ kind: "message" as const, m })),
  ...events.map((event) => ({ kind: "event" as const, event })),
  ...duplicates.map((event) => ({ kind: "event" as const, event })),
];

async function setUp(db: TestDatabase): Promise<{ campaignId: string; senderId: string }> {
  const senderId = (await db.pool.query("insert into app_public.senders (name, from_address) values ('N', 'news@news.example.com') returning id")).rows[0].id;
  const campaignId = (await db.pool.query("insert into app_public.campaigns (name, sender_id) values ('C', $1) returning id", [senderId])).rows[0].id;
  await db.pool.query("insert into app_public.subscribers (email) select 'r' || g || '@example.org' from generate_series(0, $1 - 1) g", [MESSAGES]);
  return { campaignId, senderId };
}

/** Feeds the items in a random order, in random batches: each batch one message INSERT and one ingest call. */
async function feed(db: TestDatabase, order: Item[], campaignId: string, senderId: string): Promise<void> {
  for (let i = 0; i < order.length;) {
    const size = 1 + Math.floor(random() * 300);
    const batch = order.slice(i, i + size);
    i += size;
    const newMessages = batch.flatMap((item) => (item.kind === "message" ? [item.m] : []));
    const newEvents = batch.flatMap((item) => (item.kind === "event" ? [item.event] : []));
    const insert = async () => {
      if (!newMessages.length) return;
      await db.pool.query(
        `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id, send_status, accepted_at)
         select $1, s.id, $2, m.email, m.imid, m.opid::uuid, 'accepted', '2026-11-27T09:00:00Z'
         from jsonb_to_recordset($3::jsonb) as m(email text, imid text, opid text) join app_public.subscribers s on s.email = m.email`,
        [campaignId, senderId, JSON.stringify(newMessages)],
      );
    };
    const ingest = async () => {
      if (!newEvents.length) return;
      await db.pool.query("select app_private.ingest_events($1)", [
        JSON.stringify({ schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 0, events: newEvents }),
      ]);
    };
    if (random() < 0.5) {
      await insert();
      await ingest();
    } else {
      await ingest();
      await insert();
    }
  }
}

const states = async (db: TestDatabase) =>
  (await db.pool.query(
    `select recipient, delivery_status, bounce_type, opens_human, opens_machine, clicks_human, clicks_machine,
            first_opened_at, last_opened_at, first_clicked_at, last_clicked_at, delivery_status_at
     from app_public.messages order by recipient`,
  )).rows;

let first: TestDatabase;
let second: TestDatabase;
beforeAll(async () => {
  first = await createTestDatabase();
  second = await createTestDatabase();
});
afterAll(async () => {
  await first?.drop();
  await second?.drop();
});

describe(`order independence over ${MESSAGES} messages (PostgreSQL ${inject("pgVersion")})`, () => {
  test("rollup = computed from raw events = expected; another order gives the same message states", { timeout: 180_000 }, async () => {
    const a = await setUp(first);
    await feed(first, shuffled(items), a.campaignId, a.senderId);
    const b = await setUp(second);
    await feed(second, shuffled(items), b.campaignId, b.senderId);

    const rollup = (await first.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [a.campaignId])).rows[0];
    const computed = (await first.pool.query("select * from app_public.campaign_rollup_from_events($1)", [a.campaignId])).rows[0];
    expect(rollup).toEqual(computed);
    const numbers = Object.fromEntries(Object.keys(expected).map((k) => [k, Number(rollup[k])]));
    expect(numbers).toEqual(expected);
    expect(Number(rollup.accepted)).toBe(MESSAGES);

    const attributedOnce = await first.pool.query(
      `select (select count(*) from app_public.message_events)::int as attributed,
              (select count(*) from app_public.raw_events)::int as stored,
              (select count(*) from app_private.pending_events)::int as pending`,
    );
    expect(attributedOnce.rows[0]).toEqual({ attributed: events.length, stored: events.length, pending: 0 });

    expect(await states(second)).toEqual(await states(first));
    const rollupB = (await second.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [b.campaignId])).rows[0];
    expect({ ...rollupB, campaign_id: null }).toEqual({ ...rollup, campaign_id: null });

    // Recomputing re-derives every message from all of its events: the states maintained batch by batch are those.
    const maintained = await states(first);
    const recomputed = (await first.pool.query("select * from app_public.recompute_campaign_rollup($1)", [a.campaignId])).rows[0];
    expect(recomputed).toEqual(rollup);
    expect(await states(first)).toEqual(maintained);
  });
});
