// The receiver under a hostile mix of requests, in its own process (`mailroom server`), so that its peak
// memory can be read from /proc/<pid>/status (VmHWM): dozens of concurrent requests of 60 MB with
// Content-Length, chunked ones without it, slow senders holding their requests open, and normal deliveries
// of one and of 100 events all the while, retried after a 503 as Event Grid does. The receiver must live
// through it, stay within a memory bound derived from WEBHOOK_MAX_BYTES_IN_FLIGHT, answer every request
// 200, 413 or 503 (never a reset connection), and have queued every delivery it answered 200.
// Run twice: with the default settings, and with WEBHOOK_MAX_BODY_BYTES at 64 MB (the former default),
// where the 60 MB requests are within the limit and only the budget stands between them and the heap.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES, defaultWebhookMaxBytesInFlight } from "../../src/config.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { freePort, runMailroom, type MailroomProcess } from "../helpers/process.ts";

const KB = 1024;
const MB = 1024 * KB;
const SECRET = "chaos-webhook-secret-0123456789";
/**
 * Peak memory allowed: the process's resident size when idle, plus this many times the budget. A body is
 * in memory several times while it is handled (the bytes read, the text, the parsed events, the job's JSON,
 * the query sent to PostgreSQL), and what a request leaves behind is garbage until V8 collects it: measured,
 * 9 to 11.5 times the budget at the peak (docs/operations.md, "Memory of the receiver"); 16 leaves room
 * for the collector's timing. Without the budget the same mix took 1.2 GB with the default body limit, and
 * 4.6 GB or a crash with a body limit of 64 MB.
 */
const PEAK_FACTOR = 16;

let db: TestDatabase;
let server: MailroomProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  server = undefined;
  await db.pool.query("truncate graphile_worker._private_jobs cascade");
});
afterAll(async () => {
  agent.destroy();
  await db?.drop();
});

/** The process's resident size now (VmRSS) or at its highest (VmHWM), in kB; 0 once it is gone. */
function memoryKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** An ACS engagement event as Event Grid delivers it: about 800 bytes. */
function event(id: string): string {
  return JSON.stringify({
    id,
    topic: "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: "2026-11-27T10:01:12.688Z",
    dataVersion: "1.0",
    metadataVersion: "1",
    data: {
      sender: "news@news.example.com",
      recipient: "reader@example.org",
      messageId: "7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
      internetMessageId: "<5b1e2f9a-6c7d-4e8f-9a0b-1c2d3e4f5a6b@news.example.com>",
      userActionTimestamp: "2026-11-27T10:01:12.1303595+00:00",
      engagementContext: "https://news.example.com/articles/2026/11/the-long-read?utm_source=newsletter&utm_medium=email",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
      engagementType: "click",
    },
  });
}

/** About 1 MB of events, each preceded by a comma; shared by every large body (only their first event differs). */
const filler = (() => {
  const events: string[] = [];
  let bytes = 0;
  while (bytes < MB - 2 * KB) {
    const e = `,${event(`filler-${events.length}`)}`;
    events.push(e);
    bytes += e.length;
  }
  return { buffer: Buffer.from(events.join("")), events: events.length };
})();

interface Body {
  /** The pieces to write, in order (the filler repeated by reference). */
  parts: Buffer[];
  length: number;
  events: number;
  /** The id of the body's first event, unique to the request. */
  marker: string;
}

/** A valid delivery of about `bytes` bytes (at most that many). */
function largeBody(marker: string, bytes: number): Body {
  const head = Buffer.from(`[${event(marker)}`);
  const tail = Buffer.from("]");
  const repeats = Math.floor((bytes - head.length - tail.length) / filler.buffer.length);
  const parts = [head, ...Array.from({ length: repeats }, () => filler.buffer), tail];
  return { parts, length: head.length + repeats * filler.buffer.length + tail.length, events: 1 + repeats * filler.events, marker };
}

function smallBody(marker: string, events: number): Body {
  const ids = Array.from({ length: events }, (_, i) => (i === 0 ? marker : `${marker}-${i}`));
  const buffer = Buffer.from(`[${ids.map(event).join(",")}]`);
  return { parts: [buffer], length: buffer.length, events, marker };
}

interface Outcome {
  kind: string;
  length: number;
  events: number;
  marker: string;
  status?: number;
  retryAfter?: string;
  error?: string;
}

// Connections are kept alive, as Event Grid's are: a body refused early is read off and thrown away by the
// receiver, which answers and keeps the connection.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** Lets a group of senders finish their bodies together: each waits until all have arrived. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    let done = false;
    return () => {
      if (!done && ++arrived === count) open();
      done = true;
      return opened;
    };
  };
}

interface SendOptions {
  chunked?: boolean;
  /** Writes `bytes` every `everyMs` milliseconds, as a slow sender. */
  pace?: { bytes: number; everyMs: number };
  /** Called before the last piece of the body is written, and once the request is over; the last piece waits for it. */
  beforeLast?: () => Promise<void>;
}

