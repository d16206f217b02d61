// Sending benchmark, on a throwaway PostgreSQL (embedded 18) and the sandbox in this process:
//   1. throughput: N recipients from start_campaign to the last accepted, sent by `mailroom worker` (a child
//      process), quotas off, no added latency; in the same run the same sandbox driven by a minimal loop of the
//      same SDK call (beginSend with an operation id, 64 in flight, in a child process): messages/s and ratio;
//   2. peak RSS (VmHWM) of the worker process during an M-recipient campaign;
// The worker runs as `npm run worker` runs it (the node options of that script in package.json), or with the
// node options in BENCH_WORKER_NODE_OPTIONS when set ("" for none).
//   3. quotas on: a sender limited to Q a minute, R recipients: the most sends the sandbox accepted in any
//      60 s window (sliding), which must not exceed Q.
// On a shared machine the wall-clock rates move with the load; the CPU time each part used per message (the
// worker, PostgreSQL, the sandbox, the SDK loop) does much less, so it is reported too.
//   ./node_modules/.bin/node bench/sending.ts [N=100000] [M=200000] [Q=300] [R=900]
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import pino from "pino";
import { createPool } from "../src/app.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { startSandbox } from "../src/sandbox/index.ts";

const N = Number(process.argv[2] ?? 100_000);
const M = Number(process.argv[3] ?? 200_000);
const Q = Number(process.argv[4] ?? 300);
const R = Number(process.argv[5] ?? 900);
const log = (...args: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...args);

const database = await startThrowawayDatabase({ binDir: process.env.BENCH_PG_BIN || undefined, fast: true });
const { ownerUrl } = database;
const db = createPool(ownerUrl, pino({ level: "warn" }), 3);

const sandbox = await startSandbox({
  settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, latencyMs: 0, retainedEmails: 1_000, retainedDeliveries: 100 },
});

/** The node options of `npm run worker`: what comes between "node" and "src/cli.ts" in package.json. */
function workerNodeOptions(): string[] {
  if (process.env.BENCH_WORKER_NODE_OPTIONS !== undefined) return process.env.BENCH_WORKER_NODE_OPTIONS.split(/\s+/).filter(Boolean);
  const script: string = JSON.parse(fs.readFileSync(`${projectRoot}/package.json`, "utf8")).scripts.worker;
  const words = script.split(/\s+/);
  return words.slice(words.indexOf("node") + 1, words.indexOf("src/cli.ts"));
}
const workerNode = workerNodeOptions();

