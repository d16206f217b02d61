// mailroom lists, senders and templates as a user runs them: each command's text and JSON, what it wrote in the
// database, and its exit codes (2 usage, 3 not found, 4 refused). The connection string of a sender comes from
// the environment or stdin and is never printed.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-cli-test-"));
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `mailroom ARGS` as a child process with stdout and stderr apart, and stdin given (or empty). */
function mailroom(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const child = spawn(process.execPath, [path.join(projectRoot, "src/cli.ts"), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...commandEnvironment(db), LOG_LEVEL: "warn", LOG_FORMAT: "json", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

async function json(args: string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<any> {
  const run = await mailroom([...args, "--json"], options);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const SECRET = "endpoint=https://mailroom-test.communication.azure.com/;accesskey=c2VjcmV0LWtleS1uZXZlci1wcmludGVk";

describe("mailroom lists", () => {
  it("create requires --opt-in and explains both choices; nothing is created without it", async () => {
    const missing = await mailroom(["lists", "create", "--name", "Newsletter"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--opt-in is required");
    expect(missing.stderr).toMatch(/single\s+members receive campaigns at once/);
    expect(missing.stderr).toMatch(/double\s+members receive campaigns only once they confirm by email/);
    const wrong = await mailroom(["lists", "create", "--name", "Newsletter", "--opt-in", "triple"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--opt-in "triple": expected single or double');
    expect((await mailroom(["lists", "create", "--opt-in", "single"])).code).toBe(2);
    expect(Number((await db.pool.query("select count(*) from app_public.lists")).rows[0].count)).toBe(0);
  });

  it("create, list and show, in text and JSON", async () => {
    const created = await mailroom(["lists", "create", "--name", "Newsletter", "--opt-in", "double", "--description", "Monthly news"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^List 1 "Newsletter" created \(double opt-in: members receive campaigns only once they confirm by email\)\./);
    expect(created.stdout).toContain("mailroom subscribers import --list Newsletter FILE.csv");
    const single = await json(["lists", "create", "--name", "Customers", "--opt-in", "single"]);
    expect(single).toMatchObject({ id: 2, name: "Customers", optIn: "single", description: "", members: { confirmed: 0, unconfirmed: 0, unsubscribed: 0, receiving: 0 } });
    expect((await db.pool.query("select id, name, opt_in, description from app_public.lists order by id")).rows).toEqual([
      { id: "1", name: "Newsletter", opt_in: "double", description: "Monthly news" },
      { id: "2", name: "Customers", opt_in: "single", description: "" },
    ]);

    // Members by status: 2 confirmed, 1 unconfirmed, 1 unsubscribed on the double list; 3 on the single one.
    await db.pool.query(`insert into app_public.subscribers (email) select 'm' || g || '@example.org' from generate_series(1, 4) as g`);
    await db.pool.query(`insert into app_public.list_memberships (list_id, subscriber_id, status)
      select 1, id, (array['confirmed', 'confirmed', 'unconfirmed', 'unsubscribed'])[id] from app_public.subscribers
      union all select 2, id, (array['confirmed', 'unconfirmed', 'unsubscribed', 'confirmed'])[id] from app_public.subscribers`);
    await db.pool.query(`with s as (insert into app_public.senders (name, from_address) values ('Plain', 'plain@example.com') returning id)
      insert into app_public.campaigns (name, sender_id) select 'Spring', id from s`);
    await db.pool.query("insert into app_public.campaign_lists (campaign_id, list_id) values (1, 1)");

    const listed = await mailroom(["lists", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^id\s+name\s+opt-in\s+receiving\s+confirmed\s+unconfirmed\s+unsubscribed$/);
    expect(listed.stdout).toMatch(/\n1\s+Newsletter\s+double\s+2\s+2\s+1\s+1\n/);
    expect(listed.stdout).toMatch(/\n2\s+Customers\s+single\s+3\s+2\s+1\s+1\n/);
    const listedJson = await json(["lists", "list"]);
    expect(listedJson.map((l: any) => [l.id, l.members])).toEqual([
      [1, { confirmed: 2, unconfirmed: 1, unsubscribed: 1, receiving: 2 }],
      [2, { confirmed: 2, unconfirmed: 1, unsubscribed: 1, receiving: 3 }],
    ]);

    const shown = await mailroom(["lists", "show", "newsletter"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/description:\s+Monthly news/);
    expect(shown.stdout).toMatch(/opt-in:\s+double \(only confirmed members receive campaigns\)/);
    expect(shown.stdout).toContain("1 unconfirmed member does not receive campaigns until confirmed");
    expect(shown.stdout).toMatch(/campaigns:\n\s+id\s+name\s+status\n\s+1\s+Spring\s+draft/);
    const shownJson = await json(["lists", "show", "1"]);
    expect(shownJson).toMatchObject({ id: 1, name: "Newsletter", description: "Monthly news", campaigns: [{ id: 1, name: "Spring", status: "draft" }] });
    expect(typeof shownJson.createdAt).toBe("string");
  });

  it("a list is named by id or name: unknown is exit 3, a name two lists share is exit 2", async () => {
    const unknown = await mailroom(["lists", "show", "Nope"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no list named "Nope"');
    expect((await mailroom(["lists", "show", "999"])).code).toBe(3);
    const twin = await mailroom(["lists", "create", "--name", "customers", "--opt-in", "double"]);
    expect(twin.code).toBe(0);
    expect(twin.stdout).toContain("list 2 has the same name: name this one by its id");
    const ambiguous = await mailroom(["lists", "show", "Customers"]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('2 lists are named "Customers" (ids 2, 3): give the id');
    expect((await mailroom(["lists", "show"])).code).toBe(2);
    expect((await mailroom(["lists", "show", "1", "--bogus"])).code).toBe(2);
  });

  it("--help prints the usage and exits 0", async () => {
    const help = await mailroom(["lists", "create", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: mailroom lists create --name NAME --opt-in single|double [--description TEXT]");
  });
});

describe("mailroom senders", () => {
  it("create reads the connection string from the environment, stores it, and never prints it", async () => {
    const run = await mailroom(["senders", "create", "--name", "News", "--from", "news@news.example.com", "--display-name", "The News",
      "--per-minute", "60", "--per-hour", "none", "--per-day", "5000", "--window", "08:00-18:00", "--time-zone", "Europe/Paris",
      "--connection-string-env", "NEWS_ACS"], { env: { NEWS_ACS: SECRET } });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Sender 2 "News" created\./);
    expect(run.stdout).toMatch(/quotas:\s+60 per minute, none per hour, 5000 per day/);
    expect(run.stdout).toMatch(/send window:\s+08:00-18:00 Europe\/Paris/);
    expect(run.stdout).toMatch(/connection string:\s+its own \(https:\/\/mailroom-test\.communication\.azure\.com\/\)/);
    expect(run.stdout).not.toContain("accesskey");
    const { rows } = await db.pool.query(
      `select s.name, s.from_address, s.display_name, s.sending_domain, s.per_minute_limit, s.per_hour_limit, s.per_day_limit,
         s.send_window_start::text, s.send_window_end::text, s.send_window_time_zone, ss.connection_string
       from app_public.senders as s join app_private.sender_secrets as ss on ss.sender_id = s.id`);
    expect(rows).toEqual([{
      name: "News", from_address: "news@news.example.com", display_name: "The News", sending_domain: "news.example.com",
      per_minute_limit: 60, per_hour_limit: null, per_day_limit: 5000, send_window_start: "08:00:00", send_window_end: "18:00:00",
      send_window_time_zone: "Europe/Paris", connection_string: SECRET,
    }]);
  });

  it("create reads the connection string from stdin; show and --json never print it", async () => {
    const run = await mailroom(["senders", "create", "--name", "Alerts", "--from", "alerts@example.net", "--connection-string-stdin"], { stdin: `${SECRET}\nignored\n` });
    expect(run.code).toBe(0);
    expect((await db.pool.query("select connection_string from app_private.sender_secrets where sender_id = 3")).rows).toEqual([{ connection_string: SECRET }]);
    for (const args of [["senders", "show", "3"], ["senders", "show", "Alerts", "--json"], ["senders", "list"], ["senders", "list", "--json"]]) {
      const shown = await mailroom(args);
      expect(shown.code).toBe(0);
      expect(shown.stdout + shown.stderr).not.toContain("accesskey");
      expect(shown.stdout + shown.stderr).not.toContain("c2VjcmV0");
    }
    const shown = await json(["senders", "show", "alerts@EXAMPLE.net"]);
    expect(shown).toMatchObject({
      id: 3, name: "Alerts", fromAddress: "alerts@example.net", sendingDomain: "example.net", connection: "own", ownConnectionString: true,
      acsEndpoint: "https://mailroom-test.communication.azure.com/", quotas: { perMinute: 30, perHour: 100, perDay: null }, sendWindow: null,
      quotaUse: { sentLastMinute: 0, sentLastHour: 0, sentLastDay: 0, remainingLastMinute: 30, remainingLastHour: 100, remainingLastDay: null, capacityNow: 30 },
    });
  });

  it("show says a sender without a connection string uses ACS_CONNECTION_STRING or the sandbox, with its quota use", async () => {
    // Sender 1 (Plain) has none; 7 messages handed to ACS in the last minute.
    await db.pool.query("insert into app_private.sender_sends (sender_id, ends_at, sends, settled) values (1, now(), 7, true)");
    const shown = await mailroom(["senders", "show", "1"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/connection string:\s+none of its own: sends through ACS_CONNECTION_STRING, or the built-in sandbox when that is unset/);
    expect(shown.stdout).toMatch(/sent last minute:\s+7 \(23 left\)/);
    expect(shown.stdout).toMatch(/sent last day:\s+7 \(no quota\)/);
    expect(shown.stdout).toMatch(/capacity now:\s+23/);
    expect(shown.stdout).toMatch(/campaigns:\s+1 draft/);
    const shownJson = await json(["senders", "show", "Plain"]);
    expect(shownJson).toMatchObject({ connection: "default", ownConnectionString: false, acsEndpoint: null, quotaUse: { sentLastMinute: 7, capacityNow: 23 }, campaigns: { draft: 1 } });
  });

  it("update changes only the options given; none clears a quota or the window; --no-connection-string removes it", async () => {
    const before = (await db.pool.query("select * from app_public.senders where id = 2")).rows[0];
    const updated = await json(["senders", "update", "News", "--per-minute", "none", "--window", "22:00-06:00"]);
    expect(updated).toMatchObject({ quotas: { perMinute: null, perHour: null, perDay: 5000 }, sendWindow: { start: "22:00", end: "06:00", timeZone: "Europe/Paris" } });
    const after = (await db.pool.query("select * from app_public.senders where id = 2")).rows[0];
    expect({ ...after, per_minute_limit: before.per_minute_limit, send_window_start: before.send_window_start, send_window_end: before.send_window_end, updated_at: before.updated_at })
      .toEqual(before);
    const cleared = await json(["senders", "update", "2", "--window", "none", "--per-day", "none", "--no-connection-string"]);
    expect(cleared).toMatchObject({ quotas: { perMinute: null, perHour: null, perDay: null }, sendWindow: null, connection: "default" });
    expect((await db.pool.query("select count(*)::int as n from app_private.sender_secrets where sender_id = 2")).rows[0].n).toBe(0);
    const again = await mailroom(["senders", "update", "2", "--connection-string-env", "NEWS_ACS"], { env: { NEWS_ACS: SECRET } });
    expect(again.code).toBe(0);
    expect((await db.pool.query("select connection_string from app_private.sender_secrets where sender_id = 2")).rows).toEqual([{ connection_string: SECRET }]);
  });

  it("exit codes: 2 for usage (a missing or malformed option, an unset variable, a bad connection string), 3 not found, 4 refused", async () => {
    const count = async () => (await db.pool.query("select count(*)::int as n from app_public.senders")).rows[0].n;
    const before = await count();
    const usage = [
      ["senders", "create", "--from", "x@example.com"],
      ["senders", "create", "--name", "X"],
      ["senders", "create", "--name", "X", "--from", "x@example.com", "--per-minute", "0"],
      ["senders", "create", "--name", "X", "--from", "x@example.com", "--window", "8-18", "--time-zone", "UTC"],
      ["senders", "create", "--name", "X", "--from", "x@example.com", "--window", "08:00-18:00"],
      ["senders", "create", "--name", "X", "--from", "x@example.com", "--connection-string-env", "UNSET_MAILROOM_VARIABLE"],
      ["senders", "create", "--name", "X", "--from", "x@example.com", "--connection-string", "endpoint=x"],
      ["senders", "update", "2"],
    ];
    for (const args of usage) {
      const run = await mailroom(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
    const bad = await mailroom(["senders", "create", "--name", "X", "--from", "x@example.com", "--connection-string-stdin"], { stdin: "endpoint=nope;accesskey=TOPSECRET\n" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("the connection string from stdin is not of the form endpoint=https://NAME.communication.azure.com/;accesskey=KEY");
    expect(bad.stderr).not.toContain("TOPSECRET");

    expect((await mailroom(["senders", "show", "Nobody"])).code).toBe(3);
    expect((await mailroom(["senders", "update", "42", "--per-day", "1"])).code).toBe(3);

    const address = await mailroom(["senders", "create", "--name", "X", "--from", "not an address"]);
    expect(address.code).toBe(4);
    expect(address.stderr).toContain('--from "not an address" is not an email address');
    const twice = await mailroom(["senders", "create", "--name", "X", "--from", "NEWS@news.example.com"]);
    expect(twice.code).toBe(4);
    expect(twice.stderr).toContain("exists already");
    const zone = await mailroom(["senders", "create", "--name", "X", "--from", "x@example.com", "--window", "08:00-18:00", "--time-zone", "Mars/Olympus"]);
    expect(zone.code).toBe(4);
    expect(zone.stderr).toContain('unknown time zone "Mars/Olympus"');
    expect(await count()).toBe(before);
  });
});

describe("mailroom templates", () => {
  const html = "<p>Hello {{ subscriber.name }},</p>\n<p>News of {{ list.name }}.</p>\n<a href=\"{{{ unsubscribe_url }}}\">Unsubscribe</a>\n";

  it("create from files, list, show (and --html, --text print the part as stored)", async () => {
    const created = await mailroom(["templates", "create", "--name", "Monthly", "--subject-file", file("subject.txt", "News for {{ subscriber.name }}\n"),
      "--html", file("monthly.html", html), "--text", file("monthly.txt", "Hello {{ subscriber.name }}\n")]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Template 1 "Monthly" created\./);
    expect((await db.pool.query("select name, subject, html_body, text_body from app_public.templates")).rows).toEqual([
      { name: "Monthly", subject: "News for {{ subscriber.name }}", html_body: html, text_body: "Hello {{ subscriber.name }}\n" },
    ]);
    const bare = await json(["templates", "create", "--name", "Bare", "--subject", "Hi", "--html", file("bare.html", "<p>Hi</p>")]);
    expect(bare).toMatchObject({ id: 2, name: "Bare", subject: "Hi", html: "<p>Hi</p>", text: "" });

    const listed = await mailroom(["templates", "list"]);
    expect(listed.stdout).toMatch(/\n1\s+Monthly\s+News for \{\{ subscriber\.name \}\}\s+0\s/);
    expect((await json(["templates", "list"])).map((t: any) => t.name)).toEqual(["Monthly", "Bare"]);
    const shown = await mailroom(["templates", "show", "monthly"]);
    expect(shown.stdout).toMatch(/HTML:\s+3 lines, \d+ bytes/);
    expect(shown.stdout).toMatch(/text:\s+1 lines/);
    expect((await mailroom(["templates", "show", "2"])).stdout).toMatch(/text:\s+none \(derived from the HTML when sending\)/);
    expect((await mailroom(["templates", "show", "Monthly", "--html"])).stdout).toBe(html);
    expect((await mailroom(["templates", "show", "Monthly", "--text"])).stdout).toBe("Hello {{ subscriber.name }}\n");
    expect(await json(["templates", "show", "1"])).toMatchObject({ id: 1, html, campaigns: [] });
  });

  it("update changes only the parts given", async () => {
    const updated = await json(["templates", "update", "Monthly", "--subject", "Your {{ list.name }} news", "--no-text"]);
    expect(updated).toMatchObject({ subject: "Your {{ list.name }} news", html, text: "" });
    expect((await mailroom(["templates", "update", "1", "--name", "Monthly news"])).code).toBe(0);
    expect((await db.pool.query("select name, subject, html_body, text_body from app_public.templates where id = 1")).rows[0])
      .toEqual({ name: "Monthly news", subject: "Your {{ list.name }} news", html_body: html, text_body: "" });
  });

  it("a template error is refused (exit 4) with the database's message, and nothing is written", async () => {
    const before = (await db.pool.query("select * from app_public.templates order by id")).rows;
    const bad = await mailroom(["templates", "update", "1", "--html", file("bad.html", "<p>Hello {{ subscriber.nmae }}</p>")]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("HTML part");
    expect(bad.stderr).toContain('unknown field "subscriber.nmae"');
    const braces = await mailroom(["templates", "create", "--name", "Broken", "--subject", "Hi {{ subscriber.name", "--html", file("ok.html", "<p>ok</p>")]);
    expect(braces.code).toBe(4);
    expect(braces.stderr).toContain("subject");
    expect((await db.pool.query("select * from app_public.templates order by id")).rows).toEqual(before);
  });

  it("exit codes: 2 usage (a missing option or file), 3 not found", async () => {
    for (const args of [
      ["templates", "create", "--name", "X", "--html", file("x.html", "<p>x</p>")],
      ["templates", "create", "--name", "X", "--subject", "x"],
      ["templates", "create", "--name", "X", "--subject", "x", "--html", path.join(dir, "missing.html")],
      ["templates", "create", "--name", "X", "--subject", "x", "--subject-file", file("s.txt", "x"), "--html", file("x.html", "x")],
      ["templates", "update", "1"],
      ["templates", "show", "1", "--html", "--text"],
    ]) {
      const run = await mailroom(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
    expect((await mailroom(["templates", "show", "Nope"])).code).toBe(3);
    expect((await mailroom(["templates", "update", "99", "--subject", "x"])).code).toBe(3);
  });
});