/**
 * Sends one request and resolves once it has both been written and been answered (or the connection is
 * gone). The whole body is written even when the answer comes early, as a simple client would.
 */
function send(port: number, kind: string, body: Body, options: SendOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { kind, length: body.length, events: body.events, marker: body.marker };
    let written = false;
    let answered = false;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      void options.beforeLast?.();
      if (!answered && outcome.error === undefined) outcome.error = "closed without an answer";
      resolve(outcome);
    };
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: `/webhooks/acs?code=${SECRET}`,
      method: "POST",
      agent,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "aeg-event-type": "Notification",
        ...(options.chunked ? {} : { "content-length": String(body.length) }),
      },
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (!answered) outcome.error = error.code ?? error.message;
      settle();
    });
    req.on("close", settle);
    req.on("response", (res) => {
      outcome.status = res.statusCode;
      const retryAfter = res.headers["retry-after"];
      if (retryAfter !== undefined) outcome.retryAfter = retryAfter;
      res.resume();
      res.on("end", () => {
        answered = true;
        if (written) settle();
      });
    });
    const write = (piece: Buffer) =>
      new Promise<void>((resolveWrite) => {
        if (req.write(piece)) return resolveWrite();
        const done = () => {
          req.off("drain", done);
          req.off("close", done);
          resolveWrite();
        };
        req.on("drain", done);
        req.on("close", done);
      });
    const pause = () => new Promise((r) => setTimeout(r, options.pace!.everyMs));
    (async () => {
      for (const [index, part] of body.parts.entries()) {
        if (index === body.parts.length - 1 && options.beforeLast) await options.beforeLast();
        const step = options.pace?.bytes ?? part.length;
        for (let at = 0; at < part.length; at += step) {
          if (settled || req.destroyed) return;
          await write(step === part.length ? part : part.subarray(at, at + step));
          if (options.pace) await pause();
        }
      }
      req.end(() => {
        written = true;
        if (answered) settle();
      });
    })();
  });
}

async function startServer(env: Record<string, string>): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  server = runMailroom(["server"], {
    DATABASE_URL: db.ownerUrl,
    PORT: String(port),
    WEBHOOK_SECRETS: SECRET,
    LOG_LEVEL: "warn",
    ...env,
  });
  const deadline = Date.now() + 90_000;
  while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
    if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, pid: server.child.pid! };
}

/** Every event id queued in graphile_worker jobs, by request marker, and how many events in all. */
async function queued(): Promise<{ total: number; markers: Set<string> }> {
  const { rows } = await db.pool.query(
    `select count(*)::int as total,
            coalesce(array_agg(e.id) filter (where e.id like 'm-%' and e.id not like 'm-%-%'), '{}') as markers
     from graphile_worker._private_jobs j,
          lateral (select v #>> '{}' as id from jsonb_path_query(j.payload::jsonb, 'strict $.**.id') as v) e`,
  );
  return { total: rows[0].total, markers: new Set(rows[0].markers) };
}

