// What reading a webhook body costs, alone: Express's text body parser (what POST /webhooks/acs used before
// the memory budget) against readBody() with its budget (src/http/request-body.ts), each in an Express
// server process of its own that only reads the body, parses the JSON and answers 200; no database.
// Load from this process with autocannon over loopback, 64 connections; the two servers take turns, so that
// both see the same machine. Besides requests/s, the CPU time each server process spent per request
// (/proc/<pid>/stat), which other work on the machine disturbs less.
//   ./node_modules/.bin/node bench/body-reading.ts [seconds per run] [rounds] [events per request, e.g. 1,100]
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import autocannon from "autocannon";
import express from "express";
import { freePort } from "../src/db/throwaway.ts";
import { BytesInFlight, readBody } from "../src/http/request-body.ts";

if (process.argv[2] === "--serve") {
  const [, , , kind, port] = process.argv;
  const app = express();
  const answer = (res: express.Response, body: string) => res.status(200).json({ received: (JSON.parse(body) as unknown[]).length });
  if (kind === "express.text") {
    const text = express.text({ type: () => true, limit: 4 * 1024 * 1024, defaultCharset: "utf-8" });
    app.post("/webhooks/acs", (req, res, next) => {
      text(req, res, (error?: unknown) => (error ? next(error) : answer(res, req.body as string)));
    });
  } else {
    const limits = { maxBytes: 4 * 1024 * 1024, budget: new BytesInFlight(32 * 1024 * 1024) };
    app.post("/webhooks/acs", (req, res) => {
      readBody(req, res, limits, (refusal, body) => {
        if (refusal) res.status(refusal.status).json({ error: refusal.reason });
        else answer(res, body!);
      });
    });
  }
  app.listen(Number(port), "127.0.0.1");
} else {
  const seconds = Number(process.argv[2] ?? 10);
  const rounds = Number(process.argv[3] ?? 3);
  const event = JSON.stringify({
    id: "3f1d9c1e-7a2b-4c3d-9e8f-0a1b2c3d4e5f",
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
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
      engagementContext: "",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
      engagementType: "view",
    },
  });
  const kinds = ["express.text", "readBody"] as const;
  const servers: ChildProcess[] = [];
  const ports: Record<string, number> = {};
  const pids: Record<string, number> = {};
  for (const kind of kinds) {
    ports[kind] = await freePort();
    const server = spawn(process.execPath, [import.meta.filename, "--serve", kind, String(ports[kind])], { stdio: "inherit" });
    servers.push(server);
    pids[kind] = server.pid!;
  }
  /** CPU time (user + system) the process has used, in ms (clock ticks of 10 ms). */
  const cpuMs = (pid: number) => {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const results: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  try {
    console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0].model}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ${seconds} s per run, 64 connections`);
    for (const events of (process.argv[4] ?? "1,100").split(",").map(Number)) {
      const body = `[${Array.from({ length: events }, () => event).join(",")}]`;
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
          const cpuBefore = cpuMs(pids[kind]);
          const result = await autocannon({
            url: `http://127.0.0.1:${ports[kind]}/webhooks/acs`,
            method: "POST",
            connections: 64,
            duration: seconds,
            headers: { "content-type": "application/json; charset=utf-8" },
            body,
          });
          const label = `${kind}, ${events} event${events > 1 ? "s" : ""}/request`;
          const cpuPerRequest = ((cpuMs(pids[kind]) - cpuBefore) * 1000) / result.requests.total;
          (results[label] ??= []).push(result.requests.average);
          (cpu[label] ??= []).push(cpuPerRequest);
          console.log(
            `${label.padEnd(34)} round ${round + 1}: ${Math.round(result.requests.average)} requests/s, p99 ${result.latency.p99} ms, ` +
              `${cpuPerRequest.toFixed(0)} µs CPU/request, ${result.non2xx + result.errors} not 2xx`,
          );
        }
      }
      const suffix = `${events} event${events > 1 ? "s" : ""}/request`;
      const [before, after] = kinds.map((kind) => median(results[`${kind}, ${suffix}`]));
      const [cpuBefore, cpuAfter] = kinds.map((kind) => median(cpu[`${kind}, ${suffix}`]));
      console.log(
        `${suffix}, medians: express.text ${Math.round(before)}/s and ${cpuBefore.toFixed(0)} µs CPU/request, ` +
          `readBody ${Math.round(after)}/s and ${cpuAfter.toFixed(0)} µs; ratio readBody / express.text: ` +
          `${(after / before).toFixed(2)} in requests/s, ${(cpuAfter / cpuBefore).toFixed(2)} in CPU per request`,
      );
    }
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    for (const server of servers) server.kill("SIGTERM");
  }
}
