// Ingestion latency while a large campaign starts, on a throwaway PostgreSQL (embedded 18 by default; BENCH_PG_BIN
// to choose). Campaign A (1,000 recipients) is started and accepted; campaign B (N recipients) is a draft. A steady
// loop on 2 connections stores batches of 50 events (delivery reports, views, clicks) for A's messages through
// app_private.ingest_events, each connection one batch every BENCH_INTERVAL_MS (default 100 ms; at once when the
// previous batch took longer), each on its own half of A's messages. After `before` seconds another connection
// runs begin; start_campaign(B); commit (each timed); the loop goes on for `after` seconds once it has committed.
// A batch belongs to the phase in which it was sent: before the start, during it (begin to commit), after.
// Per phase: batches, events/s (events of the phase's batches / the phase's length), batch latency median, p95, max,
// and when the slowest batch was sent.
// Also: when the start held advisory locks in exclusive mode (pg_locks, polled every 50 ms), and a check that
// every event stored was attributed to its message.
//   ./node_modules/.bin/node bench/start-campaign-ingestion.ts [recipients=1000000] [before=5] [after=5]
// BENCH_FAST=1 turns durability off (faster to build; commits then cost less than in production).
import crypto from "node:crypto";
import fs from "node:fs";
import pg from "pg";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";

const args = process.argv.slice(2);
const N = Number(args[0] ?? 1_000_000);
const beforeSeconds = Number(args[1] ?? 5);
const afterSeconds = Number(args[2] ?? 5);
const A_RECIPIENTS = 1_000;
const BATCH = 50;
const CONNECTIONS = 2;
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 100);
const log = (...parts: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...parts);
const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const database = await startThrowawayDatabase({ binDir: process.env.BENCH_PG_BIN || undefined, fast: process.env.BENCH_FAST === "1" });
const clients: pg.Client[] = [];
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.ownerUrl });
  client.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await client.connect();
  clients.push(client);
  return client;
}

