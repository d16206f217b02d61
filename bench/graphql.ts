// GraphQL benchmark: a campaign of 1,000,000 messages (one INSERT ... SELECT by start_campaign), with
// delivery reports and engagement on its first messages. The server under test is `mailroom server`
// (NODE_ENV=production) in its own process on a PostgreSQL of its own; load comes from this process over
// loopback with keep-alive connections, each request carrying an API key (checked in the database, or
// remembered for GRAPHQL_API_KEY_CACHE_SECONDS: compare with GRAPHQL_API_KEY_CACHE_SECONDS=0 below).
//   ./node_modules/.bin/node bench/graphql.ts [seconds per run] [messages] [runs]
// 1. the campaign with its numbers (rollup and rates), concurrency 32: requests/s, p50/p95/p99
// 2. the first page (50) of its messages with their events, concurrency 32
// Each is run [runs] times; the median run is reported with the others alongside.
//
// Side by side: BENCH_VARIANTS="A;B;..." starts one server per variant on the same database, each with
// the settings of its variant (space-separated VAR=value, e.g. "GRAPHQL_API_KEY_CACHE_SECONDS=0"; empty
// for the defaults; PROCESSES=n runs n server processes on one port), and runs them in turn within each run,
// so that all see the same machine load. Each run also reports the CPU time per request of the server, of
// PostgreSQL and of this load generator (from /proc), which the machine's load disturbs less than latency.
import { cpuMs, treeCpuMs } from "./process-cpu.ts";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { performance } from "node:perf_hooks";
import pino from "pino";
import { createPool } from "../src/app.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";
import { createApiKey } from "../src/graphql/api-keys.ts";
import { freePort } from "../test/helpers/process.ts";

const seconds = Number(process.argv[2] ?? 10);
const messages = Number(process.argv[3] ?? 1_000_000);
const runs = Number(process.argv[4] ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const VARIANTS = (process.env.BENCH_VARIANTS ?? "").split(";").map((v) => v.trim());
const PAGES = process.env.BENCH_PAGES !== "0"; // BENCH_PAGES=0: the numbers query only

const CAMPAIGN_WITH_NUMBERS = `query Campaign($id: BigInt!) {
  campaignById(id: $id) {
    id name status startedAt
    rollup { recipients queued sending accepted sendFailed delivered bouncedHard bouncedSoft suppressed
      uniqueOpensHuman uniqueOpens opensHuman opens uniqueClicksHuman uniqueClicks clicksHuman clicks unsubscribes complaints }
    stats { openRate clickRate }
  }
}`;
const FIRST_PAGE_OF_MESSAGES = `query Messages($id: BigInt!) {
  campaignById(id: $id) {
    messages(first: 50, orderBy: ID_ASC) {
      pageInfo { hasNextPage endCursor }
      nodes { id recipient sendStatus deliveryStatus deliveryStatusAt bounceType opensHuman opensMachine clicksHuman clicksMachine
        events(orderBy: OCCURRED_AT_ASC) { nodes { kind occurredAt status engagementType url machineReason } } }
    }
  }
}`;

interface RunResult {
  requests: number; perSecond: number; p50: number; p95: number; p99: number; failures: number;
  /** CPU milliseconds per request: the server process(es), PostgreSQL (all its processes), this load generator. */
  cpu: { server: number; postgres: number; client: number };
}



interface Measured { serverPids: number[]; postmasterPid: number }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CONCURRENCY loops, each sending the next request when the previous answered, for `seconds`. */
async function load(port: number, key: string, query: string, variables: Record<string, unknown>, measured: Measured): Promise<RunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = JSON.stringify({ query, variables });
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.request(
        { host: "127.0.0.1", port, path: "/graphql", method: "POST", agent,
          headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            latencies.push(performance.now() - started);
            if (res.statusCode !== 200 || text.includes('"errors"')) {
              failures += 1;
              if (failures === 1) console.error(`first failure: ${res.statusCode} ${text.slice(0, 300)}`);
            }
            resolve();
          });
        },
      );
      req.on("error", () => {
        failures += 1;
        resolve();
      });
      req.end(body);
    });
  const cpuBefore = { server: measured.serverPids.reduce((n, pid) => n + treeCpuMs(pid), 0), postgres: treeCpuMs(measured.postmasterPid), client: process.cpuUsage() };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) await once();
  }));
  const elapsed = (performance.now() - started) / 1000;
  const client = process.cpuUsage(cpuBefore.client);
  const perRequest = (ms: number) => ms / Math.max(1, latencies.length);
  const cpu = {
    server: perRequest(measured.serverPids.reduce((n, pid) => n + treeCpuMs(pid), 0) - cpuBefore.server),
    postgres: perRequest(treeCpuMs(measured.postmasterPid) - cpuBefore.postgres),
    client: perRequest((client.user + client.system) / 1000),
  };
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    failures,
    cpu,
  };
}

const f2 = (n: number) => n.toFixed(2);

