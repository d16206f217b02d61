// Export benchmark: `mailroom lists export` and `mailroom campaigns export` as a user runs them (a child process
// with DATABASE_URL, Node start and the migration check included), at 100,000, 300,000 and 1,000,000 rows, CSV and
// JSON lines, written with --output to a file. For each run: the wall time and the child's peak RSS
// (process.resourceUsage().maxRSS, reported by the child as it exits through an --import hook). The point: the
// peak RSS does not grow with the number of rows. It has a ceiling, set by V8's young generation (the space new
// objects are made in, up to 2 x 64 MB here): its pages are touched one by one as the export allocates, so a
// short export stays below the ceiling and any longer one reaches it, 300,000 rows as 1,000,000. The CSV exports
// run once more with the young generation capped (node --max-semi-space-size=16, as `npm run worker` runs), for a
// lower ceiling reached sooner.
//
// Data, made by set-based SQL on a throwaway PostgreSQL (its own data directory, removed afterwards): 1,000,000
// subscribers (a name with a comma and quotes in every 10th, attributes on every 3rd); lists of the first
// 100,000, 300,000 and all of them; a campaign to each, whose messages carry send, delivery and engagement
// columns as a sent campaign's do.
//   ./node_modules/.bin/node bench/export.ts [runs=3] [sizes=100000,300000,1000000]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { projectRoot } from "../src/db/migrate.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";

const runs = Number(process.argv[2] ?? 3);
/** The sizes of the exports (a second argument such as 1000,10000 tries the bench quickly). */
const SIZES = (process.argv[3] ?? "100000,300000,1000000").split(",").map(Number);
const [SMALLEST, LARGEST] = [Math.min(...SIZES), Math.max(...SIZES)];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (...args: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...args);

const db = await startThrowawayDatabase({ fast: true, current: true });
const out = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-export-bench-"));
const client = new pg.Client({ connectionString: db.ownerUrl });
client.on("error", (error) => console.error(`database connection lost: ${error.message}`));
await client.connect();
const version = (await client.query("show server_version")).rows[0].server_version;

const timed = async (label: string, sql: string, params: unknown[] = []) => {
  const started = performance.now();
  await client.query(sql, params);
  log(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
};
const lists: Record<number, string> = {};
const campaigns: Record<number, string> = {};
try {
  const max = Math.max(...SIZES);
  const sender = (await client.query("insert into app_public.senders (name, from_address) values ('Bench', 'news@news.example.com') returning id")).rows[0].id;
  await timed(`${max} subscribers`, `insert into app_public.subscribers (email, name, attributes)
    select 'user' || g || '@example.org', case when g % 10 = 0 then 'Doe, "User" ' || g else 'User ' || g end,
      case when g % 3 = 0 then jsonb_build_object('plan', 'pro', 'seats', g % 7) else '{}' end
    from generate_series(1, $1) as g`, [max]);
  for (const size of SIZES) {
    lists[size] = (await client.query("insert into app_public.lists (name, opt_in) values ($1, 'single') returning id", [`bench ${size}`])).rows[0].id;
    await timed(`list of ${size}`, `insert into app_public.list_memberships (list_id, subscriber_id, status)
      select $1, s.id, case when s.id % 50 = 0 then 'unsubscribed' else 'confirmed' end
      from app_public.subscribers as s order by s.id limit $2`, [lists[size], size]);
    campaigns[size] = (await client.query("insert into app_public.campaigns (name, sender_id) values ($1, $2) returning id", [`bench ${size}`, sender])).rows[0].id;
    // What a sent campaign's messages look like: 98% delivered, 1% hard bounces, 1% failed; a third opened
    // (some by machines), a tenth clicked.
    await timed(`campaign of ${size}`, `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, send_status,
        accepted_at, delivery_status, delivery_status_message, delivery_status_at, bounce_type, opens_human, opens_machine,
        clicks_human, clicks_machine, first_opened_at, last_opened_at, first_clicked_at, last_clicked_at)
      select $1, s.id, $2, s.email, 'accepted', now() - interval '2 hours',
        case when s.id % 100 = 0 then 'Bounced' when s.id % 100 = 1 then 'Failed' else 'Delivered' end,
        case when s.id % 100 in (0, 1) then '550 5.1.1 mailbox unknown' end, now() - interval '1 hour',
        case when s.id % 100 = 0 then 'hard' when s.id % 100 = 1 then 'hard' end,
        (s.id % 3 = 0)::int, (s.id % 9 = 0)::int, (s.id % 10 = 0)::int, 0,
        case when s.id % 3 = 0 then now() end, case when s.id % 3 = 0 then now() end,
        case when s.id % 10 = 0 then now() end, case when s.id % 10 = 0 then now() end
      from app_public.subscribers as s order by s.id limit $3`, [campaigns[size], sender, size]);
  }
  await timed("vacuum analyze", "vacuum analyze");
} catch (error) {
  await db.stop();
  fs.rmSync(out, { recursive: true, force: true });
  throw error;
} finally {
  await client.end();
}

/** The hook every child is started with: it reports its peak RSS (kB) on stderr as it exits. */
const RSS_HOOK = `data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss_kb "+process.resourceUsage().maxRSS+"\\n"))`;

function exportOnce(args: string[], file: string, nodeFlags: string[]): Promise<{ seconds: number; rssMb: number; rows: number; bytes: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, "--import", RSS_HOOK, path.join(projectRoot, "src/cli.ts"), ...args, "--output", file], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: db.ownerUrl, LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      const rss = /maxrss_kb (\d+)/.exec(output);
      const rows = /^([\d,]+) rows to /m.exec(output);
      if (code !== 0 || !rss || !rows) return reject(new Error(`${args.join(" ")} exited with ${code}:\n${output}`));
      const bytes = fs.statSync(file).size;
      fs.rmSync(file);
      resolve({ seconds, rssMb: Number(rss[1]) / 1024, rows: Number(rows[1]!.replaceAll(",", "")), bytes });
    });
  });
}

