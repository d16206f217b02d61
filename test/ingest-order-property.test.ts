// Property: ingestion's result depends only on the set of events, never on the order they arrive in, how
// they are grouped into jobs, or how many jobs run at once; and concurrent jobs never deadlock.
//
// One set of events for a few hundred messages of three campaigns (the messages are there first; most
// subscribers are in several campaigns): delivery reports with exact ties (same status, same
// deliveryAttemptTimestamp, different content: Failed "550 5.7.1" against Failed "421 4.4.2", Bounced against
// Bounced...), views and clicks (at the same instant, in bursts over several links, from robots and image
// proxies, too soon after acceptance), events attributed by each key, in Event Grid and CloudEvents schema,
// and duplicates (the same event delivered two or three times, sometimes in the same job). Each run feeds
// these events in another random order into a fresh database, as ingest_events jobs of one or a few
// deliveries queued the way the receiver queues them, and works them with a graphile-worker runner running
// the project's ingest_events task 16 jobs at once. Every run must end in the state of the first run, with
// every event stored once and attributed, the rollups and the opens and clicks per hour equal to those computed
// from the raw events, no job attempt failed and no deadlock. (The test databases detect
// deadlocks after 50 ms and failed attempts are retried at once, so a build that deadlocks still finishes.)
//
// INGEST_ORDER_SEED reproduces a run (the seed is printed on failure); INGEST_ORDER_RUNS (6),
// INGEST_ORDER_CONCURRENCY (16), INGEST_ORDER_SUBSCRIBERS (110) size it; INGEST_ORDER_SAME=1 feeds every
// run the first run's order (with INGEST_ORDER_CONCURRENCY=1 a check of the test itself: it must pass).
import { EventEmitter } from "node:events";
import { Logger, run, type WorkerEvents } from "graphile-worker";
import { afterEach, describe, expect, inject, test } from "vitest";
import ingestEvents from "../tasks/ingest_events.ts";
import { TrackingKeys } from "../src/tracking/token.ts";
import { createTestDatabase, superuserQuery, type TestDatabase } from "./helpers/database.ts";
import { endPool, testPool } from "./helpers/pg.ts";
import { waitFor } from "./helpers/wait.ts";

const SEED = Number(process.env.INGEST_ORDER_SEED ?? 20261128);
const RUNS = Number(process.env.INGEST_ORDER_RUNS ?? 6);
const CONCURRENCY = Number(process.env.INGEST_ORDER_CONCURRENCY ?? 16);
const SUBSCRIBERS = Number(process.env.INGEST_ORDER_SUBSCRIBERS ?? 110);
const SAME_ORDER = process.env.INGEST_ORDER_SAME === "1";

const TOPIC =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/mailroom-acs";
const SENDER = "news@news.example.com";
const ACCEPTED_AT = Date.parse("2026-11-27T09:00:00Z");
const CAMPAIGNS = ["autumn", "winter", "spring"] as const;
// Which engagement each campaign counts: Azure's, Mailroom's own hits, or both (an open or click seen by both once).
const TRACKING = ["azure", "mailroom", "both"] as const;
const TRACKING_KEYS = new TrackingKeys(["property-test-tracking-secret-0123456789"]);

// ---------------------------------------------------------------------------------------------------------
// A seeded generator (mulberry32): the event set comes from SEED, each run's order from SEED and its number.
function generator(seed: number) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)];
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => int(16).toString(16));
    hex[12] = "4";
    hex[16] = (8 + int(4)).toString(16);
    const s = hex.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };
  const shuffled = <T,>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  return { random, int, pick, uuid, shuffled };
}

// ---------------------------------------------------------------------------------------------------------
// The event set.
interface Message { campaign: string; subscriber: number; email: string; imid: string; opid: string }
interface Event { id: string; schema: "eventgrid" | "cloudevents"; body: object; bounce: boolean }