function show(label: string, results: RunResult[]) {
  const byP95 = [...results].sort((a, b) => a.p95 - b.p95);
  const median = byP95[Math.floor(byP95.length / 2)]!;
  const f = (n: number) => n.toFixed(1);
  console.log(`${label}: median run ${Math.round(median.perSecond)} requests/s, p50 ${f(median.p50)} ms, p95 ${f(median.p95)} ms, ` +
    `p99 ${f(median.p99)} ms; failures ${results.reduce((n, r) => n + r.failures, 0)}`);
  console.log(`  runs: ${results.map((r) => `${Math.round(r.perSecond)}/s p95 ${f(r.p95)} ms`).join("; ")}`);
  const cpuMedian = (pick: (r: RunResult) => number) => [...results].map(pick).sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
  console.log(`  CPU per request (median of the runs): server ${f2(cpuMedian((r) => r.cpu.server))} ms, PostgreSQL ${f2(cpuMedian((r) => r.cpu.postgres))} ms, ` +
    `load generator ${f2(cpuMedian((r) => r.cpu.client))} ms`);
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered`);
}

const database = await startThrowawayDatabase();
const children: ChildProcess[] = [];
try {
  const { ownerUrl: databaseUrl, authUrl } = database;
  const pool = createPool(databaseUrl, pino({ level: "warn" }), 2);

  let t = performance.now();
  await pool.query(`insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com')`);
  await pool.query(`insert into app_public.lists (name, opt_in) values ('Everyone', 'single')`);
  await pool.query(`insert into app_public.subscribers (email) select 's' || i || '@example.org' from generate_series(1, $1::integer) as i`, [messages]);
  await pool.query(`insert into app_public.list_memberships (list_id, subscriber_id, status) select 1, id, 'confirmed' from app_public.subscribers`);
  await pool.query(`insert into app_public.campaigns (name, sender_id, subject, text_body) values ('Big', 1, 'News', 'Hello')`);
  await pool.query(`insert into app_public.campaign_lists (campaign_id, list_id) values (1, 1)`);
  console.log(`${messages} subscribers and memberships in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await pool.query("select app_public.start_campaign(1)");
  console.log(`start_campaign (one INSERT ... SELECT of ${messages} messages) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  // The first 1,000 messages: accepted, a delivery report each, a view each, a click on every other one.
  t = performance.now();
  await pool.query(`update app_public.messages set send_status = 'accepted', accepted_at = now() - interval '1 hour'
    where campaign_id = 1 and id <= 1000`);
  await pool.query(`select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'events', (
    select jsonb_agg(e) from (
      select jsonb_build_object('id', 'd' || m.id, 'topic', '/acs', 'eventType', 'Microsoft.Communication.EmailDeliveryReportReceived',
        'eventTime', now(), 'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id,
          'internetMessageId', m.internet_message_id, 'status', 'Delivered', 'deliveryAttemptTimestamp', now())) as e
      from app_public.messages as m where m.campaign_id = 1 and m.id <= 1000
      union all
      select jsonb_build_object('id', 'v' || m.id, 'topic', '/acs', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
        'eventTime', now(), 'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id,
          'internetMessageId', m.internet_message_id, 'engagementType', 'view', 'userActionTimestamp', now(),
          'userAgent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0'))
      from app_public.messages as m where m.campaign_id = 1 and m.id <= 1000
      union all
      select jsonb_build_object('id', 'c' || m.id, 'topic', '/acs', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
        'eventTime', now(), 'data', jsonb_build_object('recipient', m.recipient, 'messageId', m.operation_id,
          'internetMessageId', m.internet_message_id, 'engagementType', 'click', 'engagementContext', 'https://example.com/offer',
          'userActionTimestamp', now(), 'userAgent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0'))
      from app_public.messages as m where m.campaign_id = 1 and m.id <= 1000 and m.id % 2 = 0
    ) as events)))`);
  await pool.query("vacuum analyze");
  console.log(`2,500 events for the first 1,000 messages, vacuum analyze: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const key = (await createApiKey(pool, { name: "bench", role: "analyst" })).key;
  await pool.end();

  const servers: { label: string; port: number; measured: Measured }[] = [];
  const dataDir = (database.server as unknown as { dataDir: string }).dataDir;
  const postmasterPid = Number(fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0]);
  for (const variant of VARIANTS) {
    const { PROCESSES: processes = "1", ...settings } = Object.fromEntries(
      variant.split(/\s+/).filter(Boolean).map((pair) => pair.split("=", 2) as [string, string]),
    );
    const port = await freePort();
    // PROCESSES=n: n server processes sharing the port (node:cluster: the first process hands connections out).
    const cluster = `const cluster = (await import("node:cluster")).default;
      cluster.setupPrimary({ exec: "src/cli.ts", args: ["server"], execArgv: [] });
      for (let i = 0; i < ${Number(processes)}; i++) cluster.fork();
      process.on("SIGTERM", () => { for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM"); });`;
    const args = processes === "1" ? ["src/cli.ts", "server"] : ["--input-type=module", "-e", cluster];
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, AUTH_DATABASE_URL: authUrl, PORT: String(port), LOG_LEVEL: "warn", LOG_FORMAT: "json",
        NODE_ENV: "production", ...settings },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(child);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    servers.push({ label: variant === "" ? "defaults" : variant, port, measured: { serverPids: [child.pid!], postmasterPid } });
  }
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]!.model}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; ` +
    `${seconds} s per run, ${runs} runs, concurrency ${CONCURRENCY}`);
  // Warm up: schema, plans, connections.
  for (const { port, measured } of servers) {
    await load(port, key, CAMPAIGN_WITH_NUMBERS, { id: "1" }, measured);
    await load(port, key, FIRST_PAGE_OF_MESSAGES, { id: "1" }, measured);
  }
  const numbers: RunResult[][] = servers.map(() => []);
  const pages: RunResult[][] = servers.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [n, { port, measured }] of servers.entries()) {
      numbers[n]!.push(await load(port, key, CAMPAIGN_WITH_NUMBERS, { id: "1" }, measured));
      if (PAGES) pages[n]!.push(await load(port, key, FIRST_PAGE_OF_MESSAGES, { id: "1" }, measured));
    }
  }
  console.log(`load average after the runs: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  for (const [n, { label }] of servers.entries()) {
    if (servers.length > 1) console.log(`[${label}]`);
    show(`campaign with numbers (${messages} messages)`, numbers[n]!);
    if (PAGES) show("first page of 50 messages with their events", pages[n]!);
  }
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 500));
  await database.stop();
}
