// Receiver benchmark. Load comes from this process (autocannon) on loopback; the server under test is
// `mailroom server` in its own process, on a PostgreSQL of its own with normal durability settings.
//   ./node_modules/.bin/node bench/receiver.ts [seconds] [messages] [--end-to-end: part 4 only]
// 1. one event per request (Event Grid's default), concurrency 64: requests/s, p50/p99 to acknowledge
// 2. the same load against a bare Express endpoint that only parses JSON (run first): the ratio of 1 to it
// 3. 100 events per request: events/s acknowledged
// 4. end to end: a campaign of [messages] messages, a delivery report and a view for each, 100 events per
//    request, with `mailroom worker` ingesting: events/s from the first request to the last event
//    attributed and counted in the campaign's rollup. Then, on the same server, the same events written by a
//    bare INSERT (bench/bare-events.ts, as bench/sql-core.ts does: 1,000 per statement, one connection) into a
//    trigger-less copy of app_public.raw_events: both rates and their ratio, side by side.
// Each part starts clean: parts 1, 3 and 4 each on a PostgreSQL server and a `mailroom server` of their own,
// stopped with everything else the part started when it ends. A fresh server was chosen over waiting for a part's
// backlog to be worked and truncating it afterwards as the simpler of the two: parts 1 and 3 run no worker, so
// their ingest jobs and events would otherwise wait for part 4's worker (which measured 2,091 events/s end to end
// behind them against 13,559 alone).
// Reports the peak memory (VmHWM) of each server process.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import autocannon from "autocannon";
import pg from "pg";
import { projectRoot } from "../src/db/migrate.ts";
import { freePort, startThrowawayDatabase, type ThrowawayDatabase } from "../src/db/throwaway.ts";
import { BARE_INSERT_SQL, CREATE_BARE_EVENTS_TABLE, ingestPayload } from "./bare-events.ts";

const seconds = Number(process.argv[2] ?? 20);
const onlyEndToEnd = process.argv.includes("--end-to-end");
const messages = Number(process.argv[3] ?? 100_000);
const SECRET = "bench-webhook-secret-0123456789";
/** Events per statement of the bare INSERT, as in bench/sql-core.ts. */
const BARE_BATCH = 1000;

function peakMemoryMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(url).then((r) => r.status < 500, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered`);
}

// What the parts leave running, stopped in the end whatever happens (each stop may be called more than once).
const cleanups: (() => Promise<void>)[] = [];

function startProcess(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  cleanups.push(() => stopProcess(child));
  return child;
}

/** SIGTERM, then the exit (at most 10 s). */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

interface Receiver {
  /** POST here, with the secret. */
  url: string;
  server: ChildProcess;
  database: ThrowawayDatabase;
  /** Stops the server, then its PostgreSQL. */
  stop(): Promise<void>;
}

/** A fresh PostgreSQL (normal durability: the receiver's answer waits for a real commit) and `mailroom server` on it. */
async function startReceiver(): Promise<Receiver> {
  const database = await startThrowawayDatabase();
  let stopping: Promise<void> | undefined;
  let server: ChildProcess | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (server) await stopProcess(server);
      await database.stop();
    })());
  cleanups.push(stop);
  const port = await freePort();
  server = startProcess(["src/cli.ts", "server"], {
    DATABASE_URL: database.ownerUrl,
    PORT: String(port),
    WEBHOOK_SECRETS: SECRET,
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { url: `http://127.0.0.1:${port}/webhooks/acs?code=${SECRET}`, server, database, stop };
}

function event(i: number, n: number) {
  return {
    id: `bench-${i}-${n}`,
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: "2026-11-27T10:01:12.688Z",
    dataVersion: "1.0",
    metadataVersion: "1",
    data: {
      sender: "news@news.example.com",
      recipient: `reader${n}@example.org`,
      messageId: "7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
      internetMessageId: `<${crypto.randomUUID()}@news.example.com>`,
      userActionTimestamp: "2026-11-27T10:01:12.1303595+00:00",
      engagementContext: "",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
      engagementType: "view",
    },
  };
}