async function hostileMix(maxBodyBytes: number) {
  const budget = defaultWebhookMaxBytesInFlight(maxBodyBytes);
  const { port, pid } = await startServer({ WEBHOOK_MAX_BODY_BYTES: String(maxBodyBytes) });

  // Idle size, after a few deliveries have loaded what a request needs.
  for (let i = 0; i < 20; i++) expect((await send(port, "warm-up", smallBody(`w-${i}`, 100))).status).toBe(200);
  await new Promise((r) => setTimeout(r, 500));
  const idleKb = memoryKb(pid, "VmRSS");

  let sampledPeakKb = 0;
  const sampler = setInterval(() => {
    sampledPeakKb = Math.max(sampledPeakKb, memoryKb(pid, "VmRSS"));
  }, 50);

  let n = 0;
  const id = () => `m-${n++}`;
  const large = Math.min(60 * MB, maxBodyBytes - 64 * KB);
  const slow = Math.min(8 * MB, maxBodyBytes - 64 * KB);
  const pace = { bytes: 256 * KB, everyMs: 200 };
  const launchers: (() => Promise<Outcome>)[] = [];
  const add = (count: number, launch: () => Promise<Outcome>) => {
    for (let i = 0; i < count; i++) launchers.push(launch);
  };
  add(50, () => send(port, "60 MB, Content-Length", largeBody(id(), 60 * MB)));
  add(10, () => send(port, "60 MB, chunked", largeBody(id(), 60 * MB), { chunked: true }));
  if (large < 60 * MB) {
    add(50, () => send(port, "near the limit, Content-Length", largeBody(id(), large)));
    add(10, () => send(port, "near the limit, chunked", largeBody(id(), large), { chunked: true }));
  }
  // Slow senders that finish together: without a budget, all of their bodies would be handled at once.
  const together = barrier(120);
  add(100, () => send(port, "slow, Content-Length, finishing together", largeBody(id(), slow), { pace, beforeLast: together() }));
  add(20, () => send(port, "slow, chunked, finishing together", largeBody(id(), slow), { chunked: true, pace, beforeLast: together() }));
  // In three waves 1.5 s apart, each all at once in a fixed shuffled order: bursts, and later waves that
  // find the earlier ones still in flight or just done.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = launchers.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [launchers[i], launchers[j]] = [launchers[j], launchers[i]];
  }
  const hostile = (async () => {
    const started: Promise<Outcome>[] = [];
    for (let wave = 0; wave < 3; wave++) {
      if (wave > 0) await new Promise((r) => setTimeout(r, 1500));
      for (let i = wave; i < launchers.length; i += 3) started.push(launchers[i]());
    }
    return Promise.all(started);
  })();

  // Normal deliveries all along: retried after a 503 until they get their 200, as Event Grid would.
  let hostileDone = false;
  const normal: Outcome[] = [];
  const normalSender = async (events: number) => {
    let sent = 0;
    while (!hostileDone || sent < 10) {
      const body = smallBody(id(), events);
      for (let attempt = 0; ; attempt++) {
        const outcome = await send(port, `normal, ${events} events`, body);
        normal.push(outcome);
        if (outcome.status !== 503 || attempt > 600) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const normalSenders = [1, 1, 1, 1, 100, 100, 100, 100].map(normalSender);

  const started = performance.now();
  const outcomes = await hostile;
  const hostileSeconds = (performance.now() - started) / 1000;
  hostileDone = true;
  await Promise.all(normalSenders);
  clearInterval(sampler);

  // Nothing is left holding the budget: a request of the largest size gets in.
  const last = await send(port, "after", largeBody(id(), large));
  const peakKb = Math.max(memoryKb(pid, "VmHWM"), sampledPeakKb);

  const all = [...outcomes, ...normal, last];
  const summary: Record<string, Record<string, number>> = {};
  for (const o of all) {
    const answer = o.error ?? String(o.status);
    summary[o.kind] ??= {};
    summary[o.kind][answer] = (summary[o.kind][answer] ?? 0) + 1;
  }
  const figures = {
    maxBodyBytes,
    budget,
    idleMb: Math.round(idleKb / 1024),
    peakMb: Math.round(peakKb / 1024),
    sampledPeakMb: Math.round(sampledPeakKb / 1024),
    boundMb: Math.round(idleKb / 1024 + (PEAK_FACTOR * budget) / MB),
    hostileSeconds: Math.round(hostileSeconds),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(" "),
  };
  console.log(`hostile mix: ${JSON.stringify(figures)}\n${JSON.stringify(summary, null, 1)}`);

  expect(server!.child.exitCode, `the receiver died:\n${server!.output().slice(-3000)}`).toBeNull();
  expect(last, "a request of the largest size after the mix").toMatchObject({ status: 200 });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  // Every request answered, and only with 200, 413 or 503; the 503s carry Retry-After.
  for (const o of all) {
    expect(o.error, `${o.kind}: ${o.error}`).toBeUndefined();
    expect([200, 413, 503]).toContain(o.status);
    if (o.status === 503) expect(o.retryAfter).toBe("10");
    if (o.status === 413) expect(o.length).toBeGreaterThan(maxBodyBytes);
    if (o.length > maxBodyBytes && !o.kind.includes("chunked")) expect(o.status).toBe(413);
  }
  // Normal deliveries all got through in the end.
  const normalMarkers = new Set(normal.map((o) => o.marker));
  const normalAccepted = new Set(normal.filter((o) => o.status === 200).map((o) => o.marker));
  expect(normalAccepted).toEqual(normalMarkers);

  // Every delivery answered 200 is queued, once, with all of its events; nothing else is.
  const accepted = all.filter((o) => o.status === 200);
  const warmUpEvents = 20 * 100;
  const stored = await queued();
  expect(stored.markers).toEqual(new Set(accepted.map((o) => o.marker)));
  expect(stored.total).toBe(warmUpEvents + accepted.reduce((sum, o) => sum + o.events, 0));

  expect(peakKb).toBeLessThan(idleKb + (PEAK_FACTOR * budget) / KB);
  return figures;
}

describe("hostile request mix against the receiver process", () => {
  test("default settings (WEBHOOK_MAX_BODY_BYTES 4 MB, WEBHOOK_MAX_BYTES_IN_FLIGHT 32 MB)", async () => {
    await hostileMix(DEFAULT_WEBHOOK_MAX_BODY_BYTES);
  });

  test("WEBHOOK_MAX_BODY_BYTES at 64 MB (budget 64 MB): 60 MB requests within the limit, held back by the budget alone", async () => {
    await hostileMix(64 * MB);
  });
});