interface Result { what: string; size: number; format: string; flags: string; seconds: number[]; rssMb: number[]; bytes: number }
const results: Result[] = [];
const CAPPED = "--max-semi-space-size=16";
/** Every export: [what, size, format, node flags]. */
const plan: [what: "list" | "campaign", size: number, format: string, flags: string][] = [];
for (const what of ["list", "campaign"] as const) {
  for (const size of SIZES) for (const format of ["csv", "json"]) plan.push([what, size, format, ""]);
  for (const size of SIZES) plan.push([what, size, "csv", CAPPED]);
}
const loads: number[] = [];
const sampler = setInterval(() => loads.push(os.loadavg()[0]!), 1000);
try {
  for (const [what, size, format, flags] of plan) {
    const result: Result = { what, size, format, flags, seconds: [], rssMb: [], bytes: 0 };
    for (let run = 1; run <= runs; run++) {
      const file = path.join(out, `${what}-${size}.${format}`);
      const args = [what === "list" ? "lists" : "campaigns", "export", (what === "list" ? lists : campaigns)[size]!, ...(format === "json" ? ["--json"] : [])];
      const r = await exportOnce(args, file, flags ? [flags] : []);
      if (r.rows !== size) throw new Error(`${what} ${size}: ${r.rows} rows exported`);
      result.seconds.push(r.seconds);
      result.rssMb.push(r.rssMb);
      result.bytes = r.bytes;
      log(`${what} export, ${size} rows, ${format}${flags ? ` (${flags})` : ""}: ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB, ${(r.bytes / 1e6).toFixed(1)} MB written`);
    }
    results.push(result);
  }
} finally {
  clearInterval(sampler);
  await db.stop();
  fs.rmSync(out, { recursive: true, force: true });
}

console.log(`\nPostgreSQL ${version}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}); medians of ${runs} runs`);
console.log("| export | rows | format | file | wall time | rows/s | peak RSS |");
console.log("|---|---:|---|---:|---:|---:|---:|");
for (const r of results) {
  const seconds = median(r.seconds);
  console.log(`| ${r.what} | ${r.size.toLocaleString("en-US")} | ${r.format === "csv" ? "CSV" : "JSON lines"}${r.flags ? ` (${r.flags})` : ""} | ` +
    `${(r.bytes / 1e6).toFixed(1)} MB | ${seconds.toFixed(1)} s (${r.seconds.map((s) => s.toFixed(1)).join(", ")}) | ` +
    `${Math.round(r.size / seconds).toLocaleString("en-US")} | ${median(r.rssMb).toFixed(0)} MB (${r.rssMb.map((m) => m.toFixed(0)).join(", ")}) |`);
}
const find = (what: string, size: number, format: string, flags = "") =>
  results.find((r) => r.what === what && r.size === size && r.format === format && r.flags === flags)!;
for (const [what, format, flags] of [["list", "csv", ""], ["list", "json", ""], ["list", "csv", CAPPED], ["campaign", "csv", ""],
  ["campaign", "json", ""], ["campaign", "csv", CAPPED]] as const) {
  const rss = (size: number) => median(find(what, size, format, flags).rssMb);
  const others = SIZES.filter((s) => s !== LARGEST && find(what, s, format, flags));
  console.log(`${what} ${format}${flags ? ` ${flags}` : ""}: peak RSS at ${LARGEST.toLocaleString("en-US")} rows / at ` +
    others.map((s) => `${s.toLocaleString("en-US")}: ${(rss(LARGEST) / rss(s)).toFixed(2)}`).join(", "));
}
console.log(`load average (1 min) during the exports: median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`);
