// Click tracking benchmark: Mailroom's click redirect (GET /t/c/TOKEN: the hit stored, then a 302) beside a bare
// Express handler answering the same 302, under the same autocannon load, taking turns in one run.
//   ./node_modules/.bin/node bench/tracking.ts [seconds] [connections] [runs]
// (defaults 10 s, 32 connections, 3 runs; BENCH_MESSAGES messages, default 50,000, with BENCH_LINKS links each,
// default 5.) The results: bench/RESULTS.md, "Click tracking".
//
// One PostgreSQL of its own (normal durability: the redirect waits for a real commit) holds a sender, a campaign
// tracked by Mailroom (engagement_tracking 'mailroom') and its accepted messages; every message has BENCH_LINKS
// signed click tokens (TrackingKeys.sign, as sending renders them). The load clicks one link of every message (the
// messages in a scattered order), then the next link of every message, and so on: a distinct token per request until
// all are used, and a message clicked again only after BENCH_MESSAGES other hits, seconds later, as people click.
// (With few messages, a message's links come back within 5 s and attribution calls them a scanner's burst, which
// re-derives the message: a slower ingestion path than people's clicks take.)
//
// In each run, every variant gets a fresh server process (bench/tracking-server.ts), a warm-up of 1,000 requests,
// then the measured load; each run starts with the variant after the one the run before started with. The variants:
//   bare       a bare Express handler: 302 to the URL the token carries (the same Location), nothing else
//   tracking   Mailroom's application (createHttpApp with TRACKING_SECRETS) on its own pool of 10 connections
// BENCH_VARIANTS="A;B" adds variants to each run, measured the same way, to find where the time goes:
//   router     createTrackingRouter alone in an Express app (without createHttpApp's other layers)
//   copy       a bench-local copy of the click path of src/http/tracking.ts, in an Express app of its own, with
//              `writes=N` (the DeliveryQueue's maxConcurrentWrites, default 4), `deliveries=N` (maxDeliveriesPerJob),
//              `store=none` (answer without storing: everything but the database), `redirect=plain` (the 302 and its
//              Location without a body, instead of Express's res.redirect)
//   on bare: `redirect=plain`, `async=1` (the answer after an await); on tracking, router or copy: `pool=N`
//   (connections), `sync=off` (synchronous_commit off for the pool: what the wait for the disk costs; a diagnosis
//   only, it gives up what the endpoint promises)
// e.g. BENCH_VARIANTS="copy;copy writes=1;copy store=none;tracking sync=off".
// BENCH_TRACKING=0 leaves the `tracking` variant out (bare stays: the ratios are to it).
// BENCH_CPU_PROFILE=DIR runs the servers with --cpu-prof into DIR and prints where each spent its CPU time.
// BENCH_INGEST=0 skips the worker's ingestion at the end (the check then stops at the jobs): for experiments with
// many variants, whose hits would take many minutes to ingest.
//
// Reported per run and variant: requests/s, p50/p99/max latency, answers other than 2xx/3xx (with connection
// errors), the CPU time per request of the server process, of PostgreSQL (all its processes) and of this load
// generator (from /proc: on this shared machine it moves less than the rates do), and for the variants that store,
// the hits per commit (per ingest_events job); then medians, and each variant's requests/s over the bare handler's
// in the same run.
//
// Every answered hit stored: each run ends by letting every connection finish its request in flight (autocannon's
// own end of a timed run drops them: hits stored but never seen answered), so every hit stored is answered and
// counted. The 302s autocannon counted (with the warm-up's) are compared with the events each run added to
// ingest_events jobs; at the end `mailroom worker` ingests the jobs, and the raw events (Mailroom.EmailEngagementTracked,
// source mailroom) and their message_events (engagement_source mailroom) are counted. Answered, stored (jobs, raw
// events) and attributed must be equal, else the exit status is 1.
import { cpuMs, treeCpuMs } from "./process-cpu.ts";
import { spawn, type ChildProcess } from "node:child_process";
import type { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import pg from "pg";
import { projectRoot } from "../src/db/migrate.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";
import { hitEvent } from "../src/http/tracking.ts";
import { TrackingKeys } from "../src/tracking/token.ts";
import type { ServerVariant } from "./tracking-server.ts";

declare module "autocannon" {
  interface Result {
    statusCodeStats: Record<string, { count: number }>;
  }
}

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
const runs = Number(process.argv[4] ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const LINKS = Number(process.env.BENCH_LINKS ?? 5);
const WARM_UP_REQUESTS = 1000;
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const INGEST = process.env.BENCH_INGEST !== "0";
const SECRET = "bench-tracking-secret-0123456789-abcdefghijklmnop";
const USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const VARIANTS = [
  "bare",
  ...(process.env.BENCH_TRACKING === "0" ? [] : ["tracking"]),
  ...(process.env.BENCH_VARIANTS ?? "").split(";").map((v) => v.trim()).filter(Boolean),
];

// ---- processes and CPU time --------------------------------------------------------------------------------------


/** SIGTERM, then the exit (at most 10 s, then SIGKILL). */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 10_000))]);
  if (!stopped) child.kill("SIGKILL");
}