const g = generator(SEED);
const messages: Message[] = [];
for (const campaign of CAMPAIGNS) {
  for (let s = 0; s < SUBSCRIBERS; s++) {
    // Everyone gets the first campaign, most the second, half the third: a subscriber's messages in
    // several campaigns are worked by different jobs at once.
    if (campaign === "winter" && g.random() < 0.25) continue;
    if (campaign === "spring" && g.random() < 0.5) continue;
    messages.push({ campaign, subscriber: s, email: `r${s}@example.org`, imid: `<${g.uuid()}@news.example.com>`, opid: g.uuid() });
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
/** ACS writes attempt and action times with 7 fractional digits and an offset. */
const acsTime = (ms: number) => iso(ms).replace(/\.(\d{3})Z$/, (_m, frac: string) => `.${frac}${String(ms % 7).padStart(4, "0")}+00:00`);

const events: Event[] = [];
function emit(m: Message, type: "EmailDeliveryReportReceived" | "EmailEngagementTrackingReportReceived", atMs: number, data: object, bounce = false) {
  const id = g.uuid();
  const schema = g.random() < 0.3 ? "cloudevents" : "eventgrid";
  const eventType = `Microsoft.Communication.${type}`;
  const time = iso(atMs + 200 + g.int(800)); // Event Grid's time: a little after the attempt or action
  const subject = `sender/${SENDER}/message/${m.opid}`;
  const body =
    schema === "eventgrid"
      ? { id, topic: TOPIC, subject, eventType, eventTime: time, dataVersion: "1.0", metadataVersion: "1", data }
      : { specversion: "1.0", type: eventType, source: TOPIC, id, time, subject, datacontenttype: "application/json", data };
  events.push({ id, schema, body, bounce });
}

/** Which keys an event carries: Message-ID (most), operation id and recipient, or operation id alone. */
function keys(m: Message): object {
  const r = g.random();
  if (r < 0.6) return { recipient: m.email, messageId: m.opid, internetMessageId: m.imid };
  if (r < 0.9) return { recipient: g.random() < 0.5 ? m.email.toUpperCase() : m.email, messageId: m.opid };
  return { messageId: m.opid };
}

function report(m: Message, atMs: number, status: string, statusMessage: string) {
  const bounce = /^(bounced|failed|quarantined|filteredspam)$/i.test(status);
  emit(m, "EmailDeliveryReportReceived", atMs, {
    sender: SENDER, ...keys(m), status,
    deliveryStatusDetails: { statusMessage, recipientMailServerHostName: "mx.example.org" },
    [g.random() < 0.5 ? "deliveryAttemptTimestamp" : "deliveryAttemptTimeStamp"]: acsTime(atMs),
  }, bounce);
}

const STATUSES = [
  ["Delivered", "No error."], ["delivered", "No error."], ["Expanded", "Expanded to 2 recipients."],
  ["Bounced", "550 5.1.1 User unknown"], ["Failed", "550 5.7.1 Message rejected by policy"],
  ["Failed", "421 4.4.2 Connection timed out"], ["Quarantined", "Quarantined: bulk"], ["FilteredSpam", "Spam"],
  ["Suppressed", "On the suppression list"], ["Deferred", "A status Mailroom does not know"],
] as const;
// Exact ties: the same status (so the same precedence), the same deliveryAttemptTimestamp, different content.
const TIES = [
  ["Failed", "550 5.7.1 Message rejected by policy", "421 4.4.2 Connection timed out"],
  ["Failed", "421 4.4.2 Connection timed out", "554 5.4.4 Unable to route"],
  ["Bounced", "550 5.1.1 User unknown", "552 5.2.2 Mailbox full"],
  ["Delivered", "No error.", "250 2.0.0 OK queued as 4f2a"],
  ["Quarantined", "Quarantined: bulk", "Quarantined: phishing"],
  ["FilteredSpam", "Spam", "Spam: high confidence"],
  ["Suppressed", "On the suppression list", "Recipient opted out"],
  ["Deferred", "Greylisted", "Try again later"], // an unknown status: precedence 0 against precedence 0
] as const;
const LOWER: Record<string, readonly string[]> = { Delivered: ["Expanded"], Deferred: [] };

const HUMAN = ["Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"];
const PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
const ROBOT = "Googlebot/2.1 (+http://www.google.com/bot.html)";
const LINKS = ["https://example.com/sale", "https://example.com/news", "https://example.com/about", "https://example.com/shop?utm_source=mailroom"];

function view(m: Message, atMs: number, userAgent: string) {
  emit(m, "EmailEngagementTrackingReportReceived", atMs, {
    sender: SENDER, ...keys(m), [g.random() < 0.5 ? "userActionTimestamp" : "userActionTimeStamp"]: acsTime(atMs),
    engagementContext: "", userAgent, engagementType: g.pick(["view", "View"]),
  });
}
function click(m: Message, atMs: number, url: string, userAgent: string) {
  emit(m, "EmailEngagementTrackingReportReceived", atMs, {
    sender: SENDER, ...keys(m), [g.random() < 0.5 ? "userActionTimestamp" : "userActionTimeStamp"]: acsTime(atMs),
    engagementContext: url, userAgent, engagementType: g.pick(["click", "Click"]),
  });
}

/** Mailroom's own hit (what src/http/tracking.ts queues): always the Event Grid schema, topic "mailroom". */
function hit(m: Message, atMs: number, type: "view" | "click", url: string, userAgent: string,
  request: { method?: "GET" | "HEAD"; ip?: string; honeypot?: boolean } = {}) {
  const id = g.uuid();
  const time = iso(atMs);
  events.push({
    id, schema: "eventgrid", bounce: false,
    body: { id, topic: "mailroom", subject: `messages/${m.opid}`, eventType: "Mailroom.EmailEngagementTracked", eventTime: time,
      dataVersion: "1.0", metadataVersion: "1",
      data: { messageId: m.opid, engagementType: type, engagementContext: url, link: 1, honeypot: request.honeypot ?? false,
        httpMethod: request.method ?? "GET", ipAddress: request.ip ?? "192.0.2.10", userAgent, userActionTimeStamp: time } },
  });
}
/** The URL Azure reports for a click on a link Mailroom tracks: Mailroom's own tracking URL of it. */
const trackedUrl = (m: Message, url: string) => `https://mail.example.com/t/c/${TRACKING_KEYS.sign("click", m.opid, 1, url)}`;
const UNSUBSCRIBE = "https://mail.example.com/unsubscribe/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB";

let tieMessages = 0;
for (const m of messages) {
  const t0 = ACCEPTED_AT + g.int(600_000);
  // Delivery reports.
  if (g.random() < 0.4) {
    tieMessages++;
    const [status, a, b] = g.pick(TIES);
    // Lower-ranking reports first, so that the tie decides the message's status.
    const lower = LOWER[status] ?? ["Expanded", "Delivered"];
    for (let i = 0, n = g.int(2); i < n && lower.length; i++) report(m, t0 + i * 1000, g.pick(lower), "Earlier.");
    const at = t0 + 30_000 + g.int(1000);
    report(m, at, status, a);
    report(m, at, status, b);
    if (g.random() < 0.25) report(m, at, status, `${b} (again)`); // three at once
  } else {
    for (let i = 0, n = g.int(4); i < n; i++) {
      const [status, message] = g.pick(STATUSES);
      report(m, t0 + i * 3000 + g.int(1000), status, message);
    }
  }
  // Views: some at the same instant, some by Gmail's image proxy or a robot, some too soon after acceptance.
  let at = ACCEPTED_AT + 3_600_000 + g.int(3_600_000);
  for (let i = 0, n = g.int(4); i < n; i++) {
    const r = g.random();
    if (r < 0.2 && i > 0) { /* the same instant as the previous view */ }
    else if (r < 0.25) at = ACCEPTED_AT + g.int(1500);
    else at += 1000 + g.int(600_000);
    view(m, at, g.random() < 0.2 ? PROXY : g.random() < 0.1 ? ROBOT : g.pick(HUMAN));
  }
  // Clicks: single, at the same instant on two links, bursts over three or four links within seconds
  // (machine), two links in a burst window (human), robots.
  const start = ACCEPTED_AT + 7_200_000 + g.int(3_600_000);
  const plan = g.random();
  if (plan < 0.2) {
    click(m, start, g.pick(LINKS), g.pick(HUMAN));
  } else if (plan < 0.35) {
    const ua = g.pick(HUMAN);
    click(m, start, LINKS[0], ua);
    click(m, start, LINKS[1], ua);
    if (g.random() < 0.5) click(m, start + 5000, LINKS[2], ua); // exactly burst_seconds later
  } else if (plan < 0.5) {
    const ua = g.pick(HUMAN);
    const links = g.shuffled(LINKS).slice(0, 3 + g.int(2));
    links.forEach((url, i) => click(m, start + i * g.int(1500), url, ua));
    if (g.random() < 0.5) click(m, start + 60_000, links[0], ua); // a later click outside the burst
  } else if (plan < 0.6) {
    const ua = g.pick(HUMAN);
    click(m, start, LINKS[0], ua);
    click(m, start + 2000, LINKS[1], ua);
    click(m, start + 2500, LINKS[0], ua); // the same link again: still two distinct links
  } else if (plan < 0.7) {
    click(m, start, g.pick(LINKS), ROBOT);
    if (g.random() < 0.5) click(m, start, g.pick(LINKS), g.pick(HUMAN));
  }
  // Mailroom's own hits, in every campaign (counted where it tracks mailroom or both): an open seen by Azure too
  // (within source_overlap_seconds or not), a click through Azure's wrapper of Mailroom's URL, the honeypot near a
  // click, HEAD requests, a listed scanner's address; and Azure's report of a click on the unsubscribe link.
  const own = g.random();
  const ua = g.pick(HUMAN);
  const at2 = ACCEPTED_AT + 10_800_000 + g.int(3_600_000);
  if (own < 0.15) {
    hit(m, at2, "view", "", ua);
    view(m, at2 + g.pick([0, 1000, 59_000, 61_000, -30_000]), ua);
  } else if (own < 0.3) {
    const url = g.pick(LINKS);
    hit(m, at2, "click", url, ua);
    click(m, at2 - g.int(2000), trackedUrl(m, url), ua);
    if (g.random() < 0.3) click(m, at2 + 1000, trackedUrl(m, g.pick(LINKS)), ua);
  } else if (own < 0.4) {
    hit(m, at2, "click", LINKS[0], ua);
    hit(m, at2 + g.int(8000), "click", "", "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", { honeypot: true });
  } else if (own < 0.45) {
    hit(m, at2, "click", g.pick(LINKS), ua, { method: "HEAD" });
    hit(m, at2 + 500, "view", "", ua, { ip: "205.139.110.40" });
  } else if (own < 0.5) {
    click(m, at2, UNSUBSCRIBE, ua);
  }
}

// Duplicates: about one event in ten delivered two or three times.
const copies: Event[] = [];
for (const e of events) {
  copies.push(e);
  if (g.random() < 0.1) for (let i = 0, n = 1 + g.int(2); i < n; i++) copies.push(e);
}
const copiesOf = new Map<string, number>();
for (const e of copies) copiesOf.set(e.id, (copiesOf.get(e.id) ?? 0) + 1);
const expectedBounces = events.filter((e) => e.bounce).length;

/**
 * One run's jobs: the copies in a random order, grouped into deliveries (consecutive events of one schema,
 * one to four) and jobs (one delivery, sometimes two or three), each job's payload an array of deliveries
 * as the receiver queues them.
 */
function jobsFor(runNumber: number): object[][] {
  const o = generator(SEED * 7919 + (SAME_ORDER ? 0 : runNumber) + 1);
  const order = o.shuffled(copies);
  const deliveries: object[] = [];
  for (let i = 0; i < order.length;) {
    const schema = order[i].schema;
    const size = o.random() < 0.6 ? 1 : 2 + o.int(3);
    const batch: Event[] = [];
    while (i < order.length && batch.length < size && order[i].schema === schema) batch.push(order[i++]);
    deliveries.push({
      schema, receivedAt: iso(ACCEPTED_AT + 86_400_000 + i), deliveryCount: o.random() < 0.1 ? 1 : 0,
      subscriptionName: "MAILROOM", events: batch.map((e) => e.body),
    });
  }
  const jobs: object[][] = [];
  for (let i = 0; i < deliveries.length;) {
    const size = o.random() < 0.75 ? 1 : 2 + o.int(2);
    jobs.push(deliveries.slice(i, i + size));
    i += size;
  }
  return jobs;
}

// ---------------------------------------------------------------------------------------------------------
// One run.
interface Outcome {
  snapshot: Snapshot;
  jobs: number;
  failedAttempts: { code: string; message: string; detail: string }[];
  deadlocks: number;
  deadlockSample: string;
  counts: Record<string, number>;
  rollupsFromEvents: { campaign: string; maintained: unknown; computed: unknown }[];
  /** Per campaign, the hours of campaign_engagement_hourly with something in them, and the oracle's hours. */
  hoursFromEvents: { campaign: string; maintained: unknown[]; computed: unknown[]; rollup: unknown; sums: unknown }[];
  ms: number;
}
type Snapshot = Record<string, Map<string, Record<string, unknown>>>;

const silentLogger = new Logger(() => () => undefined);
const APPLICATION = "ingest-order-worker";
const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

async function setUp(db: TestDatabase): Promise<void> {
  const sender = (await db.pool.query("insert into app_public.senders (name, from_address) values ('News', $1) returning id", [SENDER])).rows[0].id;
  await db.pool.query(
    "insert into app_public.campaigns (name, sender_id, engagement_tracking) select unnest($1::text[]), $2, unnest($3::text[])",
    [CAMPAIGNS, sender, TRACKING],
  );
  await db.pool.query("insert into app_public.subscribers (email) select 'r' || g || '@example.org' from generate_series(0, $1 - 1) g", [SUBSCRIBERS]);
  await db.pool.query(
    `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id, send_status, accepted_at)
     select c.id, s.id, $2, m.value->>'email', m.value->>'imid', (m.value->>'opid')::uuid, 'accepted', $3
     from jsonb_array_elements($1::jsonb) with ordinality as m(value, n)
     join app_public.campaigns c on c.name = m.value->>'campaign' join app_public.subscribers s on s.email = m.value->>'email'
     order by m.n`,
    [JSON.stringify(messages), sender, iso(ACCEPTED_AT)],
  );
}

async function feedAndWork(runNumber: number): Promise<Outcome> {
  const started = Date.now();
  const db = await createTestDatabase();
  databases.push(db);
  await setUp(db);
  const jobs = jobsFor(runNumber);
  // As the receiver queues them (src/http/delivery-queue.ts), all before the worker starts: the jobs are taken
  // in this order, CONCURRENCY at a time.
  await db.pool.query(
    "select graphile_worker.add_job('ingest_events', j.payload, max_attempts => 25) from json_array_elements($1::json) with ordinality as j(payload, n) order by j.n",
    [JSON.stringify(jobs)],
  );
  // Deadlocks are detected after 50 ms instead of 1 s, and a failed attempt is retried at once instead of after
  // graphile-worker's e^attempts seconds (below): a build that deadlocks still finishes its runs in time,
  // with every attempt that failed counted.
  await superuserQuery(`alter database ${db.name} set deadlock_timeout = '50ms'`);
  const deadlocksBefore = await deadlockCount(db);

  const failedAttempts: Outcome["failedAttempts"] = [];
  const workerEvents = new EventEmitter() as WorkerEvents;
  workerEvents.on("job:error", ({ error }) => {
    const e = error as { code?: string; message?: string; detail?: string; where?: string };
    // Where it failed: the chain of functions, innermost first (e.g. tg_messages__rollup line 12 < attribute_events line 6).
    const at = [...(e.where ?? "").matchAll(/(?:PL\/pgSQL|SQL) function "?([\w.]+)(?:\([^)]*\))?"?(?: line (\d+))?/g)]
      .map((m) => (m[2] ? `${m[1]} line ${m[2]}` : m[1])).join(" < ");
    failedAttempts.push({ code: e.code ?? "?", message: `${e.message ?? String(error)}${at ? ` in ${at}` : ""}`, detail: e.detail ?? "" });
  });
  const workerPool = testPool({ connectionString: db.ownerUrl, max: CONCURRENCY + 3, application_name: APPLICATION });
  const runner = await run({
    pgPool: workerPool,
    concurrency: CONCURRENCY,
    taskList: { ingest_events: ingestEvents },
    noHandleSignals: true,
    pollInterval: 100,
    logger: silentLogger,
    events: workerEvents,
    // As src/worker.ts runs it.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  try {
    // Until every job is done (graphile-worker deletes a job once done), failed attempts retried at once.
    await waitFor(
      async () => {
        await db.pool.query(
          `select count(*) from graphile_worker.reschedule_jobs(
             array(select id from graphile_worker.jobs where attempts > 0 and locked_at is null and run_at > now()), run_at => now())`,
        );
        return (await db.pool.query("select count(*)::int as n from graphile_worker._private_jobs")).rows[0].n === 0;
      },
      45_000,
      `run ${runNumber}: every job done`,
    ).catch(async (error) => {
      const { rows } = await db.pool.query(
        `select count(*)::int as jobs, count(*) filter (where locked_at is not null)::int as running, max(attempts) as max_attempts,
           min(run_at) - now() as next_run_in, (array_agg(last_error) filter (where last_error is not null))[1] as an_error
         from graphile_worker._private_jobs`,
      );
      throw new Error(`${(error as Error).message}: left ${JSON.stringify(rows[0])}; ${failedAttempts.length} failed attempts`, { cause: error });
    });
  } finally {
    await runner.stop();
    await endPool(workerPool);
  }
  // A backend's statistics (the deadlock counter) are written when it exits, before it leaves pg_stat_activity.
  await waitFor(
    async () => (await db.pool.query("select count(*)::int as n from pg_stat_activity where application_name = $1 and datname = current_database()", [APPLICATION])).rows[0].n === 0,
    10_000,
    "the worker's connections to close",
  );
  const deadlocks = (await deadlockCount(db)) - deadlocksBefore;
  // The first deadlock's cycle, with the relations named.
  let deadlockSample = failedAttempts.find((f) => f.code === "40P01")?.detail ?? "";
  for (const oid of new Set(deadlockSample.match(/(?<=relation )\d+/g) ?? [])) {
    const name = (await db.pool.query("select $1::oid::regclass::text as name", [oid])).rows[0].name;
    deadlockSample = deadlockSample.replaceAll(`relation ${oid} `, `${name} `);
  }

  const counts = (await db.pool.query(
    `select (select count(*) from app_public.raw_events)::int as raw_events,
            (select count(distinct event_id) from app_public.raw_events)::int as distinct_event_ids,
            (select coalesce(sum(times_received), 0) from app_public.raw_events)::int as times_received,
            (select count(*) from app_public.raw_events where problem is not null)::int as with_problem,
            (select count(*) from app_public.message_events)::int as attributed,
            (select count(*) from app_public.unattributed_events)::int as unattributed,
            (select count(*) from app_private.pending_events)::int as pending,
            (select count(*) from app_public.bounces)::int as bounces`,
  )).rows[0];
  const rollupsFromEvents = (await db.pool.query(
    `select c.name as campaign, to_jsonb(r) as maintained, to_jsonb(app_public.campaign_rollup_from_events(c.id)) as computed
     from app_public.campaigns c join app_public.campaign_rollups r on r.campaign_id = c.id order by c.name`,
  )).rows;
  // The opens and clicks per hour, maintained and computed from the raw events; and their sums beside the rollup's.
  const hoursFromEvents = (await db.pool.query(
    `select c.name as campaign,
       coalesce((select jsonb_agg(to_jsonb(h) - 'campaign_id' order by h.hour) from app_public.campaign_engagement_hourly h
                 where h.campaign_id = c.id and (h.opens <> 0 or h.clicks <> 0)), '[]') as maintained,
       coalesce((select jsonb_agg(to_jsonb(o) - 'campaign_id' order by o.hour)
                 from app_public.campaign_engagement_hourly_from_events(c.id) o), '[]') as computed,
       jsonb_build_object('opens', r.opens, 'opens_human', r.opens_human, 'clicks', r.clicks, 'clicks_human', r.clicks_human) as rollup,
       (select jsonb_build_object('opens', coalesce(sum(h.opens), 0), 'opens_human', coalesce(sum(h.opens_human), 0),
                                  'clicks', coalesce(sum(h.clicks), 0), 'clicks_human', coalesce(sum(h.clicks_human), 0))
        from app_public.campaign_engagement_hourly h where h.campaign_id = c.id) as sums
     from app_public.campaigns c join app_public.campaign_rollups r on r.campaign_id = c.id order by c.name`,
  )).rows;
  const snapshot = await takeSnapshot(db);
  await databases.splice(databases.indexOf(db), 1)[0].drop();
  return { snapshot, jobs: jobs.length, failedAttempts, deadlocks, deadlockSample, counts, rollupsFromEvents, hoursFromEvents, ms: Date.now() - started };
}

async function deadlockCount(db: TestDatabase): Promise<number> {
  await db.pool.query("select pg_stat_clear_snapshot()");
  return Number((await db.pool.query("select deadlocks from pg_stat_database where datname = current_database()")).rows[0].deadlocks);
}

/** The state ingestion derives, each row under a key that does not depend on the order (no generated ids). */
async function takeSnapshot(db: TestDatabase): Promise<Snapshot> {
  const queries: Record<string, string> = {
    messages: `select m.internet_message_id as key, c.name as campaign, m.recipient, m.delivery_status, m.delivery_status_message,
                 m.delivery_status_at, m.bounce_type, m.opens_human, m.opens_machine, m.clicks_human, m.clicks_machine,
                 m.first_opened_at, m.last_opened_at, m.first_clicked_at, m.last_clicked_at, m.opens_human_mailroom,
                 m.clicks_human_mailroom
               from app_public.messages m join app_public.campaigns c on c.id = m.campaign_id`,
    campaign_rollups: `select c.name as key, r.* from app_public.campaign_rollups r join app_public.campaigns c on c.id = r.campaign_id`,
    campaign_engagement_hourly: `select c.name || ' ' || to_char(h.hour at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as key, h.*
                                 from app_public.campaign_engagement_hourly h join app_public.campaigns c on c.id = h.campaign_id
                                 where h.opens <> 0 or h.clicks <> 0`,
    message_events: `select e.event_id as key, m.internet_message_id as message, me.attributed_by, me.kind, me.occurred_at,
                       me.status, me.status_message, me.bounce_type, me.blocklists, me.engagement_type, me.url,
                       me.user_agent_reason, me.machine_reason, me.engagement_source, me.request_reason, me.honeypot,
                       me.ignored_reason
                     from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
                     join app_public.messages m on m.id = me.message_id`,
    bounces: `select e.event_id as key, s.email, m.internet_message_id as message, b.bounce_type, b.status, b.detail, b.occurred_at
              from app_public.bounces b join app_public.raw_events e on e.id = b.raw_event_id
              join app_public.subscribers s on s.id = b.subscriber_id left join app_public.messages m on m.id = b.message_id`,
    subscribers: `select email as key, status from app_public.subscribers`,
    raw_events: `select event_id as key, event_schema, event_type, internet_message_id, operation_id, recipient, status,
                   status_message, engagement_type, engagement_context, user_agent, occurred_at, problem, times_received
                 from app_public.raw_events`,
  };
  const snapshot: Snapshot = {};
  for (const [table, sql] of Object.entries(queries)) {
    // Through JSON: timestamps and bigints as text, the same way in every run.
    const { rows } = await db.pool.query(`select x.key, to_jsonb(x) - 'key' - 'campaign_id' as row from (${sql}) x order by x.key`);
    snapshot[table] = new Map(rows.map((r) => [r.key as string, r.row as Record<string, unknown>]));
  }
  return snapshot;
}

/** A readable account of how `other` differs from `first`: per table, how many rows and which fields, then the first rows. */
function differences(first: Snapshot, other: Snapshot, eventsOf: (imid: string) => string[]): string[] {
  const out: string[] = [];
  for (const table of Object.keys(first)) {
    const a = first[table];
    const b = other[table];
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
    const differing: { key: string; fields: string[] }[] = [];
    for (const key of keys) {
      const ra = a.get(key);
      const rb = b.get(key);
      if (!ra || !rb) {
        differing.push({ key, fields: [ra ? "(row missing)" : "(extra row)"] });
        continue;
      }
      const fields = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((f) => JSON.stringify(ra[f]) !== JSON.stringify(rb[f]));
      if (fields.length) differing.push({ key, fields });
    }
    if (!differing.length) continue;
    const byField = new Map<string, number>();
    for (const d of differing) for (const f of d.fields) byField.set(f, (byField.get(f) ?? 0) + 1);
    out.push(`${table}: ${differing.length} of ${keys.length} rows differ (${[...byField].map(([f, n]) => `${f} ×${n}`).join(", ")})`);
    for (const d of differing.slice(0, 3)) {
      const ra = a.get(d.key);
      const rb = b.get(d.key);
      const pickFields = (r: Record<string, unknown> | undefined) =>
        r ? JSON.stringify(Object.fromEntries(d.fields.filter((f) => f in r).map((f) => [f, r[f]]))) : "(none)";
      out.push(`  ${d.key}: first run ${pickFields(ra)}\n  ${" ".repeat(d.key.length)}  this run  ${pickFields(rb)}`);
      if (table === "messages") for (const line of eventsOf(d.key)) out.push(`      ${line}`);
    }
  }
  return out;
}

/** The delivery reports of a message, as a reader needs them to judge a difference. */
function reportsOf(snapshot: Snapshot): (imid: string) => string[] {
  return (imid) =>
    [...snapshot.message_events.entries()]
      .filter(([, r]) => r.message === imid && r.kind === "delivery_report")
      .map(([id, r]) => `report ${id}: ${r.status} "${r.status_message}" at ${r.occurred_at} (bounce ${r.bounce_type})`)
      .sort();
}

// ---------------------------------------------------------------------------------------------------------
describe(`ingestion order independence under ${CONCURRENCY} concurrent jobs (PostgreSQL ${inject("pgVersion")})`, () => {
  test(
    `${RUNS} random orders of ${events.length} events (${copies.length} deliveries of them) for ${messages.length} messages: one final state, no deadlock (seed ${SEED})`,
    { timeout: 240_000 },
    async () => {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < RUNS; i++) {
        const outcome = await feedAndWork(i);
        outcomes.push(outcome);
        console.log(
          `run ${i}: ${outcome.jobs} jobs in ${outcome.ms} ms, ${outcome.failedAttempts.length} failed attempts, ${outcome.deadlocks} deadlocks`,
        );
      }

      const reproduce = `(INGEST_ORDER_SEED=${SEED}; ${tieMessages} messages with tied reports)`;
      outcomes.forEach((o, i) => {
        // Every event stored once, whatever the number of its deliveries, and attributed.
        expect.soft(o.counts, `run ${i}: counts ${reproduce}`).toEqual({
          raw_events: events.length, distinct_event_ids: events.length, times_received: copies.length, with_problem: 0,
          attributed: events.length, unattributed: 0, pending: 0, bounces: expectedBounces,
        });
        const timesReceived = [...o.snapshot.raw_events].filter(([id, r]) => r.times_received !== copiesOf.get(id));
        expect.soft(timesReceived.slice(0, 5), `run ${i}: events whose times_received is not their number of deliveries`).toEqual([]);
        // The maintained rollup is the one computed from the raw events.
        for (const r of o.rollupsFromEvents) {
          expect.soft({ ...(r.maintained as object), campaign_id: null }, `run ${i}: ${r.campaign}'s rollup against campaign_rollup_from_events`)
            .toEqual({ ...(r.computed as object), campaign_id: null });
        }
        // The opens and clicks per hour are those computed from the raw events, and add up to the rollup.
        for (const h of o.hoursFromEvents) {
          expect.soft(h.maintained, `run ${i}: ${h.campaign}'s campaign_engagement_hourly against campaign_engagement_hourly_from_events`)
            .toEqual(h.computed);
          expect.soft(h.sums, `run ${i}: ${h.campaign}'s hours added up against its rollup`).toEqual(h.rollup);
        }
        // No attempt failed: no deadlock (40P01), nor anything else.
        const byError = o.failedAttempts.reduce<Record<string, number>>((acc, f) => {
          const key = `${f.code}: ${f.message}`;
          return { ...acc, [key]: (acc[key] ?? 0) + 1 };
        }, {});
        expect.soft(byError, `run ${i}: failed job attempts (SQLSTATE: error in function < caller: attempts) ${reproduce}\n${o.deadlockSample}`).toEqual({});
        expect.soft(o.deadlocks, `run ${i}: pg_stat_database.deadlocks during the run ${reproduce}`).toBe(0);
      });

      // The same final state in every run.
      const report = outcomes.slice(1).flatMap((o, i) => {
        const lines = differences(outcomes[0].snapshot, o.snapshot, reportsOf(outcomes[0].snapshot));
        return lines.length ? [`run ${i + 1} against run 0:`, ...lines] : [];
      });
      expect(report.join("\n"), `final states differ between orders ${reproduce}`).toBe("");
      // Every campaign has hours with engagement; Azure's events spread over several (views, clicks, own hits: 10:00
      // to 13:00), Mailroom's own hits over one or two.
      expect(Object.fromEntries(outcomes[0].hoursFromEvents.map((h) => [h.campaign, h.maintained.length >= (h.campaign === "winter" ? 1 : 3)])))
        .toEqual({ autumn: true, winter: true, spring: true });
      // The rules that look at a message's other events had something to decide.
      const reasons = (field: string, pattern: RegExp) =>
        [...outcomes[0].snapshot.message_events.values()].filter((r) => pattern.test(String(r[field] ?? ""))).length;
      expect({
        twinOfOwnHit: reasons("ignored_reason", /^the same (view|click) as Mailroom's own hit/) > 0,
        sourceNotCounted: reasons("ignored_reason", /^the campaign counts (azure|mailroom) engagement only$/) > 0,
        unsubscribeLink: reasons("ignored_reason", /^unsubscribe link$/) > 0,
        honeypotBurst: reasons("machine_reason", /^burst: the honeypot link/) > 0,
        headRequest: reasons("machine_reason", /^HEAD request$/) > 0,
        scannerRange: reasons("machine_reason", /^IP range: link scanner/) > 0,
      }).toEqual({ twinOfOwnHit: true, sourceNotCounted: true, unsubscribeLink: true, honeypotBurst: true, headRequest: true, scannerRange: true });
    },
  );
});
