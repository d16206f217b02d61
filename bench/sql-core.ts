// SQL core benchmarks, on a throwaway PostgreSQL (embedded 18 by default; BENCH_PG_BIN to choose):
//   1. start_campaign for N recipients over 3 overlapping lists (runs rolled back; median);
//   2. N raw events through app_private.ingest_events in statements of 1,000, side by side (alternating, same
//      batches) with a plain INSERT of the same rows into a trigger-less table of the same shape;
//   3. inserting the messages that 10% of the events arrived before (their pending events attributed then);
//   4. reading one campaign's rollup (p50/p95 over 2,000 reads); computing it from the raw events; recompute.
//   ./node_modules/.bin/node bench/sql-core.ts [messages=1000000] [startRuns=3] [--start-only]
// --start-only stops after 1. To compare with an earlier version, run the same command in a checkout of it
// (git worktree add), alternately with this one.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { PostgresServer, embeddedBinDir } from "../src/db/postgres-server.ts";
import { migrateDatabase } from "../src/db/migrate.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../src/db/roles.ts";
import { BARE_INSERT_SQL, CREATE_BARE_EVENTS_TABLE, ingestPayload } from "./bare-events.ts";

const args = process.argv.slice(2);
const N = Number(args.filter((a) => !a.startsWith("--"))[0] ?? 1_000_000);
const startRuns = Number(args.filter((a) => !a.startsWith("--"))[1] ?? 3);
const startOnly = args.includes("--start-only");
const BATCH = 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const log = (...args: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...args);

const port: number = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-bench-sql-"));
fs.chmodSync(dir, 0o755);
const server = new PostgresServer({
  binDir: process.env.BENCH_PG_BIN || (await embeddedBinDir()),
  dir,
  port,
  superuserPassword: crypto.randomBytes(12).toString("hex"),
  fast: true,
});
await server.start();
const roles = rolesFor("mailroom");
const passwords = { owner: "bench", authenticator: "bench" };
await ensureRoles(server.superuserUrl, roles, passwords);
await ensureDatabase(server.superuserUrl, roles);
const ownerUrl = withCredentials(server.superuserUrl, roles.owner, passwords.owner, roles.database);
await migrateDatabase(ownerUrl, roles, undefined, { current: true });

if (process.env.BENCH_PROFILE) {
  const su = new pg.Client({ connectionString: server.superuserUrl });
  su.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await su.connect();
  await su.query(`alter database ${roles.database} set track_functions = 'all'`);
  await su.end();
}
const db = new pg.Client({ connectionString: ownerUrl });
db.on("error", (error) => console.error(`database connection lost: ${error.message}`));
await db.connect();
const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
const timed = async (sql: string, params: unknown[] = []) => {
  const t = performance.now();
  const r = await q(sql, params);
  return { ms: performance.now() - t, rows: r.rows };
};
const version = (await q("show server_version")).rows[0].server_version;
const sharedBuffers = (await q("show shared_buffers")).rows[0].shared_buffers;
log(`PostgreSQL ${version} (shared_buffers ${sharedBuffers}), ${N} messages`);

// ---- Data: N subscribers on 3 overlapping lists (A double opt-in, B and C single opt-in).
async function loadData(c: pg.Client): Promise<number> {
  await c.query("insert into app_public.senders (name, from_address) values ('Bench', 'news@news.example.com')");
  await c.query("insert into app_public.subscribers (email) select 'user' || g || '@example.org' from generate_series(1, $1) g", [N]);
  await c.query("insert into app_public.lists (name, opt_in) values ('A', 'double'), ('B', 'single'), ('C', 'single')");
  await c.query(`insert into app_public.list_memberships (list_id, subscriber_id, status)
    select l.id, s.id, case when l.name = 'A' then 'confirmed' when s.id % 50 = 0 then 'unsubscribed' else 'unconfirmed' end
    from app_public.subscribers s join app_public.lists l on
      (l.name = 'A' and s.id <= $1 * 0.5) or (l.name = 'B' and s.id > $1 * 0.3 and s.id <= $1 * 0.8)
      or (l.name = 'C' and (s.id > $1 * 0.6 or s.id % 7 = 0))`, [N]);
  await c.query("vacuum analyze");
  return (await c.query("select count(*)::int as n from app_public.list_memberships")).rows[0].n;
}
const memberships = await loadData(db);
log(`${memberships} memberships`);

async function newCampaign(name: string, c = db): Promise<number> {
  const id = (await c.query("insert into app_public.campaigns (name, sender_id) select $1, id from app_public.senders returning id", [name])).rows[0].id;
  await c.query("insert into app_public.campaign_lists (campaign_id, list_id) select $1, id from app_public.lists", [id]);
  return Number(id);
}

