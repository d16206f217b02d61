// The dashboard at 1,000,000 messages: the campaign report and the other pages, and each SQL query they run alone.
//   ./node_modules/.bin/node bench/dashboard.ts [messages=1000000] [repeats=10]
//
// A throwaway PostgreSQL (embedded, durability off; never the repository's .data) gets one campaign of N messages
// with realistic events, ingested through the pipeline (app_private.ingest_events, batches of about 1,000 events,
// two connections at once): a delivery report for every accepted message (1.5% Bounced, 0.5% Failed, with a few
// reasons), views by 35% of the recipients (one to three each, 15% of them by Google's image proxy: machine) spread
// over 48 hours with the decay of real mail, clicks by 6% over eight links (some by a link scanner), 0.5% of the
// messages failed to send and 0.2% skipped; and 20 small finished campaigns beside it. Then:
//   1. each SQL query of the pages (as src/dashboard/queries.ts runs them), EXPLAIN (ANALYZE) after a warm-up:
//      median of `repeats` execution times, and the plan's top node;
//   2. the real server (`mailroom server`, NODE_ENV=production, its own process), signed in through POST /sign-in with
//      an analyst's API key: each page's full HTML response, median of `repeats` after two warm-up requests.
// BENCH_ORACLE=1 also checks campaign_engagement_hourly against campaign_engagement_hourly_from_events (slow).
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { migrateDatabase, projectRoot } from "../src/db/migrate.ts";
import { PostgresServer, embeddedBinDir } from "../src/db/postgres-server.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../src/db/roles.ts";
import { createApiKey } from "../src/graphql/api-keys.ts";
import { freePort } from "../test/helpers/process.ts";

const N = Number(process.argv[2] ?? 1_000_000);
const REPEATS = Number(process.argv[3] ?? 10);
const SMALL_CAMPAIGNS = 20;
const BATCH_MESSAGES = 600; // about 1,000 events
const log = (...args: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...args);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" ");

// A PostgreSQL of its own in a temporary directory, with the embedded server's default shared_buffers (a quarter
// of the machine's memory, at most 2 GB: what a campaign of a million messages wants), durability off.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-bench-dashboard-"));
fs.chmodSync(dir, 0o755);
const server = new PostgresServer({ binDir: process.env.BENCH_PG_BIN || (await embeddedBinDir()), dir, port: await freePort(),
  superuserPassword: crypto.randomBytes(12).toString("hex"), fast: true });
await server.start();
const roles = rolesFor("mailroom");
const passwords = { owner: crypto.randomBytes(12).toString("hex"), authenticator: crypto.randomBytes(12).toString("hex") };
await ensureRoles(server.superuserUrl, roles, passwords);
await ensureDatabase(server.superuserUrl, roles);
const database = {
  ownerUrl: withCredentials(server.superuserUrl, roles.owner, passwords.owner, roles.database),
  authUrl: withCredentials(server.superuserUrl, roles.authenticator, passwords.authenticator, roles.database),
  async stop() {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  },
};
await migrateDatabase(database.ownerUrl, roles, undefined, { current: true });
const children: ChildProcess[] = [];
const db = new pg.Client({ connectionString: database.ownerUrl });
db.on("error", (error) => console.error(`database connection lost: ${error.message}`));
await db.connect();
const q = (sql: string, params: unknown[] = []) => db.query(sql, params);

