// Memory of the sandbox while it emulates a large campaign: N emails of one recipient each (Mailroom
// sends one message per recipient), signed as the SDK signs them, sent with bounded concurrency, with
// every event delivered to a local webhook. Prints heap and RSS (after a forced GC) every 10% of the
// campaign and once everything has been delivered.
//
//   ./node_modules/.bin/node --expose-gc bench/sandbox-memory.ts [recipients=100000] [maxEventsPerBatch=1]
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { signRequest, startSandbox } from "../src/sandbox/index.ts";

const recipients = Number(process.argv[2] ?? 100_000);
const maxEventsPerBatch = Number(process.argv[3] ?? 1);
const concurrency = 32;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("run with --expose-gc");
  process.exit(2);
}

function memory(): { heapMB: number; rssMB: number } {
  gc!();
  const m = process.memoryUsage();
  return { heapMB: Math.round(m.heapUsed / 1048576), rssMB: Math.round(m.rss / 1048576) };
}

// The webhook: completes the handshake, counts events.
let eventsReceived = 0;
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    if (req.headers["aeg-event-type"] === "SubscriptionValidation") {
      const [event] = JSON.parse(body) as { data: { validationCode: string } }[];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ validationResponse: event.data.validationCode }));
      return;
    }
    eventsReceived += (JSON.parse(body) as unknown[]).length;
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/acs?code=bench`;

const sandbox = await startSandbox({
  settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, seed: 1 },
  subscriptions: [{ endpoint: webhook, maxEventsPerBatch }],
});
const sendUrl = new URL("/emails:send?api-version=2025-09-01", sandbox.baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function send(i: number): Promise<number> {
  const body = JSON.stringify({
    senderAddress: "news@news.example.com",
    content: {
      subject: "November news",
      html: `<p>Hello ${i}</p><a href="https://shop.example.com/sale?u=${i}">sale</a><a href="https://shop.example.com/faq">faq</a>`,
    },
    recipients: { to: [{ address: `subscriber${i}@example.org` }] },
    headers: { "Message-ID": `<${i}-bench@news.example.com>` },
  });
  const headers = { ...signRequest("POST", sendUrl, body, sandbox.accessKey), "content-type": "application/json" };
  return new Promise((resolve, reject) => {
    const req = http.request(sendUrl, { method: "POST", headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

console.log(`sandbox memory: ${recipients} recipients, maxEventsPerBatch ${maxEventsPerBatch}, concurrency ${concurrency}`);
console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GB`);
const baseline = memory();
console.log(`baseline: heap ${baseline.heapMB} MB, rss ${baseline.rssMB} MB`);
console.log("sent\theap MB\trss MB\tscheduled\tpending deliveries\tevents received");

const started = Date.now();
let next = 0;
let failures = 0;
let peakHeap = baseline.heapMB;
let peakRss = baseline.rssMB;
const step = Math.max(1, Math.floor(recipients / 10));
let nextReport = step;
async function worker(): Promise<void> {
  while (next < recipients) {
    const i = next++;
    const status = await send(i);
    if (status !== 202) failures++;
    if (i + 1 >= nextReport) {
      nextReport += step;
      const m = memory();
      peakHeap = Math.max(peakHeap, m.heapMB);
      peakRss = Math.max(peakRss, m.rssMB);
      const s = sandbox.stats().events;
      console.log(`${i + 1}\t${m.heapMB}\t${m.rssMB}\t${s.scheduled}\t${s.pendingDeliveries}\t${eventsReceived}`);
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const sendSeconds = (Date.now() - started) / 1000;
await sandbox.whenIdle(600_000);
const totalSeconds = (Date.now() - started) / 1000;
const end = memory();
const stats = sandbox.stats();
console.log(`done: ${recipients} sends in ${sendSeconds.toFixed(1)} s (${Math.round(recipients / sendSeconds)}/s), failures ${failures}`);
console.log(`all ${eventsReceived} events delivered after ${totalSeconds.toFixed(1)} s; emails retained ${stats.emails.retained}`);
console.log(`peak during the campaign: heap ${peakHeap} MB, rss ${peakRss} MB; after delivery: heap ${end.heapMB} MB, rss ${end.rssMB} MB`);
await sandbox.stop();
agent.destroy();
receiver.closeAllConnections();
receiver.close();