// ---- 1. start_campaign, rolled back each time.
async function startOnce(c: pg.Client, label: string, i: number): Promise<{ ms: number; recipients: number }> {
  const id = await newCampaign(`start ${i}`, c);
  await c.query("vacuum app_public.messages"); // the rows of the run before, rolled back
  await c.query("begin");
  const t = performance.now();
  await c.query("select app_public.start_campaign($1)", [id]);
  const ms = performance.now() - t;
  const n = (await c.query("select recipients::int from app_public.campaign_rollups where campaign_id = $1", [id])).rows[0].recipients;
  await c.query("rollback");
  const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  log(`start_campaign${label}: ${n} recipients in ${(ms / 1000).toFixed(1)} s (load average ${load})`);
  return { ms, recipients: n };
}
const startTimes: number[] = [];
let recipients = 0;
for (let i = 0; i < startRuns; i++) {
  const r = await startOnce(db, "", i);
  recipients = r.recipients;
  startTimes.push(r.ms);
}
if (startRuns > 0) log(`start_campaign median ${(median(startTimes) / 1000).toFixed(1)} s`);
if (startOnly) {
  console.log(JSON.stringify({ postgres: version, memberships, startCampaign: { recipients, medianSeconds: median(startTimes) / 1000,
    runs: startTimes.map((t) => +(t / 1000).toFixed(1)) } }, null, 2));
  await db.end();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// ---- The campaign the events belong to: started for real; 10% of its messages are then held back, so that
// their events arrive before them.
const campaignId = await newCampaign("events");
await q("select app_public.start_campaign($1)", [campaignId]);
await q("update app_public.messages set send_status = 'accepted', accepted_at = now() - interval '1 hour' where campaign_id = $1", [campaignId]);
await q(`create table bench_late_messages as
  with held as (delete from app_public.messages where campaign_id = $1 and abs(hashint8(id)) % 10 = 0 returning *) select * from held`, [campaignId]);
await q("vacuum analyze");
const keys = (await q(`select id::int, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1
                       union all select id::int, internet_message_id, operation_id, recipient from bench_late_messages order by 1`, [campaignId])).rows as
  { id: number; internet_message_id: string; operation_id: string; recipient: string }[];
log(`${keys.length} messages, ${keys.length / 10} held back`);

// ---- 2. Events: a delivery report for 70% of messages, a view for 22%, a click for 7%, then 1% duplicates; shuffled.
const TYPES = ["delivery", "view", "click"] as const;
const plan: number[] = [];
for (let i = 0; i < keys.length; i++) {
  if (i % 10 < 7) plan.push(i * 4 + 0);
  if (i % 100 < 22) plan.push(i * 4 + 1);
  if (i % 100 < 7) plan.push(i * 4 + 2);
}
const target = N;
const duplicates = Math.round(target * 0.01);
while (plan.length > target - duplicates) plan.pop();
for (let i = 0; i < duplicates; i++) plan.push(plan[Math.floor(Math.random() * plan.length)]);
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [plan[i], plan[j]] = [plan[j], plan[i]];
}
const topic = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/bench";
function event(code: number) {
  const m = keys[code >> 2];
  const type = TYPES[code & 3];
  // Delivery an hour ago; engagement 1 to 50 minutes after it, as people read mail (not in the "too soon" window).
  const at = new Date(Date.now() - 3_600_000 + (type === "delivery" ? 0 : 60_000 + (m.id % 50) * 60_000)).toISOString();
  const id = `${type}-${m.operation_id}`;
  if (type === "delivery") {
    return { id, topic, subject: `sender/news@news.example.com/message/${m.operation_id}`, eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
      eventTime: at, dataVersion: "1.0", metadataVersion: "1",
      data: { sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
        status: m.id % 50 === 1 ? "Bounced" : "Delivered", deliveryStatusDetails: { statusMessage: "No error." }, deliveryAttemptTimestamp: at } };
  }
  return { id, topic, subject: `sender/news@news.example.com/message/${m.operation_id}`, eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: at, dataVersion: "1.0", metadataVersion: "1",
    data: { sender: "news@news.example.com", recipient: m.recipient, messageId: type === "view" ? crypto.randomUUID() : m.operation_id,
      ...(type === "view" ? { internetMessageId: m.internet_message_id } : {}), userActionTimestamp: at,
      engagementContext: type === "click" ? "https://shop.example.com/sale?utm_source=mailroom" : "",
      userAgent: m.id % 20 === 0 ? "Mozilla/5.0 (via ggpht.com GoogleImageProxy)" : "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
      engagementType: type } };
}