/** CPU time (user + system) a process has used, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function load(url: string, eventsPerRequest: number, label: string, serverPid: number) {
  let n = 0;
  const cpuBefore = cpuMs(serverPid);
  const result = await autocannon({
    url,
    method: "POST",
    connections: 64,
    duration: seconds,
    headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
    requests: [
      {
        setupRequest: (req) => {
          const i = n++;
          req.body = JSON.stringify(Array.from({ length: eventsPerRequest }, (_, k) => event(i, k)));
          return req;
        },
      },
    ],
  });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  // CPU time of the server process per request: less disturbed than requests/s by other work on the machine.
  const cpuPerRequest = ((cpuMs(serverPid) - cpuBefore) * 1000) / result.requests.total;
  console.log(
    `${label}: ${Math.round(result.requests.average)} requests/s (${Math.round(result.requests.average * eventsPerRequest)} events/s), ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests, ${non2xx} not 2xx, ` +
      `server CPU ${cpuPerRequest.toFixed(0)} µs/request`,
  );
  return result;
}

console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0].model}), ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${seconds} s per run, 64 connections`);
try {
  if (!onlyEndToEnd) {
    // 2. Bare Express.
    const barePort = await freePort();
    const bare = startProcess(["bench/bare-server.ts"], { PORT: String(barePort) });
    await waitForHttp(`http://127.0.0.1:${barePort}/webhooks/acs`);
    const bareResult = await load(`http://127.0.0.1:${barePort}/webhooks/acs`, 1, "bare Express, 1 event/request     ", bare.pid!);
    const bareMemoryMb = peakMemoryMb(bare.pid!);
    await stopProcess(bare);

    // 1. One event per request.
    const first = await startReceiver();
    const single = await load(first.url, 1, "mailroom receiver, 1 event/request", first.server.pid!);
    console.log(`ratio receiver / bare (requests/s): ${(single.requests.average / bareResult.requests.average).toFixed(2)}`);
    const singleMemoryMb = peakMemoryMb(first.server.pid!);
    await first.stop();

    // 3. 100 events per request.
    const second = await startReceiver();
    await load(second.url, 100, "mailroom receiver, 100 events/request", second.server.pid!);
    const batchedMemoryMb = peakMemoryMb(second.server.pid!);
    await second.stop();
    console.log(
      `peak memory: receiver ${singleMemoryMb.toFixed(0)} MB (1 event/request), ${batchedMemoryMb.toFixed(0)} MB (100 events/request), ` +
        `bare ${bareMemoryMb.toFixed(0)} MB`,
    );
  }

  // 4. End to end.
  const receiver = await startReceiver();
  const databaseUrl = receiver.database.ownerUrl;
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await db.connect();
  const { rows: campaignRows } = await db.query(
    `with sender as (insert into app_public.senders (name, from_address) values ('Bench', 'news@news.example.com') returning id),
          campaign as (insert into app_public.campaigns (name, sender_id) select 'Bench', id from sender returning id, sender_id)
     select id, sender_id from campaign`,
  );
  const campaignId = campaignRows[0].id;
  await db.query(
    `insert into app_public.subscribers (email) select 'reader' || i || '@example.org' from generate_series(1, $1) as i`,
    [messages],
  );
  await db.query(
    `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, send_status, accepted_at)
     select $1, s.id, $2, s.email, '<' || gen_random_uuid() || '@news.example.com>', 'accepted', now() from app_public.subscribers s`,
    [campaignId, campaignRows[0].sender_id],
  );
  await db.query("update app_public.campaigns set status = 'running', started_at = now() where id = $1", [campaignId]).catch(() => undefined);
  const { rows: keys } = await db.query("select recipient, internet_message_id, operation_id from app_public.messages where campaign_id = $1", [campaignId]);
  const topic = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs";
  const endToEndEvents: string[] = [];
  keys.forEach((k, i) => {
    const common = { topic, subject: `sender/news@news.example.com/message/${k.operation_id}`, dataVersion: "1.0", metadataVersion: "1", eventTime: new Date().toISOString() };
    endToEndEvents.push(
      JSON.stringify({ ...common, id: `view-${i}`, eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
        data: { sender: "news@news.example.com", recipient: k.recipient, messageId: crypto.randomUUID(), internetMessageId: k.internet_message_id,
          userActionTimestamp: new Date(Date.now() + 60_000).toISOString(), engagementContext: "", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", engagementType: "view" } }),
      JSON.stringify({ ...common, id: `delivery-${i}`, eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
        data: { sender: "news@news.example.com", recipient: k.recipient, messageId: k.operation_id, internetMessageId: k.internet_message_id,
          status: "Delivered", deliveryStatusDetails: { statusMessage: "No error." }, deliveryAttemptTimestamp: new Date().toISOString() } }),
    );
  });
  const worker = startProcess(["src/cli.ts", "worker"], { DATABASE_URL: databaseUrl, LOG_LEVEL: "warn", LOG_FORMAT: "json", WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY ?? "4" });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const requestsNeeded = Math.ceil(endToEndEvents.length / 100);
  let next = 0;
  const started = performance.now();
  const acknowledged = await autocannon({
    url: receiver.url,
    method: "POST",
    connections: 16,
    amount: requestsNeeded,
    headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
    requests: [{ setupRequest: (req) => { const i = next++; req.body = `[${endToEndEvents.slice(i * 100, i * 100 + 100).join(",")}]`; return req; } }],
  });
  const acknowledgedSeconds = (performance.now() - started) / 1000;
  for (;;) {
    const { rows } = await db.query("select count(*)::int as n from app_public.message_events where campaign_id = $1", [campaignId]);
    if (rows[0].n >= endToEndEvents.length || performance.now() - started > 600_000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const attributedSeconds = (performance.now() - started) / 1000;
  const endToEndRate = endToEndEvents.length / attributedSeconds;
  const rollup = (await db.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
  console.log(
    `end to end, ${endToEndEvents.length} events for ${messages} messages, 100 events/request, 16 connections: ` +
      `acknowledged in ${acknowledgedSeconds.toFixed(1)} s (${Math.round(endToEndEvents.length / acknowledgedSeconds)} events/s, ${acknowledged.non2xx} not 2xx), ` +
      `all attributed in ${attributedSeconds.toFixed(1)} s (${Math.round(endToEndRate)} events/s end to end)`,
  );
  console.log(`rollup after: ${JSON.stringify(rollup)}`);
  console.log(`peak memory: receiver ${peakMemoryMb(receiver.server.pid!).toFixed(0)} MB, worker ${peakMemoryMb(worker.pid!).toFixed(0)} MB`);

  // The same events by a bare INSERT into a trigger-less copy of raw_events, on the same server, once the worker
  // is gone and what the end-to-end run wrote is on disk.
  await stopProcess(worker);
  const superuser = new pg.Client({ connectionString: receiver.database.superuserUrl });
  superuser.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await superuser.connect();
  await superuser.query("checkpoint");
  await superuser.end();
  await db.query(CREATE_BARE_EVENTS_TABLE);
  const payloads: string[] = [];
  for (let i = 0; i < endToEndEvents.length; i += BARE_BATCH) payloads.push(ingestPayload(`[${endToEndEvents.slice(i, i + BARE_BATCH).join(",")}]`));
  const bareStarted = performance.now();
  for (const payload of payloads) await db.query(BARE_INSERT_SQL, [payload]);
  const bareRate = endToEndEvents.length / ((performance.now() - bareStarted) / 1000);
  const bareRows = (await db.query("select count(*)::int as n from bench_bare_events")).rows[0].n;
  console.log(
    `same events, same server: ${Math.round(endToEndRate)} events attributed/s end to end, ` +
      `${Math.round(bareRate)} bare inserts/s (${bareRows} rows into a trigger-less copy of raw_events, ${BARE_BATCH} events per statement, one connection), ` +
      `ratio ${(endToEndRate / bareRate).toFixed(2)}`,
  );
  await db.end();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