try {
  const db = await connect();
  const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
  const version = (await q("show server_version")).rows[0].server_version;
  log(`PostgreSQL ${version}, campaign B ${N} recipients, A ${A_RECIPIENTS}; durability ${process.env.BENCH_FAST === "1" ? "off" : "on"}`);

  // ---- Data: two single opt-in lists, A small and B large, each subscriber on one; campaign A started, B a draft.
  let t = performance.now();
  await q("insert into app_public.senders (name, from_address) values ('Bench', 'news@news.example.com')");
  const list = async (name: string, members: number): Promise<string> => {
    const id = (await q("insert into app_public.lists (name, opt_in) values ($1, 'single') returning id", [name])).rows[0].id;
    await q(
      `with s as (insert into app_public.subscribers (email) select $1 || i || '@example.org' from generate_series(1, $2::int) as i returning id)
       insert into app_public.list_memberships (list_id, subscriber_id, status) select $3, s.id, 'confirmed' from s`,
      [name.toLowerCase() + "-", members, id],
    );
    return id;
  };
  const campaign = async (name: string, listId: string): Promise<string> => {
    const id = (await q("insert into app_public.campaigns (name, sender_id) select $1, id from app_public.senders returning id", [name])).rows[0].id;
    await q("insert into app_public.campaign_lists (campaign_id, list_id) values ($1, $2)", [id, listId]);
    return id;
  };
  const campaignA = await campaign("A", await list("A", A_RECIPIENTS));
  const campaignB = await campaign("B", await list("B", N));
  await q("select app_public.start_campaign($1)", [campaignA]);
  await q("update app_public.messages set send_status = 'accepted', accepted_at = now() - interval '1 hour' where campaign_id = $1", [campaignA]);
  await q("vacuum analyze");
  log(`${N + A_RECIPIENTS} subscribers and memberships, campaign A started, vacuum analyze: ${seconds(performance.now() - t)} s`);
  const aMessages = (await q("select id::int, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1 order by id", [campaignA]))
    .rows as { id: number; internet_message_id: string; operation_id: string; recipient: string }[];

  // ---- Events for A's messages: a delivery report, a view or a click, in turn; every id new.
  const topic = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/bench";
  const run = crypto.randomBytes(4).toString("hex");
  // Each message was delivered an hour ago (its reports repeat that time); views and clicks happen now.
  const deliveredAt = new Date(Date.now() - 3_600_000).toISOString();
  function event(connection: number, n: number) {
    const half = aMessages.length / CONNECTIONS;
    const m = aMessages[connection * half + (n % half)];
    const at = new Date().toISOString();
    const id = `${run}-${connection}-${n}`;
    const subject = `sender/news@news.example.com/message/${m.operation_id}`;
    if (n % 3 === 0) {
      return { id, topic, subject, eventType: "Microsoft.Communication.EmailDeliveryReportReceived", eventTime: at, dataVersion: "1.0", metadataVersion: "1",
        data: { sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
          status: "Delivered", deliveryStatusDetails: { statusMessage: "No error." }, deliveryAttemptTimestamp: deliveredAt } };
    }
    const type = n % 3 === 1 ? "view" : "click";
    return { id, topic, subject, eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", eventTime: at, dataVersion: "1.0", metadataVersion: "1",
      data: { sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
        userActionTimestamp: at, engagementContext: type === "click" ? "https://shop.example.com/sale" : "",
        userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", engagementType: type } };
  }

  interface Batch { sentAt: number; ms: number; events: number }
  const batches: Batch[] = [];
  let stopping = false;
  let stored = 0;
  const ingesters = await Promise.all(Array.from({ length: CONNECTIONS }, () => connect()));
  const loops = ingesters.map(async (client, connection) => {
    let n = 0;
    let next = performance.now();
    while (!stopping) {
      const events = Array.from({ length: BATCH }, () => event(connection, n++));
      const payload = JSON.stringify({ schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 0, subscriptionName: "bench", events });
      const sentAt = performance.now();
      const result = await client.query("select * from app_private.ingest_events($1::jsonb)", [payload]);
      batches.push({ sentAt, ms: performance.now() - sentAt, events: BATCH });
      stored += result.rows[0].inserted;
      next += INTERVAL_MS;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      else next = performance.now();
    }
  });

  // ---- Warm-up (not counted), before, the start, after.
  await sleep(1000);
  batches.length = 0;
  const loopStart = performance.now();
  log(`ingesting ${CONNECTIONS} × ${BATCH} events every ${INTERVAL_MS} ms; load average ${loadAverage()}`);
  await sleep(beforeSeconds * 1000);

  const starter = await connect();
  const starterPid = (await starter.query("select pg_backend_pid() as pid")).rows[0].pid;
  const monitor = await connect();
  const exclusive = new Map<string, { first: number; last: number }>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const { rows } = await monitor.query(
        `select classid::bigint << 32 | objid::bigint as key from pg_locks
         where locktype = 'advisory' and mode = 'ExclusiveLock' and granted and pid = $1`,
        [starterPid],
      );
      const now = performance.now();
      for (const { key } of rows) {
        const seen = exclusive.get(key);
        if (seen) seen.last = now;
        else exclusive.set(key, { first: now, last: now });
      }
      await sleep(50);
    }
  })();
  log(`start_campaign(B): begin; load average ${loadAverage()}`);
  const startBegin = performance.now();
  await starter.query("begin");
  await starter.query("select app_public.start_campaign($1)", [campaignB]);
  const startDone = performance.now();
  await starter.query("commit");
  const startEnd = performance.now();
  watching = false;
  await watch;
  const recipients = Number((await q("select recipients from app_public.campaign_rollups where campaign_id = $1", [campaignB])).rows[0].recipients);
  log(`start_campaign(B): ${recipients} messages; start_campaign ${seconds(startDone - startBegin)} s, commit ${seconds(startEnd - startDone)} s, ` +
    `in all ${seconds(startEnd - startBegin)} s; load average ${loadAverage()}`);
  for (const [key, { first, last }] of exclusive) {
    log(`  advisory lock ${key} held exclusively by the start: seen from +${seconds(first - startBegin)} s to +${seconds(last - startBegin)} s (commit at +${seconds(startEnd - startBegin)} s)`);
  }
  if (exclusive.size === 0) log("  no advisory lock seen held exclusively by the start");

  await sleep(afterSeconds * 1000);
  stopping = true;
  await Promise.all(loops);
  const loopEnd = performance.now();

  // ---- Every event stored was attributed to A's messages; none pending.
  const check = (await q(
    `select (select count(*)::int from app_public.message_events where campaign_id = $1) as attributed,
            (select count(*)::int from app_private.pending_events) as pending`,
    [campaignA],
  )).rows[0];
  log(`events stored ${stored}, attributed to A's messages ${check.attributed}, pending ${check.pending}`);
  if (check.attributed !== stored || check.pending !== 0) throw new Error("some events were not attributed");

  // ---- Per phase.
  const phases = [
    { phase: "before", from: loopStart, to: startBegin },
    { phase: "during", from: startBegin, to: startEnd },
    { phase: "after", from: startEnd, to: loopEnd },
  ];
  const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]);
  const rows = phases.map(({ phase, from, to }) => {
    const inPhase = batches.filter((b) => b.sentAt >= from && b.sentAt < to);
    const ms = inPhase.map((b) => b.ms).sort((a, b) => a - b);
    return {
      phase,
      seconds: +((to - from) / 1000).toFixed(1),
      batches: inPhase.length,
      eventsPerSecond: Math.round(inPhase.reduce((sum, b) => sum + b.events, 0) / ((to - from) / 1000)),
      medianMs: +pct(ms, 0.5).toFixed(1),
      p95Ms: +pct(ms, 0.95).toFixed(1),
      maxMs: +(ms.at(-1) ?? NaN).toFixed(1),
      // When the slowest batch was sent, in seconds from the start's begin (negative: before it).
      slowestSentAt: +((inPhase.reduce((a, b) => (b.ms > a.ms ? b : a), inPhase[0] ?? { sentAt: NaN, ms: 0 }).sentAt - startBegin) / 1000).toFixed(1),
    };
  });
  console.log("\nphase    seconds  batches  events/s  median ms    p95 ms    max ms  slowest sent at (s from the start's begin)");
  for (const r of rows) {
    console.log(`${r.phase.padEnd(8)} ${String(r.seconds).padStart(7)}  ${String(r.batches).padStart(7)}  ${String(r.eventsPerSecond).padStart(8)}  ` +
      `${r.medianMs.toFixed(1).padStart(9)}  ${r.p95Ms.toFixed(1).padStart(8)}  ${r.maxMs.toFixed(1).padStart(8)}  ${r.slowestSentAt.toFixed(1).padStart(7)}`);
  }
  console.log(JSON.stringify({
    postgres: version, recipients, startCampaignSeconds: +((startDone - startBegin) / 1000).toFixed(2),
    commitSeconds: +((startEnd - startDone) / 1000).toFixed(2),
    exclusiveAdvisoryLocks: [...exclusive].map(([key, { first, last }]) => ({ key, fromSeconds: +((first - startBegin) / 1000).toFixed(2), toSeconds: +((last - startBegin) / 1000).toFixed(2) })),
    phases: rows,
  }, null, 2));
} finally {
  for (const client of clients) await client.end().catch(() => undefined);
  await database.stop();
}