function child(script: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, script, {
    cwd: projectRoot,
    env: { ...process.env, LOG_FORMAT: "json", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
  return { proc, output: () => out, exited };
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const TICK_MS = 1000 / 100; // USER_HZ

/** CPU time (user + system, ms) of a process; with children, also of its children that have ended. */
function cpuMs(pid: number, children = false): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks * TICK_MS;
}

const postmaster = Number(
  fs.readFileSync(`/proc/${(await db.query("select pg_backend_pid() as pid")).rows[0].pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1],
);

/** CPU time of the throwaway PostgreSQL: the postmaster, its running processes and those that have ended. */
function postgresCpuMs(): number {
  let total = cpuMs(postmaster, true);
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
      if (Number(fields[1]) === postmaster) total += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

function sandboxCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function campaign(recipients: number, sender: { perMinute: number | null }): Promise<string> {
  const { rows } = await db.query(
    `with s as (insert into app_public.senders (name, from_address, sending_domain, per_minute_limit, per_hour_limit)
                values ('bench', $2, '', $3, null) returning id),
     l as (insert into app_public.lists (name, opt_in) values ('bench', 'single') returning id),
     sub as (insert into app_public.subscribers (email, name)
             select format('%s-%s@example.org', $4::text, i), format('Person %s', i) from generate_series(1, $1::int) as i
             returning id),
     m as (insert into app_public.list_memberships (list_id, subscriber_id, status) select l.id, sub.id, 'confirmed' from l, sub),
     c as (insert into app_public.campaigns (name, sender_id, subject, html_body)
           select 'bench', s.id, 'Hello {{ subscriber.name }}',
                  '<p>Dear {{ subscriber.name }},</p><p>News. <a href="https://example.org/a">Read</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
           from s returning id)
     select c.id, l.id as list_id from c, l`,
    [recipients, `bench-${crypto.randomBytes(3).toString("hex")}@mail.example.com`, sender.perMinute, crypto.randomBytes(3).toString("hex")],
  );
  await db.query("insert into app_public.campaign_lists values ($1, $2)", [rows[0].id, rows[0].list_id]);
  return rows[0].id as string;
}

interface CampaignRun {
  seconds: number;
  rssMb: number;
  /** CPU ms per message: the worker, PostgreSQL, and this process (the sandbox, mostly). */
  cpu: { worker: number; postgres: number; sandbox: number };
}

async function runCampaign(campaignId: string, recipients: number): Promise<CampaignRun> {
  const worker = child([...workerNode, "src/cli.ts", "worker"], {
    DATABASE_URL: ownerUrl,
    ACS_CONNECTION_STRING: sandbox.connectionString,
    PUBLIC_URL: "https://mailroom.example.com",
  });
  for (let i = 0; !/Mailroom is ready/.test(worker.output()); i++) {
    if (i > 1200) throw new Error(`the worker did not start:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu0 = { worker: cpuMs(worker.proc.pid!), postgres: postgresCpuMs(), sandbox: sandboxCpuMs() };
  const t0 = Date.now();
  await db.query("select app_public.start_campaign($1)", [campaignId]);
  let peak = 0;
  for (;;) {
    peak = Math.max(peak, peakRssMb(worker.proc.pid!));
    const { rows } = await db.query("select status, extract(epoch from finished_at) * 1000 as finished from app_public.campaigns where id = $1", [campaignId]);
    if (rows[0].status === "finished") {
      const cpu = {
        worker: (cpuMs(worker.proc.pid!) - cpu0.worker) / recipients,
        postgres: (postgresCpuMs() - cpu0.postgres) / recipients,
        sandbox: (sandboxCpuMs() - cpu0.sandbox) / recipients,
      };
      worker.proc.kill("SIGTERM");
      await worker.exited;
      return { seconds: (Number(rows[0].finished) - t0) / 1000, rssMb: peak, cpu };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

log(`worker: node ${[...workerNode, "src/cli.ts", "worker"].join(" ")}`);

// 1. Throughput, end to end and the SDK loop alone.
log(`campaign of ${N.toLocaleString()} recipients (quotas off)`);
const first = await campaign(N, { perMinute: null });
sandbox.reset();
const cpuText = (cpu: Record<string, number>) =>
  Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
const e2e = await runCampaign(first, N);
log(`mailroom: ${e2e.seconds.toFixed(1)} s, ${(N / e2e.seconds).toFixed(0)} messages/s, worker peak RSS ${e2e.rssMb.toFixed(0)} MB; sandbox accepted ${sandbox.stats().emails.accepted}`);
log(`  CPU ms per message: ${cpuText(e2e.cpu)}`);
sandbox.reset();
const loopSandbox0 = sandboxCpuMs();
const loop = child(["bench/sending-sdk-loop.ts", sandbox.connectionString, String(N), "64"], {});
await loop.exited;
const loopSeconds = Number(/seconds=([\d.]+)/.exec(loop.output())![1]);
const loopCpu = { loop: Number(/cpu_ms=([\d.]+)/.exec(loop.output())![1]) / N, sandbox: (sandboxCpuMs() - loopSandbox0) / N };
log(`SDK loop alone: ${loopSeconds.toFixed(1)} s, ${(N / loopSeconds).toFixed(0)} messages/s; sandbox accepted ${sandbox.stats().emails.accepted}`);
log(`  CPU ms per message: ${cpuText(loopCpu)}`);
log(`ratio mailroom / SDK loop: ${(loopSeconds / e2e.seconds).toFixed(2)}`);

// 2. Peak RSS of the worker during a larger campaign.
if (M > 0) {
  log(`campaign of ${M.toLocaleString()} recipients (quotas off)`);
  const second = await campaign(M, { perMinute: null });
  sandbox.reset();
  const big = await runCampaign(second, M);
  log(`mailroom: ${big.seconds.toFixed(1)} s, ${(M / big.seconds).toFixed(0)} messages/s, worker peak RSS ${big.rssMb.toFixed(0)} MB`);
  log(`  CPU ms per message: ${cpuText(big.cpu)}`);
}

// 3. Quotas on: the busiest 60 s window at the sandbox.
if (R > 0) {
  log(`campaign of ${R} recipients, sender limited to ${Q} a minute`);
  sandbox.reset();
  sandbox.configure({ retainedEmails: R + 10 });
  const third = await campaign(R, { perMinute: Q });
  const limited = await runCampaign(third, R);
  const times = sandbox.emails().map((e) => Date.parse(e.acceptedAt)).sort((a, b) => a - b);
  let busiest = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= 60_000) start++;
    busiest = Math.max(busiest, end - start + 1);
  }
  log(`quota ${Q}/minute: ${times.length} sent in ${limited.seconds.toFixed(1)} s; busiest 60 s window: ${busiest} sends; 429s: ${sandbox.stats().emails.throttled}`);
}

await sandbox.stop();
await db.end();
await database.stop();
