// Time from `mailroom start` to "ready" (the HTTP server answers /readyz 200): first start on an
// empty data directory (initdb, roles, migrations) and later starts (reuse). Medians of N runs.
//   ./node_modules/.bin/node bench/startup.ts [runs]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, runMailroom } from "../test/helpers/process.ts";

const runs = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeToReady(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const p = runMailroom(["start"], env);
  await p.waitFor(/Mailroom is ready/, 120_000);
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${env.PORT}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const ms = performance.now() - started;
  p.child.kill("SIGTERM");
  await p.exited;
  return ms;
}

const first: number[] = [];
const later: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-startup-"));
  fs.chmodSync(dir, 0o755);
  const env = { MAILROOM_DATA_DIR: dir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
  first.push(await timeToReady(env));
  later.push(await timeToReady(env));
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`first start (empty data directory): median ${Math.round(median(first))} ms over ${runs} runs: ${first.map(Math.round).join(", ")}`);
console.log(`later start (existing data):        median ${Math.round(median(later))} ms over ${runs} runs: ${later.map(Math.round).join(", ")}`);