await q(CREATE_BARE_EVENTS_TABLE);
const ingestSql = "select * from app_private.ingest_events($1::jsonb)";
const ingestMs: number[] = [];
const bareMs: number[] = [];
let inserted = 0;
for (let b = 0; b * BATCH < plan.length; b++) {
  const events = plan.slice(b * BATCH, (b + 1) * BATCH).map(event);
  const payload = ingestPayload(JSON.stringify(events));
  const runIngest = async () => {
    const r = await timed(ingestSql, [payload]);
    ingestMs.push(r.ms);
    inserted += r.rows[0].inserted;
  };
  const runBare = async () => bareMs.push((await timed(BARE_INSERT_SQL, [payload])).ms);
  if (b % 2 === 0) {
    await runIngest();
    await runBare();
  } else {
    await runBare();
    await runIngest();
  }
  if (b % 100 === 99) log(`${(b + 1) * BATCH} events: ingest median ${median(ingestMs).toFixed(1)} ms, bare ${median(bareMs).toFixed(1)} ms per 1,000`);
}
const sum = (xs: number[]) => xs.reduce((a, c) => a + c, 0);
const ingestRate = plan.length / (sum(ingestMs) / 1000);
const bareRate = plan.length / (sum(bareMs) / 1000);
const pending = (await q("select count(*)::int as n from app_private.pending_events")).rows[0].n;
log(`ingest ${ingestRate.toFixed(0)} events/s, bare ${bareRate.toFixed(0)} events/s, ratio ${(ingestRate / bareRate).toFixed(2)}; ${inserted} new, ${pending} pending`);

if (process.env.BENCH_PROFILE) {
  const f = await q(`select schemaname || '.' || funcname as f, calls, round(total_time::numeric, 0) as total_ms, round(self_time::numeric, 0) as self_ms
                     from pg_stat_user_functions order by total_time desc limit 20`);
  console.table(f.rows);
  if (process.env.BENCH_PROFILE === "stop") process.exit(0);
}
// ---- 3. The held-back messages appear: their pending events are attributed then.
const late = await timed(`insert into app_public.messages overriding system value select * from bench_late_messages`);
const pendingAfter = (await q("select count(*)::int as n from app_private.pending_events")).rows[0].n;
log(`late messages inserted in ${(late.ms / 1000).toFixed(1)} s (${pending} pending events attributed; ${pendingAfter} left)`);

// ---- 4. Rollup reads, computation from raw events, recompute.
await q("vacuum analyze");
const reads: number[] = [];
for (let i = 0; i < 2000; i++) reads.push((await timed("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).ms);
const statsReads: number[] = [];
for (let i = 0; i < 500; i++) statsReads.push((await timed("select * from app_public.campaign_stats where campaign_id = $1", [campaignId])).ms);
const fromEvents = await timed("select * from app_public.campaign_rollup_from_events($1)", [campaignId]);
const stored = (await q("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
const agree = JSON.stringify(stored) === JSON.stringify(fromEvents.rows[0]);
const recompute = await timed("select app_public.recompute_campaign_rollup($1)", [campaignId]);
log(`rollup read p50 ${median(reads).toFixed(2)} ms p95 ${pct(reads, 0.95).toFixed(2)} ms; campaign_stats p95 ${pct(statsReads, 0.95).toFixed(2)} ms`);
log(`campaign_rollup_from_events ${(fromEvents.ms / 1000).toFixed(1)} s (agrees with the maintained rollup: ${agree}); recompute_campaign_rollup ${(recompute.ms / 1000).toFixed(1)} s`);
log("rollup", JSON.stringify(stored));

const result = {
  postgres: version,
  sharedBuffers,
  messages: keys.length,
  memberships,
  startCampaign: { recipients, medianSeconds: median(startTimes) / 1000, runs: startTimes.map((t) => +(t / 1000).toFixed(1)) },
  ingest: {
    events: plan.length, inserted, eventsPerSecond: Math.round(ingestRate), bareEventsPerSecond: Math.round(bareRate),
    ratio: +(ingestRate / bareRate).toFixed(3), medianBatchMs: +median(ingestMs).toFixed(1), medianBareBatchMs: +median(bareMs).toFixed(1),
    p95BatchMs: +pct(ingestMs, 0.95).toFixed(1), pendingBeforeMessages: pending,
  },
  lateMessages: { messages: keys.length / 10, seconds: +(late.ms / 1000).toFixed(2), pendingLeft: pendingAfter },
  rollupRead: { p50Ms: +median(reads).toFixed(3), p95Ms: +pct(reads, 0.95).toFixed(3), statsP95Ms: +pct(statsReads, 0.95).toFixed(3) },
  fromEventsSeconds: +(fromEvents.ms / 1000).toFixed(2), agrees: agree, recomputeSeconds: +(recompute.ms / 1000).toFixed(2),
};
console.log(JSON.stringify(result, null, 2));
await db.end();
await server.stop();
fs.rmSync(dir, { recursive: true, force: true });