const cleanups: (() => Promise<void>)[] = [];

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(variant: ServerVariant, label: string): Promise<Server> {
  const profile = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${label.replace(/[^a-z0-9]+/gi, "-")}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, "bench/tracking-server.ts", JSON.stringify(variant)], {
    cwd: projectRoot,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  cleanups.push(() => stopProcess(child));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`server ${label} exited (${code}) before listening`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

// ---- the load -----------------------------------------------------------------------------------------------------

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  answered: number;
  /** 302 answers. */
  redirects: number;
  /** Answers other than 2xx and 3xx, connection errors and timeouts. */
  failed: number;
  codes: Record<string, number>;
}

type Tracker = EventEmitter & PromiseLike<Result>;
interface LoadClient {
  responseMax: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The load: GET /t/c/TOKEN on `connections` keep-alive connections, each request the next token. `amount`: that many
 * requests; else `seconds`, after which each connection finishes its request in flight and stops (autocannon's own
 * end of a timed run cuts the requests in flight off: their hits could be stored but never seen answered).
 */
async function load(url: string, paths: () => string, options: { seconds?: number; amount?: number }): Promise<Load> {
  const times: number[] = [];
  let draining = false;
  let lastResponse = 0;
  const tracker = autocannon({
    url,
    connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds! + 60 }),
    headers: { "user-agent": USER_AGENT, accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    requests: [{ setupRequest: (req) => Object.assign(req, { path: paths() }) }],
  }) as unknown as Tracker;
  const started = performance.now();
  const timer = options.amount ? undefined : setTimeout(() => (draining = true), options.seconds! * 1000);
  tracker.on("response", (client: LoadClient, _status: number, _bytes: number, responseTime: number) => {
    times.push(responseTime);
    lastResponse = performance.now();
    // Its last request: after a response, an autocannon client (9.0) sends the next only while it has made fewer
    // requests than its responseMax (the per-connection share of `amount`), and otherwise closes its connection.
    if (draining) client.responseMax = 1;
  });
  const result = await tracker;
  clearTimeout(timer);
  const sorted = Float64Array.from(times).sort();
  const codes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  const failed =
    Object.entries(codes).reduce((n, [code, count]) => (code.startsWith("2") || code.startsWith("3") ? n : n + count), 0) +
    result.errors;
  return {
    requestsPerSecond: times.length / ((lastResponse - started) / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
    answered: times.length,
    redirects: codes["302"] ?? 0,
    failed,
    codes,
  };
}

// ---- variants -----------------------------------------------------------------------------------------------------

interface Variant {
  label: string;
  server: ServerVariant;
  /** Whether its hits are stored (and so counted in the check). */
  stores: boolean;
}

function parseVariant(spec: string, databaseUrl: string): Variant {
  const [kind, ...pairs] = spec.split(/\s+/);
  if (kind !== "bare" && kind !== "tracking" && kind !== "router" && kind !== "copy") throw new Error(`unknown variant ${spec}`);
  const settings = Object.fromEntries(pairs.map((pair) => pair.split("=", 2) as [string, string]));
  const server: ServerVariant = { kind, databaseUrl, secret: SECRET };
  for (const [key, value] of Object.entries(settings)) {
    if (key === "pool") server.pool = Number(value);
    else if (key === "sync" && value === "off") server.syncCommit = false;
    else if (key === "writes" && kind === "copy") server.writes = Number(value);
    else if (key === "deliveries" && kind === "copy") server.deliveries = Number(value);
    else if (key === "store" && value === "none" && kind === "copy") server.store = false;
    else if (key === "redirect" && value === "plain" && (kind === "copy" || kind === "bare")) server.redirect = "plain";
    else if (key === "async" && value === "1" && kind === "bare") server.async = true;
    else throw new Error(`variant ${spec}: unknown setting ${key}=${value}`);
  }
  const label = spec.replace(/\s+/g, " ");
  return { label, server, stores: kind !== "bare" && server.store !== false };
}

// ---- CPU profiles -------------------------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Where a server spent its CPU time: self time by area and the top functions, from a .cpuprofile. */
function summariseProfile(file: string): string {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const area = (node: ProfileNode): string => {
    const { url, functionName } = node.callFrame;
    if (functionName === "(idle)") return "idle";
    if (functionName === "(garbage collector)") return "garbage collection";
    if (functionName === "(program)") return "V8 and native (program)";
    if (url.includes("/node_modules/")) return url.replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, "$1");
    if (url.startsWith("node:")) return url.replace(/^node:(internal\/)?([^/]+).*/, "node:$2");
    if (url.includes("/src/") || url.includes("/bench/")) return path.relative(projectRoot, url.replace(/^file:\/\//, ""));
    return url === "" ? `native ${functionName}` : url;
  };
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const a = area(node);
    areas.set(a, (areas.get(a) ?? 0) + us);
    if (a !== "idle") {
      busy += us;
      const name = `${node.callFrame.functionName || "(anonymous)"} ${a}:${node.callFrame.lineNumber + 1}`;
      functions.set(name, (functions.get(name) ?? 0) + us);
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m].filter(([k]) => k !== "idle").sort((x, y) => y[1] - x[1]).slice(0, n)
      .map(([k, us]) => `    ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`).join("\n");
  return `  busy ${(busy / 1e6).toFixed(1)} s of ${((busy + (areas.get("idle") ?? 0)) / 1e6).toFixed(1)} s; self time by area:\n${top(areas, 14)}\n  top functions:\n${top(functions, 16)}`;
}

// ---- the run ------------------------------------------------------------------------------------------------------

interface Measurement extends Load {
  run: number;
  variant: string;
  cpu: { server: number; postgres: number; client: number };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const f0 = (n: number) => Math.round(n).toLocaleString("en-US");
const f1 = (n: number) => n.toFixed(1);
const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

let failedCheck = false;
try {
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]!.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `load average ${loadAverage()}; ${seconds} s per run, ${connections} connections, ${runs} runs, variants: ${VARIANTS.join("; ")}`,
  );
  if (PROFILE_DIR) fs.mkdirSync(PROFILE_DIR, { recursive: true });
  const database = await startThrowawayDatabase();
  cleanups.push(() => database.stop());
  const postmasterPid = Number(
    fs.readFileSync(`${(database.server as unknown as { dataDir: string }).dataDir}/postmaster.pid`, "utf8").split("\n")[0],
  );
  const db = new pg.Client({ connectionString: database.ownerUrl });
  db.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await db.connect();
  cleanups.push(() => db.end());

  // A sender and a campaign tracked by Mailroom, MESSAGES accepted messages an hour old.
  const setupStarted = performance.now();
  const { rows: campaignRows } = await db.query(
    `with sender as (
       insert into app_public.senders (name, from_address, sending_domain, engagement_tracking)
       values ('Bench', 'news@news.example.com', 'news.example.com', 'mailroom') returning id
     )
     insert into app_public.campaigns (name, sender_id, subject, engagement_tracking)
     select 'Bench', id, 'News', 'mailroom' from sender returning id, sender_id`,
  );
  const { id: campaignId, sender_id: senderId } = campaignRows[0];
  await db.query("insert into app_public.subscribers (email) select 'reader' || i || '@example.org' from generate_series(1, $1) as i", [MESSAGES]);
  await db.query(
    `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, send_status, accepted_at)
     select $1, s.id, $2, s.email, '<' || gen_random_uuid() || '@news.example.com>', 'accepted', now() - interval '1 hour'
     from app_public.subscribers as s`,
    [campaignId, senderId],
  );
  await db.query("update app_public.campaigns set status = 'running', started_at = now() where id = $1", [campaignId]).catch(() => undefined);
  await db.query("analyze");
  const { rows: messageRows } = await db.query<{ operation_id: string }>(
    "select operation_id from app_public.messages where campaign_id = $1 order by id",
    [campaignId],
  );
  const keys = new TrackingKeys([SECRET]);
  const tokens: string[] = [];
  for (const { operation_id } of messageRows) {
    for (let link = 1; link <= LINKS; link++) {
      tokens.push(keys.sign("click", operation_id, link, `https://news.example.com/2026/12/story-${link}?utm_source=newsletter&utm_medium=email&utm_campaign=bench`));
    }
  }
  // One link of every message (the messages in a scattered order: the step is prime to their number), then the next
  // link of every message, and so on, then again: a message is clicked again only after MESSAGES other hits.
  let step = 7919;
  while (gcd(step, MESSAGES) !== 1) step += 2;
  let next = 0;
  const nextPath = () => {
    const n = next++;
    return `/t/c/${tokens[((n * step) % MESSAGES) * LINKS + (Math.floor(n / MESSAGES) % LINKS)]}`;
  };
  console.log(
    `${f0(MESSAGES)} messages, ${f0(tokens.length)} click tokens (${tokens[0]!.length} characters each) in ${f1((performance.now() - setupStarted) / 1000)} s`,
  );

  // What the hits became before any worker ran: ingest_events jobs (one per group commit) and the events in them.
  const queued = async (): Promise<{ jobs: number; events: number }> =>
    (
      await db.query<{ jobs: number; events: number }>(
        `select count(*)::int as jobs, coalesce(sum((select sum(json_array_length(d -> 'events')) from json_array_elements(j.payload) as d)), 0)::int as events
         from graphile_worker._private_jobs as j
         join graphile_worker._private_tasks as t on t.id = j.task_id and t.identifier = 'ingest_events'`,
      )
    ).rows[0]!;

  // The steps of a hit without HTTP or database, in this process: the token's check (HMAC-SHA256) and the event and
  // delivery JSON (as src/http/tracking.ts builds them).
  {
    const sample = tokens.slice(0, 5000);
    const time = (fn: () => void, rounds: number) => {
      fn();
      const t = performance.now();
      for (let r = 0; r < rounds; r++) fn();
      return ((performance.now() - t) * 1000) / (rounds * sample.length);
    };
    const hits = sample.map((token) => keys.verify(token, ["click", "honeypot"])!);
    const verifyUs = time(() => sample.forEach((token) => keys.verify(token, ["click", "honeypot"])), 4);
    const jsonUs = time(
      () =>
        hits.forEach((hit) => {
          const event = hitEvent(hit, { method: "GET", ip: "127.0.0.1", userAgent: USER_AGENT }, new Date());
          void `{"schema":"eventgrid","receivedAt":${JSON.stringify(event.eventTime)},"deliveryCount":null,"subscriptionName":"mailroom-tracking","events":[${JSON.stringify(event)}]}`;
        }),
      4,
    );
    console.log(`per hit in this process: token check ${f1(verifyUs)} µs, event and delivery JSON ${f1(jsonUs)} µs`);
  }

  const variants = VARIANTS.map((spec) => parseVariant(spec, database.ownerUrl));
  const measurements: Measurement[] = [];
  let answeredStoring = 0;
  let storedInJobs = 0;
  for (let run = 1; run <= runs; run++) {
    // Each run starts one variant later than the one before (bare, tracking; tracking, bare; ...): no variant always
    // follows the same one.
    const order = variants.map((_, i) => variants[(i + run - 1) % variants.length]!);
    for (const variant of order) {
      const label = `${variant.label}, run ${run}`;
      const server = await startServer(variant.server, variant.label);
      const before = variant.stores ? await queued() : { jobs: 0, events: 0 };
      const warmUp = await load(server.url, nextPath, { amount: WARM_UP_REQUESTS });
      const cpuBefore = { server: cpuMs(server.child.pid!), postgres: treeCpuMs(postmasterPid), client: process.cpuUsage() };
      const measured = await load(server.url, nextPath, { seconds });
      const client = process.cpuUsage(cpuBefore.client);
      const perRequest = (ms: number) => (ms * 1000) / measured.answered;
      const cpu = {
        server: perRequest(cpuMs(server.child.pid!) - cpuBefore.server),
        postgres: perRequest(treeCpuMs(postmasterPid) - cpuBefore.postgres),
        client: perRequest((client.user + client.system) / 1000),
      };
      await stopProcess(server.child);
      measurements.push({ ...measured, run, variant: variant.label, cpu });
      let stored = "";
      if (variant.stores) {
        const answered = warmUp.redirects + measured.redirects;
        const after = await queued();
        const inJobs = after.events - before.events;
        answeredStoring += answered;
        storedInJobs += inJobs;
        stored =
          `; answered 302 (with the warm-up) ${f0(answered)}, hits in ingest jobs ${f0(inJobs)}${answered === inJobs ? "" : " MISMATCH"} ` +
          `(${f0(after.jobs - before.jobs)} jobs: ${f1(inJobs / (after.jobs - before.jobs))} hits per commit)`;
        if (answered !== inJobs) failedCheck = true;
      }
      console.log(
        `${label.padEnd(28)} ${f0(measured.requestsPerSecond).padStart(6)} requests/s, p50 ${f1(measured.p50)} ms, p99 ${f1(measured.p99)} ms, ` +
          `max ${f1(measured.max)} ms, ${f0(measured.answered)} answers ${JSON.stringify(measured.codes)}, ${measured.failed} not 2xx/3xx; ` +
          `CPU per request: server ${f0(cpu.server)} µs, PostgreSQL ${f0(cpu.postgres)} µs, load generator ${f0(cpu.client)} µs; ` +
          `load average ${loadAverage()}${stored}`,
      );
    }
  }

  // Medians and ratios to the bare handler of the same run.
  const bareOf = (run: number) => measurements.find((m) => m.run === run && m.variant === "bare")!;
  console.log(`\n| variant | requests/s | p50 ms | p99 ms | max ms | not 2xx/3xx | ratio to bare (same run) | CPU µs/request: server, PostgreSQL, load generator | the runs (requests/s, p99 ms) |`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|---|---|`);
  for (const variant of variants) {
    const own = measurements.filter((m) => m.variant === variant.label);
    const ratios = own.map((m) => m.requestsPerSecond / bareOf(m.run).requestsPerSecond);
    console.log(
      `| ${variant.label} | ${f0(median(own.map((m) => m.requestsPerSecond)))} | ${f1(median(own.map((m) => m.p50)))} | ${f1(median(own.map((m) => m.p99)))} | ` +
        `${f1(median(own.map((m) => m.max)))} | ${own.reduce((n, m) => n + m.failed, 0)} | ${variant.label === "bare" ? "" : `${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(", ")})`} | ` +
        `${f0(median(own.map((m) => m.cpu.server)))}, ${f0(median(own.map((m) => m.cpu.postgres)))}, ${f0(median(own.map((m) => m.cpu.client)))} | ` +
        `${own.map((m) => `${f0(m.requestsPerSecond)}/s ${f1(m.p99)}`).join("; ")} |`,
    );
  }
  const tracking = measurements.filter((m) => m.variant === "tracking");
  if (tracking.length > 0) {
    const trackingRatio = median(tracking.map((m) => m.requestsPerSecond / bareOf(m.run).requestsPerSecond));
    const trackingP99 = median(tracking.map((m) => m.p99));
    console.log(
      `\nacceptance (medians of the tracking runs): p99 ${f1(trackingP99)} ms (< 20 ms: ${trackingP99 < 20 ? "met" : "NOT met"}), ` +
        `ratio tracking / bare ${trackingRatio.toFixed(2)} (>= 0.5: ${trackingRatio >= 0.5 ? "met" : "NOT met"})`,
    );
  }

  // Every answered hit stored: the worker ingests the jobs; raw events and message events counted.
  if (!INGEST) {
    console.log(`\nevery answered hit stored: answered 302 ${f0(answeredStoring)}, events in ingest_events jobs ${f0(storedInJobs)} (BENCH_INGEST=0: not ingested)`);
    if (answeredStoring !== storedInJobs) failedCheck = true;
  }
  if (INGEST) {
    const worker = spawn(process.execPath, ["src/cli.ts", "worker"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: database.ownerUrl, LOG_LEVEL: "warn", LOG_FORMAT: "json", WORKER_CONCURRENCY: "4" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    cleanups.push(() => stopProcess(worker));
    const ingestStarted = performance.now();
    for (;;) {
      const { rows } = await db.query<{ left: number; failing: number }>(
        `select count(*)::int as left, count(*) filter (where j.last_error is not null)::int as failing
         from graphile_worker._private_jobs as j
         join graphile_worker._private_tasks as t on t.id = j.task_id and t.identifier = 'ingest_events'`,
      );
      if (rows[0]!.left === 0) break;
      if (performance.now() - ingestStarted > 1_800_000) {
        console.error(`ingestion unfinished after 1,800 s: ${JSON.stringify(rows[0])}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    await stopProcess(worker);
    const { rows: counts } = await db.query<{ raw: number; attributed: number; human: number; machine: number; ignored: number }>(
      `select (select count(*)::int from app_public.raw_events where event_type = 'Mailroom.EmailEngagementTracked' and source = 'mailroom') as raw,
              count(*)::int as attributed,
              count(*) filter (where ignored_reason is null and machine_reason is null)::int as human,
              count(*) filter (where ignored_reason is null and machine_reason is not null)::int as machine,
              count(*) filter (where ignored_reason is not null)::int as ignored
       from app_public.message_events where engagement_source = 'mailroom' and campaign_id = $1`,
      [campaignId],
    );
    const { raw, attributed, human, machine, ignored } = counts[0]!;
    const { rows: reasons } = await db.query<{ reason: string; n: number }>(
      `select coalesce(machine_reason, ignored_reason, 'human') as reason, count(*)::int as n
       from app_public.message_events where engagement_source = 'mailroom' and campaign_id = $1 group by 1 order by 2 desc`,
      [campaignId],
    );
    const equal = answeredStoring === storedInJobs && storedInJobs === raw && raw === attributed;
    if (!equal) failedCheck = true;
    console.log(
      `\nevery answered hit stored: answered 302 ${f0(answeredStoring)}, events in ingest_events jobs ${f0(storedInJobs)}, ` +
        `raw_events ${f0(raw)}, message_events (engagement_source mailroom) ${f0(attributed)}: ${equal ? "equal" : "NOT EQUAL"}\n` +
        `ingested by mailroom worker (concurrency 4) in ${f1(ingestSeconds)} s: ${f0(raw / ingestSeconds)} events/s; clicks counted human ${f0(human)}, ` +
        `machine ${f0(machine)}, ignored ${f0(ignored)} (${reasons.map((r) => `${r.reason}: ${f0(r.n)}`).join(", ")})`,
    );
  }
  if (PROFILE_DIR) {
    for (const file of fs.readdirSync(PROFILE_DIR).filter((f) => f.endsWith(".cpuprofile")).sort()) {
      console.log(`\nCPU profile ${file}:\n${summariseProfile(path.join(PROFILE_DIR, file))}`);
    }
  }
  console.log(`load average at the end: ${loadAverage()}`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
if (failedCheck) {
  console.error("FAILED: answered, stored and attributed hits differ");
  process.exitCode = 1;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
