// The README's five-minute tour, run as a user runs it: `npm start` on an empty data directory, then every
// `bin/mailroom` command of the tour's code block, in order, from a shell, through the command line only. Then
// what the commands printed and wrote is compared with the ledger (the database the tour filled).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { parseCsv } from "../src/commands/csv.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { freePort, projectPath, runNpm, type MailroomProcess } from "./helpers/process.ts";
import { waitFor } from "./helpers/wait.ts";

let server: MailroomProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The commands of the README's tour block: `npm start` first, then `bin/mailroom ...` lines. */
function tourCommands(): string[] {
  const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
  const section = readme.split("\n## A five-minute tour")[1];
  if (!section) throw new Error('README.md has no "## A five-minute tour" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("the tour has no sh code block");
  return block.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

interface Run {
  command: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

function shell(command: string, cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd, env: { ...process.env, ...env, PATH: projectPath() }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ command, code, stdout, stderr }));
  });
}

test("the README's tour: from an empty data directory to a sent campaign, its numbers and its exports", async () => {
  const commands = tourCommands();
  expect(commands[0]).toBe("npm start");
  const tour = commands.slice(1);
  expect(tour.length).toBeGreaterThanOrEqual(12);
  for (const command of tour) expect(command).toMatch(/^bin\/mailroom /);

  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-tour-"));
  fs.chmodSync(dir, 0o755);
  // The user's directory: the project's bin/ and docs/ (the example files) as in a clone; what the tour writes
  // (preview/, messages.csv, newsletter.csv) lands here, not in the project.
  const cwd = path.join(dir, "work");
  fs.mkdirSync(cwd);
  fs.symlinkSync(path.join(projectRoot, "bin"), path.join(cwd, "bin"));
  fs.symlinkSync(path.join(projectRoot, "docs"), path.join(cwd, "docs"));
  const env: Record<string, string> = {
    MAILROOM_DATA_DIR: path.join(dir, "data"),
    EMBEDDED_PG_PORT: String(await freePort()),
    PORT: "0",
    // The sandbox's clock 100 times faster than Azure's: delivery reports 0.6 to 3 s after sending.
    SANDBOX_TIME_SCALE: "0.01",
    SANDBOX_SEED: "5",
  };
  server = runNpm("start", [], env);
  await server.waitFor(/Mailroom is ready/, 90_000);

  const runs: Run[] = [];
  for (const command of tour) {
    const run = await shell(command, cwd, env);
    runs.push(run);
    expect(run.code, `${command}\n${run.stdout}\n${run.stderr}`).toBe(0);
    if (/^bin\/mailroom campaigns start /.test(command)) {
      // "Half a minute later": the campaign finished and every accepted message has its delivery report.
      await waitFor(async () => {
        const status = await shell("bin/mailroom campaigns status 1 --json", cwd, env);
        const numbers = JSON.parse(status.stdout) as { status: string; accepted: number; awaiting_report: number };
        return numbers.status === "finished" && numbers.accepted > 0 && numbers.awaiting_report === 0;
      }, 60_000, "campaign 1 finished with every delivery report in");
    }
  }
  const output = (prefix: string) => runs.find((r) => r.command.startsWith(prefix))!;

  // The import: ten people in, the malformed address reported by its line.
  expect(output("bin/mailroom subscribers import").stdout).toMatch(/added to the list\s+10/);
  expect(output("bin/mailroom subscribers import").stdout).toContain("line 12: email is not a valid address");
  // The test email was accepted; the preview files are there and personalised for Ada.
  expect(output("bin/mailroom campaigns test-send").stdout).toMatch(/accepted by ACS/);
  for (const file of ["headers.txt", "message.html", "message.txt", "message.eml"]) {
    expect(fs.existsSync(path.join(cwd, "preview", file)), file).toBe(true);
  }
  expect(fs.readFileSync(path.join(cwd, "preview", "message.html"), "utf8")).toContain("Hello Ada Lovelace,");
  expect(fs.readFileSync(path.join(cwd, "preview", "headers.txt"), "utf8")).toMatch(/^Subject: News for Ada Lovelace$/m);
  // The API key printed for the dashboard signs in there.
  const key = /\b(mrk_[A-Za-z0-9_-]+)/.exec(output("bin/mailroom api-keys create").stdout)?.[1];
  expect(key).toBeDefined();
  const url = /"url":"(http:\/\/[^"]+)"/.exec(server!.output())![1];
  const signIn = await fetch(`${url}/sign-in`, {
    method: "POST", redirect: "manual", body: new URLSearchParams({ apiKey: key! }),
    headers: { origin: url!, "content-type": "application/x-www-form-urlencoded" },
  });
  expect(signIn.headers.get("set-cookie")).toMatch(/^mailroom_session=/);
  const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
  const campaigns = await fetch(`${url}/campaigns`, { headers: { cookie } });
  expect(campaigns.status).toBe(200);
  expect(await campaigns.text()).toContain("December news");

  // The ledger, read directly.
  const credentials = JSON.parse(fs.readFileSync(path.join(env.MAILROOM_DATA_DIR!, "credentials.json"), "utf8")) as { owner: string };
  const client = new pg.Client({ connectionString: `postgres://mailroom:${encodeURIComponent(credentials.owner)}@127.0.0.1:${env.EMBEDDED_PG_PORT}/mailroom` });
  await client.connect();
  try {
    const { rows: messages } = await client.query<Record<string, string | number | boolean | null>>(
      `select m.id::text as message_id, m.subscriber_id::text, s.email, m.internet_message_id, m.delivery_status,
              m.opens_human, m.opens_machine, m.clicks_human, m.clicks_machine
       from app_public.messages as m join app_public.subscribers as s on s.id = m.subscriber_id
       where m.campaign_id = 1 order by m.id`,
    );
    const { rows: [rollup] } = await client.query<Record<string, string>>("select * from app_public.campaign_rollups where campaign_id = 1");
    expect(messages.length).toBe(10);
    expect(Number(rollup!.recipients)).toBe(10);

    // campaigns status printed the rollup's numbers.
    const status = output("bin/mailroom campaigns status").stdout;
    expect(status).toMatch(new RegExp(`accepted by ACS\\s+${rollup!.accepted}\\s`));
    expect(status).toMatch(new RegExp(`delivered\\s+${rollup!.delivered}\\s`));

    // messages.csv: one row per message, equal to the messages table; its columns add up to the rollup.
    const [header, ...records] = parseCsv(fs.readFileSync(path.join(cwd, "messages.csv"), "utf8"));
    const rows = records.map((r) => Object.fromEntries(header!.fields.map((name, i) => [name, r.fields[i]!])));
    expect(rows.length).toBe(messages.length);
    for (const [i, message] of messages.entries()) {
      const row = rows[i]!;
      expect(row.message_id).toBe(message.message_id);
      expect(row.email).toBe(message.email);
      expect(row.internet_message_id).toBe(message.internet_message_id);
      expect(row.delivery_status).toBe(message.delivery_status ?? "");
      expect(Number(row.opens_human)).toBe(Number(message.opens_human));
      expect(Number(row.opens_machine)).toBe(Number(message.opens_machine));
      expect(Number(row.clicks_human)).toBe(Number(message.clicks_human));
      expect(Number(row.clicks_machine)).toBe(Number(message.clicks_machine));
    }
    const sum = (column: string) => rows.reduce((total, row) => total + Number(row[column] || 0), 0);
    expect(sum("opens_human")).toBe(Number(rollup!.opens_human));
    expect(sum("opens_human") + sum("opens_machine")).toBe(Number(rollup!.opens));
    expect(sum("clicks_human") + sum("clicks_machine")).toBe(Number(rollup!.clicks));
    expect(rows.filter((r) => r.delivery_status === "Delivered").length).toBe(Number(rollup!.delivered));

    // Ada's timeline: her message, its delivery report and each of her message's events, once each, in time order.
    const timeline = parseCsv(output("bin/mailroom subscribers timeline").stdout);
    const [timelineHeader, ...entries] = timeline;
    const column = (name: string) => timelineHeader!.fields.indexOf(name);
    const ada = messages.find((m) => m.email === "ada@example.com")!;
    const { rows: adaEvents } = await client.query<{ kind: string; n: string }>(
      `select case when kind = 'engagement' then case engagement_type when 'view' then 'open' else 'click' end else kind end as kind,
              count(*)::text as n
       from app_public.message_events where message_id = $1 group by 1`,
      [ada.message_id],
    );
    const kinds = entries.map((e) => e.fields[column("kind")]);
    expect(kinds.filter((k) => k === "message").length).toBe(1);
    expect(entries.find((e) => e.fields[column("kind")] === "message")!.fields[column("message_id")]).toBe(ada.message_id);
    expect(adaEvents.length).toBeGreaterThan(0);
    for (const { kind, n } of adaEvents) {
      expect(kinds.filter((k) => k === kind).length, `${kind} events of Ada's message`).toBe(Number(n));
    }
    const times = entries.map((e) => Date.parse(e.fields[column("at")]!));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // newsletter.csv: the ten members, names with commas intact.
    const [listHeader, ...members] = parseCsv(fs.readFileSync(path.join(cwd, "newsletter.csv"), "utf8"));
    const email = listHeader!.fields.indexOf("email");
    const name = listHeader!.fields.indexOf("name");
    expect(members.map((m) => m.fields[email]).sort()).toEqual(messages.map((m) => m.email).sort());
    expect(members.find((m) => m.fields[email] === "ken@example.com")!.fields[name]).toBe("Thompson, Ken");
  } finally {
    await client.end();
  }
}, 240_000);
