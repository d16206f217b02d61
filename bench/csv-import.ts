// CSV import benchmark: `mailroom import-subscribers` as a user runs it (a child process, DATABASE_URL set), on a
// generated file of N rows (default 1,000,000) into an empty list, on a throwaway PostgreSQL (embedded 18, normal
// durability). Each run gets a fresh database cloned from the migrated one; then the same file is imported again
// into the last run's database (idempotent: nothing changes). Prints the wall time of each run, the medians, and
// the machine's load average sampled every second during the runs.
//   ./node_modules/.bin/node bench/csv-import.ts [rows=1000000] [runs=3]
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { projectRoot } from "../src/db/migrate.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";

const N = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (...args: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...args);

// The file: email, name, city (an extra column: a string attribute), plan; every 10th name quoted with a comma,
// 0.1% invalid addresses, 0.1% repeats of an earlier address.
const file = path.join(os.tmpdir(), `mailroom-bench-${N}.csv`);
{
  const out = fs.createWriteStream(file);
  out.write("email,name,city,plan\r\n");
  const cities = ["Paris", "Lyon", "Berlin", "Madrid", "Rome"];
  let chunk = "";
  for (let i = 1; i <= N; i++) {
    const email = i % 1000 === 7 ? `broken-address-${i}` : i % 1000 === 11 ? `user${i - 1}@example.org` : `user${i}@example.org`;
    const name = i % 10 === 0 ? `"Doe, User ${i}"` : `User ${i}`;
    chunk += `${email},${name},${cities[i % 5]},${i % 3 === 0 ? "pro" : ""}\r\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
}
log(`${file}: ${N} rows, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);

const db = await startThrowawayDatabase();
const su = new pg.Client({ connectionString: db.superuserUrl });
su.on("error", (error) => console.error(`database connection lost: ${error.message}`));
await su.connect();
const version = (await su.query("show server_version")).rows[0].server_version;
{
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  owner.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  await owner.connect();
  await owner.query("insert into app_public.lists (name, opt_in) values ('bench', 'double')");
  await owner.end();
}

const loads: number[] = [];
const sampler = setInterval(() => loads.push(os.loadavg()[0]!), 1000);

function importFile(database: string): Promise<{ ms: number; output: string }> {
  const url = new URL(db.ownerUrl);
  url.pathname = `/${database}`;
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(projectRoot, "src/cli.ts"), "import-subscribers", "--list", "bench", file], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: url.toString(), LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`import exited with ${code}:\n${output}`));
      else resolve({ ms: performance.now() - started, output });
    });
  });
}

const times: number[] = [];
let last = "";
for (let run = 1; run <= runs; run++) {
  last = `bench_run_${run}`;
  await su.query(`create database ${last} template mailroom owner mailroom`);
  await su.query(`grant connect on database ${last} to mailroom_authenticator, mailroom_readonly`);
  const { ms, output } = await importFile(last);
  times.push(ms);
  log(`run ${run}: ${(ms / 1000).toFixed(1)} s`);
  if (run === 1) console.log(output.split("\n").filter((l) => /^(\S.*->|  [a-z ]+ +[\d,]+$|Reading \d|Checking|Adding)/.test(l)).join("\n"));
}
const again = await importFile(last);
log(`same file again: ${(again.ms / 1000).toFixed(1)} s`);
console.log(again.output.split("\n").filter((l) => /^(  [a-z ]+ +[\d,]+$|Nothing|Checking|Adding)/.test(l)).join("\n"));
clearInterval(sampler);

console.log(`\nPostgreSQL ${version}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`);
console.log(`import of ${N} rows: median ${(median(times) / 1000).toFixed(1)} s over ${runs} runs (${times.map((t) => (t / 1000).toFixed(1)).join(", ")}); ` +
  `${Math.round(N / (median(times) / 1000))} rows/s`);
console.log(`same file again (nothing changes): ${(again.ms / 1000).toFixed(1)} s`);
console.log(`load average (1 min) during the runs: median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`);

await su.end();
await db.stop();
fs.rmSync(file, { force: true });
