// Receiver benchmark. Load comes from this process (autocannon) on loopback; the server under test is
// `mailroom server` in its own process, on a PostgreSQL of its own with normal durability settings.
//   ./node_modules/.bin/node bench/receiver.ts [seconds]
// 1. one event per request (Event Grid's default), concurrency 64: requests/s, p50/p99 to acknowledge
// 2. the same load against a bare Express endpoint that only parses JSON: the ratio of 1 to it
// 3. 100 events per request: events/s acknowledged
// Reports the peak memory (VmHWM) of each server process.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { migrateDatabase, projectRoot } from "../src/db/migrate.ts";
import { PostgresServer, embeddedBinDir } from "../src/db/postgres-server.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../src/db/roles.ts";
import { freePort } from "../test/helpers/process.ts";

const seconds = Number(process.argv[2] ?? 20);
const SECRET = "bench-webhook-secret-0123456789";

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

function startProcess(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  return child;
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

async function load(url: string, eventsPerRequest: number, label: string) {
  let n = 0;
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
  console.log(
    `${label}: ${Math.round(result.requests.average)} requests/s (${Math.round(result.requests.average * eventsPerRequest)} events/s), ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests, ${non2xx} not 2xx`,
  );
  return result;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-bench-"));
fs.chmodSync(dir, 0o755);
const pgServer = new PostgresServer({ binDir: await embeddedBinDir(), dir, port: await freePort(), superuserPassword: "bench" });
await pgServer.start();
const children: ChildProcess[] = [];
try {
  const roles = rolesFor("mailroom");
  const passwords = { owner: "bench-owner", authenticator: "bench-auth" };
  await ensureRoles(pgServer.superuserUrl, roles, passwords);
  await ensureDatabase(pgServer.superuserUrl, roles);
  const databaseUrl = withCredentials(pgServer.superuserUrl, roles.owner, passwords.owner, roles.database);
  await migrateDatabase(databaseUrl, roles);

  const mailroomPort = await freePort();
  const mailroom = startProcess(["src/cli.ts", "server"], {
    DATABASE_URL: databaseUrl,
    PORT: String(mailroomPort),
    WEBHOOK_SECRETS: SECRET,
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
  });
  children.push(mailroom);
  const barePort = await freePort();
  const bare = startProcess(["bench/bare-server.ts"], { PORT: String(barePort) });
  children.push(bare);
  await waitForHttp(`http://127.0.0.1:${mailroomPort}/healthz`);
  await new Promise((resolve) => setTimeout(resolve, 500));

  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0].model}), ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${seconds} s per run, 64 connections`);
  const bareResult = await load(`http://127.0.0.1:${barePort}/webhooks/acs`, 1, "bare Express, 1 event/request     ");
  const single = await load(`http://127.0.0.1:${mailroomPort}/webhooks/acs?code=${SECRET}`, 1, "mailroom receiver, 1 event/request");
  console.log(`ratio receiver / bare (requests/s): ${(single.requests.average / bareResult.requests.average).toFixed(2)}`);
  await load(`http://127.0.0.1:${mailroomPort}/webhooks/acs?code=${SECRET}`, 100, "mailroom receiver, 100 events/request");
  console.log(`peak memory: receiver ${peakMemoryMb(mailroom.pid!).toFixed(0)} MB, bare ${peakMemoryMb(bare.pid!).toFixed(0)} MB`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await pgServer.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