try {
  log(`PostgreSQL ${(await q("show server_version")).rows[0].server_version} (shared_buffers ${(await q("show shared_buffers")).rows[0].shared_buffers}); ` +
    `${os.cpus().length} cores (${os.cpus()[0]!.model}); load average ${load()}`);

  // ---- The ledger: N subscribers, the big campaign's messages (sent a day and a half ago), 20 small campaigns.
  let t = performance.now();
  await q(`insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com'), ('Promotions', 'promo@news.example.com')`);
  await q(`insert into app_public.subscribers (email, name) select 's' || g || '@example.org', 'Subscriber ' || g from generate_series(1, $1::integer) as g`, [N]);
  await q(`insert into app_public.campaigns (name, sender_id, subject, text_body, engagement_tracking)
           select 'December news', id, 'News', 'Hello', 'azure' from app_public.senders where name = 'News'`);
  const campaignId = Number((await q("select id from app_public.campaigns where name = 'December news'")).rows[0].id);
  await q(`update app_public.campaigns set status = 'running', started_at = now() - interval '36 hours', status_changed_at = now() - interval '36 hours'
           where id = $1`, [campaignId]);
  await q(`insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, send_status, send_status_reason, last_error, accepted_at)
           select $1, s.id, c.sender_id, s.email,
             case when s.id % 1000 < 5 then 'failed' when s.id % 1000 < 7 then 'skipped' else 'accepted' end,
             case when s.id % 1000 between 5 and 6 then 'subscriber blocklisted' end,
             case when s.id % 1000 < 5 then (array['ACS 400: InvalidRecipient', 'ACS 429: TooManyRequests (attempts ran out)',
                                                   'request timed out after 30000 ms'])[1 + s.id % 3] end,
             case when s.id % 1000 >= 7 then now() - interval '36 hours' + (s.id % 3600) * interval '1 second' end
           from app_public.subscribers as s, app_public.campaigns as c where c.id = $1 order by s.id`, [campaignId]);
  for (let i = 1; i <= SMALL_CAMPAIGNS; i++) {
    await q(`with c as (
               insert into app_public.campaigns (name, sender_id, subject, text_body, engagement_tracking, status, started_at, finished_at, status_changed_at)
               select 'Weekly ' || $1::integer, id, 'Weekly', 'Hello', 'azure', 'finished', now() - $1 * interval '1 day',
                 now() - $1 * interval '1 day' + interval '1 hour', now() - $1 * interval '1 day' + interval '1 hour'
               from app_public.senders where name = case when $1 % 2 = 0 then 'News' else 'Promotions' end returning id, sender_id)
             insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, send_status, accepted_at)
             select c.id, s.id, c.sender_id, s.email, 'accepted', now() - $1 * interval '1 day'
             from c, app_public.subscribers as s where s.id <= 1000 order by s.id`, [i]);
  }
  log(`${N} subscribers, ${N} messages in campaign ${campaignId} and ${SMALL_CAMPAIGNS} campaigns of 1,000: ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // ---- Events, through the pipeline. Each message's events from a hash of its id: reproducible.
  t = performance.now();
  const ids = (await q("select min(id)::bigint as lo, max(id)::bigint as hi from app_public.messages where campaign_id = $1", [campaignId])).rows[0];
  const lo = Number(ids.lo);
  const hi = Number(ids.hi);
  const EVENTS_SQL = `
    with m as (
      select m.id, m.recipient, m.operation_id, m.internet_message_id, m.accepted_at, abs(hashint8(m.id)) as h
      from app_public.messages as m where m.campaign_id = $1 and m.id between $2 and $3 and m.send_status = 'accepted'
    ),
    event as (
      -- The delivery report, a few seconds to minutes after acceptance.
      select m.id, 0 as n, jsonb_build_object('id', 'd-' || m.operation_id, 'topic', '/subscriptions/s/CommunicationServices/acs',
        'eventType', 'Microsoft.Communication.EmailDeliveryReportReceived', 'eventTime', m.accepted_at + interval '10 seconds',
        'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id, 'internetMessageId', m.internet_message_id,
          'status', case when m.h % 1000 < 15 then 'Bounced' when m.h % 1000 < 20 then 'Failed' else 'Delivered' end,
          'deliveryStatusDetails', jsonb_build_object('statusMessage', case
            when m.h % 1000 < 8 then '550 5.1.1 The email account that you tried to reach does not exist'
            when m.h % 1000 < 13 then '552 5.2.2 Mailbox full'
            when m.h % 1000 < 15 then '550 5.7.1 Message rejected as spam by Content Filtering'
            when m.h % 1000 < 20 then '421 4.4.2 Connection timed out'
            else 'No error.' end),
          'deliveryAttemptTimestamp', m.accepted_at + (5 + m.h % 300) * interval '1 second')) as event
      from m
      union all
      -- Views by 35%: one to three, the first within 48 hours (most in the first hours), 15% by an image proxy.
      select m.id, v, jsonb_build_object('id', 'v' || v || '-' || m.operation_id, 'topic', '/subscriptions/s/CommunicationServices/acs',
        'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived', 'eventTime', now(),
        'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id, 'internetMessageId', m.internet_message_id,
          'engagementType', 'view', 'engagementContext', '',
          'userActionTimestamp', m.accepted_at + interval '10 minutes'
            + (48 * 3600 * power((m.h / 7 % 1000) / 1000.0, 3) + v * (m.h / 11 % 7200)) * interval '1 second',
          'userAgent', case when m.h / 13 % 100 < 15 then 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'
                            else 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0' end)) as event
      from m, generate_series(1, 1 + (m.h / 17 % 3)::integer) as v
      where m.h % 1000 >= 20 and m.h / 3 % 100 < 35
      union all
      -- Clicks by 6%: one or two links of eight, a little after the first view; 10% by a link scanner.
      select m.id, 10 + k, jsonb_build_object('id', 'c' || k || '-' || m.operation_id, 'topic', '/subscriptions/s/CommunicationServices/acs',
        'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived', 'eventTime', now(),
        'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id, 'internetMessageId', m.internet_message_id,
          'engagementType', 'click', 'engagementContext', 'https://shop.example.com/' || (array['sale', 'news', 'about', 'shoes', 'coats',
            'gifts', 'stores', 'help'])[1 + (m.h / 19 + k) % 8] || '?utm_source=mailroom',
          'userActionTimestamp', m.accepted_at + interval '12 minutes'
            + (48 * 3600 * power((m.h / 7 % 1000) / 1000.0, 3) + k * 40) * interval '1 second',
          'userAgent', case when m.h / 23 % 100 < 10 then 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))'
                            else 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148' end)) as event
      from m, generate_series(1, 1 + (m.h / 29 % 2)::integer) as k
      where m.h % 1000 >= 20 and m.h / 3 % 100 < 6
    )
    select (app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(),
      'events', jsonb_agg(e.event order by e.id, e.n)))).inserted
    from event as e`;
  let next = lo;
  let events = 0;
  const worker = async () => {
    const c = new pg.Client({ connectionString: database.ownerUrl });
    await c.connect();
    try {
      while (next <= hi) {
        const from = next;
        next += BATCH_MESSAGES;
        const { rows } = await c.query(EVENTS_SQL, [campaignId, from, from + BATCH_MESSAGES - 1]);
        events += Number(rows[0].inserted ?? 0);
        if (Math.floor((from - lo) / BATCH_MESSAGES) % 200 === 0) log(`messages up to ${from - lo + BATCH_MESSAGES}: ${events} events`);
      }
    } finally {
      await c.end();
    }
  };
  await Promise.all([worker(), worker()]);
  const ingestSeconds = (performance.now() - t) / 1000;
  log(`${events} events ingested in ${ingestSeconds.toFixed(0)} s (${Math.round(events / ingestSeconds)} events/s, load average ${load()})`);
  t = performance.now();
  await q("vacuum analyze");
  log(`vacuum analyze: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rollup = (await q("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
  const sums = (await q(`select count(*) as hours, sum(opens) as opens, sum(opens_human) as opens_human, sum(clicks) as clicks,
                           sum(clicks_human) as clicks_human from app_public.campaign_engagement_hourly where campaign_id = $1`, [campaignId])).rows[0];
  const counts = (await q(`select (select count(*) from app_public.message_events) as message_events,
                                  (select count(*) from app_public.bounces where campaign_id = $1) as bounces,
                                  (select count(distinct url) from app_public.message_events where campaign_id = $1 and engagement_type = 'click') as links`,
                          [campaignId])).rows[0];
  log(`rollup: recipients ${rollup.recipients}, delivered ${rollup.delivered}, bounced ${rollup.bounced_hard}/${rollup.bounced_soft}, ` +
    `opens ${rollup.opens} (human ${rollup.opens_human}), clicks ${rollup.clicks} (human ${rollup.clicks_human}); ` +
    `${counts.message_events} message events, ${counts.bounces} bounces, ${counts.links} links`);
  const agree = ["opens", "opens_human", "clicks", "clicks_human"].every((k) => String(sums[k]) === String(rollup[k]));
  log(`campaign_engagement_hourly: ${sums.hours} hours, sums equal to the rollup's: ${agree}`);
  if (!agree) throw new Error(`hourly sums ${JSON.stringify(sums)} differ from the rollup`);
  if (process.env.BENCH_ORACLE === "1") {
    t = performance.now();
    const differ = (await q(`select count(*)::int as n from (
        (select hour, opens, opens_human, clicks, clicks_human from app_public.campaign_engagement_hourly where campaign_id = $1 and (opens <> 0 or clicks <> 0)
         except select hour, opens, opens_human, clicks, clicks_human from app_public.campaign_engagement_hourly_from_events($1))
        union all
        (select hour, opens, opens_human, clicks, clicks_human from app_public.campaign_engagement_hourly_from_events($1)
         except select hour, opens, opens_human, clicks, clicks_human from app_public.campaign_engagement_hourly where campaign_id = $1)) as d`,
      [campaignId])).rows[0].n;
    log(`campaign_engagement_hourly_from_events: ${differ} hours differ (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }

  // ---- 1. Each query of the pages alone.
  const email = (await q(`select m.recipient from app_public.messages as m join app_public.message_events as me on me.message_id = m.id
                          where m.campaign_id = $1 and me.engagement_type = 'click' limit 1`, [campaignId])).rows[0].recipient as string;
  const subscriberId = (await q("select id from app_public.subscribers where lower(email) = lower($1)", [email])).rows[0].id;
  const exists = async (name: string) => (await q("select to_regclass($1) is not null or to_regprocedure($1) is not null as x", [name])).rows[0].x as boolean;
  const hasOverTime = (await q("select to_regproc('app_hidden.campaign_engagement_over_time') is not null as x")).rows[0].x as boolean;
  const hasFailureRates = await exists("app_hidden.sender_failure_rates");
  const queries: { page: string; name: string; sql: string; params: unknown[] }[] = [
    { page: "/campaigns", name: "campaigns with their numbers (campaign_stats)", params: [null, 500],
      sql: `select c.id, c.name, c.status, c.status_changed_at, s.recipients, s.accepted, s.delivered, s.open_rate, s.click_rate,
              s.bounced_hard + s.bounced_soft as bounces
            from app_public.campaigns as c left join app_public.campaign_stats as s on s.campaign_id = c.id
            where $1::text is null or c.status = $1 order by c.id desc limit $2` },
    { page: "/campaigns/:id", name: "the campaign and its rollup", params: [campaignId],
      sql: `select c.id, c.name, c.status, c.status_changed_at, c.started_at, s.name as sender_name, to_jsonb(r) as rollup
            from app_public.campaigns as c left join app_public.senders as s on s.id = c.sender_id
            left join app_public.campaign_rollups as r on r.campaign_id = c.id where c.id = $1` },
    { page: "/campaigns/:id", name: "opens and clicks per hour (campaign_engagement_hourly)", params: [campaignId],
      sql: hasOverTime
        ? "select hour, opens, opens_human, clicks, clicks_human from app_hidden.campaign_engagement_over_time($1)"
        : "select hour, opens, opens_human, clicks, clicks_human from app_public.campaign_engagement_hourly where campaign_id = $1 order by hour" },
    { page: "/campaigns/:id", name: "links by clicks (link_clicks)", params: [campaignId, 50],
      sql: `select url, sum(clicks_human) as clicks_human, sum(clicks_machine) as clicks_machine, count(*) filter (where clicks_human > 0) as messages_human
            from app_public.link_clicks where campaign_id = $1 group by url
            order by sum(clicks_human) desc, sum(clicks_machine) desc, url limit $2` },
    { page: "/campaigns/:id", name: "bounces and failures by reason (campaign_bounce_reasons)", params: [campaignId],
      sql: "select * from app_public.campaign_bounce_reasons($1)" },
    { page: "/senders", name: "senders with their quota use (senders_quota_use)", params: [],
      sql: `select s.id, s.name, q.* from app_public.senders as s cross join lateral app_public.senders_quota_use(s) as q order by s.id` },
    ...(hasFailureRates ? [{ page: "/senders", name: "failure rates over 24 hours and 7 days (sender_failure_rates)", params: [],
      sql: "select * from app_hidden.sender_failure_rates" }] : []),
    { page: "/health", name: "unattributed events (monitor_unattributed_events)", params: [],
      sql: "select sender, age, events, oldest_received_at from app_public.monitor_unattributed_events order by age, sender" },
    { page: "/health", name: "attribution lag over the last day (monitor_attribution_lag)", params: [],
      sql: `select attributed_by, events, p50_seconds, p95_seconds, p99_seconds, max_seconds, is_total
            from app_public.monitor_attribution_lag order by is_total, attributed_by` },
    { page: "/health", name: "attribution lag of the newest 10,000 events (attribution_lag_recent)", params: [],
      sql: "select * from app_public.attribution_lag_recent()" },
    { page: "/subscribers?q=", name: "the subscriber by email", params: [email],
      sql: "select id, email, name, status from app_public.subscribers where lower(email) = lower($1)" },
    { page: "/subscribers?q=", name: "the subscriber's timeline (subscriber_timeline)", params: [subscriberId, 500],
      sql: "select * from app_public.subscriber_timeline($1) limit $2" },
  ];
  const queryResults: { page: string; name: string; medianMs: number; executionMs: number; rows: number; plan: string }[] = [];
  for (const query of queries) {
    await q(query.sql, query.params); // warm-up
    const times: number[] = [];
    const executions: number[] = [];
    let rows = 0;
    let plan = "";
    for (let i = 0; i < REPEATS; i++) {
      const started = performance.now();
      rows = (await q(query.sql, query.params)).rowCount ?? 0;
      times.push(performance.now() - started);
      const explained = (await q(`explain (analyze, format json) ${query.sql}`, query.params)).rows[0]["QUERY PLAN"][0];
      executions.push(explained["Execution Time"]);
      const top = (node: Record<string, unknown>): string => {
        const kids = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
        const scans = [node, ...kids.flatMap(function all(k: Record<string, unknown>): Record<string, unknown>[] {
          return [k, ...((k.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(all)];
        })].filter((n) => /Scan/.test(String(n["Node Type"])) && n["Relation Name"]);
        return scans.map((n) => `${n["Node Type"]} ${n["Relation Name"]}${n["Index Name"] ? ` (${n["Index Name"]})` : ""}`).join(", ");
      };
      plan = top(explained.Plan);
    }
    const result = { page: query.page, name: query.name, medianMs: +median(times).toFixed(2), executionMs: +median(executions).toFixed(2), rows, plan };
    queryResults.push(result);
    log(`${query.page} ${query.name}: ${result.medianMs} ms (execution ${result.executionMs} ms), ${rows} rows; ${plan || "functions only"}`);
  }

  // ---- 2. The pages, through the real server.
  const key = (await createApiKey(db, { name: "bench", role: "analyst" })).key;
  const port = await freePort();
  const child = spawn(process.execPath, ["src/cli.ts", "server"], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: database.ownerUrl, AUTH_DATABASE_URL: database.authUrl, PORT: String(port), LOG_LEVEL: "warn",
      LOG_FORMAT: "json", NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    if (i > 600) throw new Error("the server never answered");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const signIn = await fetch(`${base}/sign-in`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ apiKey: key }).toString(),
  });
  const cookie = (signIn.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).find((c) => c.startsWith("mailroom_session="));
  const pageResults: { page: string; status: number; bytes: number; medianMs: number; minMs: number; maxMs: number }[] = [];
  if (signIn.status === 404 || !cookie) {
    log(`POST /sign-in answered ${signIn.status} without a session cookie (${(await signIn.text()).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").slice(0, 200)}): ` +
      "no dashboard to measure, the SQL queries alone stand for it");
  } else {
    const pages = ["/campaigns", `/campaigns/${campaignId}`, "/senders", "/health", `/subscribers?q=${encodeURIComponent(email)}`];
    for (const page of pages) {
      const get = async () => {
        const started = performance.now();
        const response = await fetch(`${base}${page}`, { headers: { cookie }, redirect: "manual" });
        const body = await response.text();
        return { ms: performance.now() - started, status: response.status, bytes: Buffer.byteLength(body) };
      };
      await get();
      await get();
      const runs = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await get());
      const times = runs.map((r) => r.ms);
      const result = { page, status: runs[0]!.status, bytes: runs[0]!.bytes, medianMs: +median(times).toFixed(1),
        minMs: +Math.min(...times).toFixed(1), maxMs: +Math.max(...times).toFixed(1) };
      pageResults.push(result);
      log(`GET ${page}: ${result.status}, ${result.bytes} bytes, median ${result.medianMs} ms (${result.minMs} to ${result.maxMs})`);
      if (result.status !== 200) throw new Error(`GET ${page} answered ${result.status}`);
    }
  }
  log(`load average at the end: ${load()}`);
  console.log(JSON.stringify({ messages: N, events, ingestSeconds: +ingestSeconds.toFixed(0), hours: Number(sums.hours), queries: queryResults, pages: pageResults }, null, 2));
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 500));
  await db.end();
  await database.stop();
}
