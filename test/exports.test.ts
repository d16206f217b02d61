// mailroom lists export, campaigns export and subscribers timeline as a user runs them (child processes on a test
// database), the timeline through GraphQL, and the plan of the timeline's query on a subscriber with many messages.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { parseCsv } from "../src/commands/csv.ts";
import { streamExport } from "../src/commands/export-stream.ts";
import { listExportQuery } from "../src/commands/exports.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";
import { testClient } from "./helpers/pg.ts";
import { runMailroom } from "./helpers/process.ts";
import { waitFor } from "./helpers/wait.ts";

let db: TestDatabase;
let api: GraphqlServer;
let dir: string;
const ids = { readers: "", second: "", big: "", spring: "", summer: "", x: "", others: [] as string[] };

interface Message { id: string; subscriber_id: string; recipient: string; internet_message_id: string; operation_id: string }

/** A user's environment: the database, and its role names (a command migrates first, as every command does). */
function environment(): Record<string, string> {
  return { ...commandEnvironment(db), LOG_LEVEL: "warn" };
}

async function mailroom(...args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = runMailroom(args, environment());
  let stdout = "";
  let stderr = "";
  child.child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await child.exited;
  return { code, stdout, stderr };
}

// A month ago, to the second: before everything the set-up does now.
const T0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 30 * 86_400_000);
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const TOPIC = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/CommunicationServices/acs";
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0";
const IMAGE_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";

function deliveryReport(m: Message, status: string, when: Date, statusMessage = "") {
  return {
    id: crypto.randomUUID(), topic: TOPIC, subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailDeliveryReportReceived", eventTime: when.toISOString(), dataVersion: "1.0",
    data: {
      sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id, internetMessageId: m.internet_message_id,
      status, deliveryStatusDetails: { statusMessage }, deliveryAttemptTimeStamp: when.toISOString(),
    },
  };
}

function engagement(m: Message, type: "view" | "click", when: Date, userAgent = BROWSER, url = "https://example.com/offer?a=1,2") {
  return {
    id: crypto.randomUUID(), topic: TOPIC, subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", eventTime: when.toISOString(), dataVersion: "1.0",
    data: {
      sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id,
      engagementType: type, engagementContext: type === "click" ? url : "", userAgent, userActionTimeStamp: when.toISOString(),
    },
  };
}

async function ingest(events: unknown[]): Promise<void> {
  await db.pool.query("select * from app_private.ingest_events($1)", [
    JSON.stringify({ schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 1, subscriptionName: "test", events }),
  ]);
}

/** Names that CSV must carry intact: commas, quotes, line breaks, non-ASCII. */
const X_NAME = 'Zoë "Z" Doe, Jr.\r\nsecond line';
const OTHER_NAMES = ["Plain", "Doe, Jane", 'Say "hi"', "multi\nline", "日本語", ""];

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startGraphqlServer(db);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-exports-"));
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const sender = (await q("insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id")).rows[0].id;
  ids.readers = (await q(`insert into app_public.lists (name, opt_in) values ('Readers, "weekly"', 'single') returning id`)).rows[0].id;
  ids.second = (await q("insert into app_public.lists (name, opt_in) values ('Second', 'double') returning id")).rows[0].id;
  ids.x = (await q("insert into app_public.subscribers (email, name, attributes) values ('x@example.org', $1, $2) returning id",
    [X_NAME, { plan: "pro", seats: 3, note: "a,b\"c" }])).rows[0].id;
  for (let i = 0; i < 18; i++) {
    const name = OTHER_NAMES[i % OTHER_NAMES.length]!;
    ids.others.push((await q("insert into app_public.subscribers (email, name, attributes) values ($1, $2, $3) returning id",
      [`other${i}@example.org`, name, i % 2 ? { city: "Paris" } : {}])).rows[0].id);
  }
  // Readers: x confirmed; the others confirmed, unconfirmed and unsubscribed in turn. Second: x unconfirmed.
  await q("insert into app_public.list_memberships (list_id, subscriber_id, status) values ($1, $2, 'confirmed'), ($3, $2, 'unconfirmed')",
    [ids.readers, ids.x, ids.second]);
  for (const [i, id] of ids.others.entries()) {
    await q("insert into app_public.list_memberships (list_id, subscriber_id, status) values ($1, $2, $3)",
      [ids.readers, id, ["confirmed", "unconfirmed", "unsubscribed"][i % 3]]);
  }

  // Spring goes to Readers (x and the others), Summer to Second (x only): messages as start_campaign writes them.
  ids.spring = (await q(`insert into app_public.campaigns (name, sender_id) values ('Spring, "sale"', $1) returning id`, [sender])).rows[0].id;
  ids.summer = (await q("insert into app_public.campaigns (name, sender_id) values ('Summer', $1) returning id", [sender])).rows[0].id;
  await q("insert into app_public.campaign_lists (campaign_id, list_id) values ($1, $2), ($3, $4)", [ids.spring, ids.readers, ids.summer, ids.second]);
  const insert = async (campaign: string, subscribers: string[]) => (await q(
    `insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient)
     select $1, s.id, $2, s.email from app_public.subscribers as s where s.id = any($3::bigint[]) order by s.id
     returning id, subscriber_id, recipient, internet_message_id, operation_id`, [campaign, sender, subscribers])).rows as Message[];
  const spring = (await insert(ids.spring, [ids.x, ...ids.others])).sort((a, b) => Number(a.subscriber_id) - Number(b.subscriber_id));
  const summer = await insert(ids.summer, [ids.x]);
  await q("update app_public.messages set send_status = 'accepted', accepted_at = $1", [T0]);
  await q("update app_public.messages set send_status = 'failed', accepted_at = null, last_error = 'ACS said no, \"really\"' where id = $1", [spring.at(-1)!.id]);

  const [xSpring, ...others] = spring;
  const xSummer = summer[0]!;
  const events: unknown[] = [
    deliveryReport(xSpring!, "Delivered", at(1)), deliveryReport(xSummer, "Delivered", at(61)),
    engagement(xSpring!, "view", at(10)), engagement(xSpring!, "view", at(11), IMAGE_PROXY),
    engagement(xSpring!, "click", at(12)), engagement(xSummer, "click", at(70), BROWSER, "https://example.com/summer"),
  ];
  others.slice(0, -1).forEach((m, i) => {
    events.push(i === 3 ? deliveryReport(m, "Bounced", at(2), "550 5.1.1 mailbox unknown")
      : i === 4 ? deliveryReport(m, "Failed", at(2), "451 4.7.1 try later") : deliveryReport(m, "Delivered", at(2)));
    if (i % 2 === 0) events.push(engagement(m, "view", at(20 + i)));
    if (i % 4 === 0) events.push(engagement(m, "click", at(30 + i)), engagement(m, "view", at(31 + i), IMAGE_PROXY));
  });
  await ingest(events);
  // x unsubscribes through Spring's link, then complains about Summer; another recipient complains about Spring.
  await q("select app_private.unsubscribe($1, 'one_click')", [xSpring!.operation_id]);
  await q("select app_public.record_complaint($1, 'abuse report')", [xSummer.id]);
  await q("select app_public.record_complaint($1)", [others[0]!.id]);

  // A big list for early closing: 30,000 members, a few MB of CSV, far more than a pipe holds.
  ids.big = (await q("insert into app_public.lists (name, opt_in) values ('Big', 'single') returning id")).rows[0].id;
  await q(`with s as (insert into app_public.subscribers (email, name) select 'big' || g || '@example.org', 'Big person ' || g
             from generate_series(1, 30000) as g returning id)
           insert into app_public.list_memberships (list_id, subscriber_id, status) select $1, s.id, 'confirmed' from s`, [ids.big]);
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function records(csv: string): string[][] {
  const parsed = parseCsv(csv);
  expect(parsed.filter((r) => r.error)).toEqual([]);
  return parsed.map((r) => r.fields);
}

function jsonLines(text: string): Record<string, unknown>[] {
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1).split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("mailroom lists export", () => {
  it("writes every member as CSV that parses back, quotes, commas and line breaks intact", async () => {
    const { code, stdout, stderr } = await mailroom("lists", "export", 'Readers, "weekly"');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^id,email,name,attributes,subscriber_status,membership_status,joined_at,confirmed_at,unsubscribed_at,created_at\r\n/);
    const [header, ...rows] = records(stdout);
    expect(rows).toHaveLength(19);
    expect(stderr).toMatch(/^19 rows in \d+\.\d s\n$/);
    const byEmail = new Map(rows.map((r) => [r[1], Object.fromEntries(header!.map((h, i) => [h, r[i]]))]));
    const x = byEmail.get("x@example.org")!;
    expect(x).toMatchObject({ id: ids.x, name: X_NAME, subscriber_status: "blocklisted", membership_status: "unsubscribed", confirmed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*\+00:00$/) });
    expect(JSON.parse(x.attributes!)).toEqual({ plan: "pro", seats: 3, note: 'a,b"c' });
    expect(x.unsubscribed_at).not.toBe("");
    const expected = (await db.pool.query(`select s.id::text, s.email, s.name, lm.status from app_public.list_memberships as lm
      join app_public.subscribers as s on s.id = lm.subscriber_id where lm.list_id = $1 order by s.id`, [ids.readers])).rows;
    expect(rows.map((r) => [r[0], r[1], r[2], r[5]])).toEqual(expected.map((r) => [r.id, r.email, r.name, r.status]));
    for (const name of OTHER_NAMES) expect(rows.some((r) => r[2] === name)).toBe(true);
    // An empty name is "" and a NULL (never confirmed) an empty field, as COPY writes them.
    expect(stdout).toMatch(/\r\n\d+,other5@example\.org,"","\{""city"": ""Paris""\}",enabled,unsubscribed,[^,]+,,[^,]+,[^,]+\r\n/);
  });

  it("--status keeps the members with that status; --json writes one object per line", async () => {
    const counts = (await db.pool.query("select status, count(*)::int as n from app_public.list_memberships where list_id = $1 group by status", [ids.readers])).rows;
    for (const { status, n } of counts) {
      const csv = await mailroom("lists", "export", ids.readers, "--status", status);
      expect(records(csv.stdout)).toHaveLength(n + 1);
      const json = await mailroom("lists", "export", ids.readers, "--status", status, "--json");
      const lines = jsonLines(json.stdout);
      expect(lines).toHaveLength(n);
      expect(lines.every((l) => l.membership_status === status)).toBe(true);
    }
    const all = jsonLines((await mailroom("lists", "export", ids.readers, "--json")).stdout);
    expect(all.find((l) => l.email === "x@example.org")).toMatchObject({ id: Number(ids.x), name: X_NAME, attributes: { plan: "pro", seats: 3, note: 'a,b"c' } });
    expect((await mailroom("lists", "export", ids.readers, "--status", "gone")).code).toBe(2);
  });

  it("--output writes the file whole (no .partial left) and the summary on stderr", async () => {
    const file = path.join(dir, "readers.csv");
    const { code, stdout, stderr } = await mailroom("lists", "export", ids.readers, "--output", file);
    expect(code).toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toMatch(new RegExp(`^19 rows to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} in \\d+\\.\\d s\\n$`));
    expect(records(fs.readFileSync(file, "utf8"))).toHaveLength(20);
    expect(fs.readdirSync(dir)).toEqual(["readers.csv"]);
  });

  it("stopped by Ctrl-C while writing --output, leaves neither the file nor its .partial", async () => {
    // A list big enough that the export is still writing when the signal comes.
    const { rows: [big] } = await db.pool.query("insert into app_public.lists (name, opt_in) values ('Everyone', 'single') returning id");
    await db.pool.query(
      `with s as (insert into app_public.subscribers (email) select format('everyone%s@example.org', i) from generate_series(1, 100000) as i returning id)
       insert into app_public.list_memberships (list_id, subscriber_id, status) select $1, id, 'confirmed' from s`,
      [big.id],
    );
    const out = fs.mkdtempSync(path.join(dir, "stopped-"));
    const file = path.join(out, "everyone.csv");
    const child = runMailroom(["lists", "export", String(big.id), "--output", file], environment());
    await waitFor(() => fs.existsSync(`${file}.partial`) && fs.statSync(`${file}.partial`).size > 0, 60_000, "the export writing its .partial file");
    child.child.kill("SIGINT");
    expect(await child.exited).toBe(130);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it("ends quietly with exit 0 when its reader closes stdout (| head -1)", async () => {
    const child = spawn("bash", ["-c", `"$0" src/cli.ts lists export Big | head -1; echo "exit \${PIPESTATUS[0]}" >&2`, process.execPath], {
      cwd: projectRoot, env: { ...process.env, ...environment(), LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    await new Promise((resolve) => child.on("close", resolve));
    expect(stdout).toBe("id,email,name,attributes,subscriber_status,membership_status,joined_at,confirmed_at,unsubscribed_at,created_at\r\n");
    expect(stderr).toBe("exit 0\n");
  });

  it("stopped by a closed output, rolls its transaction back and closes its cursor", async () => {
    const client = testClient({ connectionString: db.ownerUrl });
    await client.connect();
    try {
      let writes = 0;
      const closing = new Writable({
        highWaterMark: 1024,
        write(_chunk, _encoding, callback) {
          writes += 1;
          callback(writes === 1 ? undefined : Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
        },
      });
      const summary: string[] = [];
      const result = await streamExport(client, listExportQuery(ids.big, undefined), { json: false, stdout: closing, summary: { write: (t: string) => summary.push(t) } });
      expect(result.closed).toBe(true);
      expect(result.rows).toBeLessThan(30000);
      expect(summary).toEqual([]);
      expect((await client.query("select count(*)::int as n from pg_cursors")).rows[0].n).toBe(0);
      await expect(client.query("savepoint outside")).rejects.toThrow(/can only be used in transaction blocks/);
    } finally {
      await client.end();
    }
  });

  it("exits 3 for a list that does not exist", async () => {
    const byName = await mailroom("lists", "export", "No such list");
    expect(byName).toMatchObject({ code: 3, stdout: "", stderr: 'no list named "No such list" (see mailroom lists list)\n' });
    expect((await mailroom("lists", "export", "999999")).code).toBe(3);
  });
});

describe("mailroom campaigns export", () => {
  const numeric = ["opens_human", "opens_machine", "opens_human_azure", "opens_human_mailroom", "clicks_human", "clicks_machine",
    "clicks_human_azure", "clicks_human_mailroom"];

  it("has a row per message whose numbers add up to the campaign's rollup", async () => {
    const { code, stdout, stderr } = await mailroom("campaigns", "export", ids.spring);
    expect(code).toBe(0);
    const [header, ...rows] = records(stdout);
    expect(stderr).toMatch(/^19 rows in /);
    const objects = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
    const sum = (column: string) => objects.reduce((n, o) => n + Number(o[column]), 0);
    const where = (test: (o: Record<string, string>) => boolean) => objects.filter(test).length;
    const rollup = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [ids.spring])).rows[0];
    const fromExport = {
      recipients: objects.length,
      queued: where((o) => o.send_status === "queued"), sending: where((o) => o.send_status === "sending"),
      accepted: where((o) => o.send_status === "accepted"), send_failed: where((o) => o.send_status === "failed"),
      cancelled: where((o) => o.send_status === "cancelled"), skipped: where((o) => o.send_status === "skipped"),
      delivered: where((o) => o.delivery_status === "Delivered"), expanded: where((o) => o.delivery_status === "Expanded"),
      bounced_hard: where((o) => o.bounce_type === "hard"), bounced_soft: where((o) => o.bounce_type === "soft"),
      suppressed: where((o) => o.delivery_status === "Suppressed"), filtered_spam: where((o) => o.delivery_status === "FilteredSpam"),
      quarantined: where((o) => o.delivery_status === "Quarantined"), delivery_failed: where((o) => o.delivery_status === "Failed"),
      unknown_status: where((o) => o.delivery_status !== "" && !["Delivered", "Expanded", "Bounced", "Suppressed", "FilteredSpam", "Quarantined", "Failed"].includes(o.delivery_status!)),
      unique_opens_human: where((o) => o.opened_human === "true"), unique_opens: where((o) => o.opened === "true"),
      opens_human: sum("opens_human"), opens: sum("opens_human") + sum("opens_machine"),
      unique_clicks_human: where((o) => o.clicked_human === "true"), unique_clicks: where((o) => o.clicked === "true"),
      clicks_human: sum("clicks_human"), clicks: sum("clicks_human") + sum("clicks_machine"),
      unsubscribes: where((o) => o.unsubscribed === "true"), complaints: where((o) => o.complained === "true"),
      opens_human_azure: sum("opens_human_azure"), opens_human_mailroom: sum("opens_human_mailroom"),
      clicks_human_azure: sum("clicks_human_azure"), clicks_human_mailroom: sum("clicks_human_mailroom"),
    };
    const { campaign_id: _, ...numbers } = rollup;
    expect(fromExport).toEqual(Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, Number(v)])));
    // Something to add up: each kind of number is there.
    expect(fromExport).toMatchObject({ recipients: 19, accepted: 18, send_failed: 1, bounced_hard: 1, bounced_soft: 1, unsubscribes: 1, complaints: 1 });
    expect(fromExport.opens_human).toBeGreaterThan(5);
    expect(sum("opens_machine")).toBeGreaterThan(2);
    expect(fromExport.clicks_human).toBeGreaterThan(2);

    const x = objects.find((o) => o.subscriber_id === ids.x)!;
    expect(x).toMatchObject({ email: "x@example.org", send_status: "accepted", delivery_status: "Delivered", opens_human: "1",
      opens_machine: "1", clicks_human: "1", opened_human: "true", unsubscribed: "true", complained: "false",
      first_opened_at: at(10).toISOString().replace(".000Z", "+00:00") });
    expect(objects.find((o) => o.send_status === "failed")!.send_status_reason).toBe('ACS said no, "really"');
    expect(objects.find((o) => o.bounce_type === "hard")!.delivery_status_message).toBe("550 5.1.1 mailbox unknown");
  });

  it("--json lines carry the same rows, with numbers and booleans typed", async () => {
    const csv = records((await mailroom("campaigns", "export", ids.spring)).stdout);
    const lines = jsonLines((await mailroom("campaigns", "export", ids.spring, "--json")).stdout);
    expect(lines).toHaveLength(csv.length - 1);
    expect(lines.map((l) => String(l.message_id))).toEqual(csv.slice(1).map((r) => r[0]));
    expect(lines.reduce((n, l) => n + (l.opens_human as number), 0)).toBe(
      Number((await db.pool.query("select opens_human from app_public.campaign_rollups where campaign_id = $1", [ids.spring])).rows[0].opens_human));
    expect(typeof lines[0]!.opened).toBe("boolean");
    for (const column of numeric) expect(typeof lines[0]![column]).toBe("number");
  });

  it("exits 3 for a campaign that does not exist, 2 for a bad id", async () => {
    expect(await mailroom("campaigns", "export", "999999")).toMatchObject({ code: 3, stdout: "", stderr: "campaign 999999 does not exist\n" });
    expect((await mailroom("campaigns", "export", "abc")).code).toBe(2);
  });
});

describe("mailroom subscribers timeline", () => {
  it("lists each event once, in time order, with its campaign", async () => {
    const { code, stdout } = await mailroom("subscribers", "timeline", "X@example.org", "--json");
    expect(code).toBe(0);
    const rows = jsonLines(stdout);
    const kinds = rows.map((r) => r.kind);
    const tally = Object.fromEntries([...new Set(kinds)].map((k) => [k, kinds.filter((x) => x === k).length]));
    expect(tally).toEqual({ message: 2, delivery_report: 2, open: 2, click: 2, unsubscribe: 1, complaint: 1,
      list_joined: 2, list_confirmed: 1, list_unsubscribed: 1 });
    // Each attributed event of x's messages exactly once.
    const events = (await db.pool.query(`select me.raw_event_id::int from app_public.message_events as me
      join app_public.messages as m on m.id = me.message_id where m.subscriber_id = $1 order by 1`, [ids.x])).rows.map((r) => r.raw_event_id);
    expect(rows.filter((r) => r.raw_event_id !== null).map((r) => r.raw_event_id).sort((a, b) => Number(a) - Number(b))).toEqual(events);
    const times = rows.map((r) => Date.parse(r.at as string));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The right campaign for every message, event, unsubscribe and complaint.
    const campaigns = new Map((await db.pool.query("select id::int, campaign_id::int from app_public.messages where subscriber_id = $1", [ids.x]))
      .rows.map((r) => [r.id, r.campaign_id]));
    for (const row of rows.filter((r) => r.message_id !== null)) expect(row.campaign_id).toBe(campaigns.get(row.message_id as number));
    const names = { [Number(ids.spring)]: 'Spring, "sale"', [Number(ids.summer)]: "Summer" };
    for (const row of rows.filter((r) => r.campaign_id !== null)) expect(row.campaign_name).toBe(names[row.campaign_id as number]);
    expect(rows.find((r) => r.kind === "unsubscribe")).toMatchObject({ campaign_id: Number(ids.spring), source: "one_click" });
    expect(rows.find((r) => r.kind === "complaint")).toMatchObject({ campaign_id: Number(ids.summer), detail: "abuse report" });
    expect(rows.filter((r) => r.kind === "open").map((r) => [r.machine, r.machine_reason !== null, r.source])).toEqual([[false, false, "azure"], [true, true, "azure"]]);
    expect(rows.filter((r) => r.kind === "click").map((r) => [r.campaign_id, r.url])).toEqual([
      [Number(ids.spring), "https://example.com/offer?a=1,2"], [Number(ids.summer), "https://example.com/summer"]]);
    expect(rows.filter((r) => String(r.kind).startsWith("list_")).map((r) => [r.kind, r.list_name])).toEqual(expect.arrayContaining([
      ["list_joined", 'Readers, "weekly"'], ["list_joined", "Second"], ["list_confirmed", 'Readers, "weekly"'], ["list_unsubscribed", 'Readers, "weekly"']]));
    // The events of a month ago come first, in the order they happened.
    expect(rows.slice(0, 8).map((r) => r.kind)).toEqual(["message", "message", "delivery_report", "open", "open", "click", "delivery_report", "click"]);

    // The same by id and as CSV.
    const csv = records((await mailroom("subscribers", "timeline", ids.x)).stdout);
    expect(csv[0]).toEqual(["at", "kind", "campaign_id", "campaign_name", "message_id", "list_id", "list_name", "status", "detail",
      "bounce_type", "url", "machine", "machine_reason", "source", "ignored_reason", "raw_event_id"]);
    expect(csv.slice(1).map((r) => [r[1], r[3]])).toEqual(rows.map((r) => [r.kind, r.campaign_name ?? ""]));
  });

  it("is the same rows through GraphQL's subscriberTimeline, for an analyst", async () => {
    const analyst = await apiKey(db, "analyst");
    const response = await api.query(analyst, `query($id: BigInt!) { subscriberTimeline(subscriberId: $id) { totalCount nodes {
      at kind campaignId campaignName messageId listId listName status detail bounceType url machine machineReason source ignoredReason rawEventId } } }`,
    { id: ids.x });
    expect(response.errors).toBeUndefined();
    const nodes = response.data!.subscriberTimeline.nodes as Record<string, unknown>[];
    expect(response.data!.subscriberTimeline.totalCount).toBe(14);
    const cli = jsonLines((await mailroom("subscribers", "timeline", ids.x, "--json")).stdout);
    const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const normal = (row: Record<string, unknown>, key: (k: string) => string) => Object.fromEntries(Object.keys(cli[0]!).map((k) => {
      const value = row[key(k)];
      return [k, k === "at" ? Date.parse(value as string) : value === null || typeof value === "boolean" ? value : String(value)];
    }));
    expect(nodes.map((n) => normal(n, camel))).toEqual(cli.map((r) => normal(r, (k) => k)));
  });

  it("exits 3 for a subscriber that does not exist", async () => {
    expect(await mailroom("subscribers", "timeline", "nobody@example.org")).toMatchObject({ code: 3, stdout: "", stderr: 'no subscriber with email "nobody@example.org"\n' });
    expect((await mailroom("subscribers", "timeline", "999999")).code).toBe(3);
  });

  it("reads a subscriber with many messages through the indexes by subscriber and by message", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      // 200 campaigns to one subscriber, 60,000 messages of others, 4 events for every message.
      const sender = (await client.query("select id from app_public.senders limit 1")).rows[0].id;
      const many = (await client.query("insert into app_public.subscribers (email) values ('many@example.org') returning id")).rows[0].id;
      await client.query(`with c as (insert into app_public.campaigns (name, sender_id) select 'c' || g, $1 from generate_series(1, 200) as g returning id)
        insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient) select c.id, $2, $1, 'many@example.org' from c`, [sender, many]);
      await client.query(`insert into app_public.subscribers (email) select 'bulk' || g || '@example.org' from generate_series(1, 60000) as g`);
      await client.query(`insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient)
        select $1, s.id, $2, s.email from app_public.subscribers as s where s.email like 'bulk%'`, [ids.summer, sender]);
      await client.query(`insert into app_public.message_events (raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status)
        select -(m.id * 4 + k), m.id, m.campaign_id, 'internet_message_id', 'delivery_report', now(), 'Delivered'
        from app_public.messages as m, generate_series(0, 3) as k`);
      await client.query("analyze app_public.messages, app_public.message_events, app_public.subscribers, app_public.list_memberships, app_public.unsubscribes, app_public.bounces");
      const body = (await client.query("select prosrc from pg_proc where proname = 'subscriber_timeline'")).rows[0].prosrc as string;
      const plan = (await client.query(`explain (costs off) ${body.replaceAll("subscriber_timeline.subscriber_id", String(many))}`)).rows
        .map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(/Index (Only )?Scan using messages_subscriber_id_idx on messages/);
      expect(plan).toContain("message_events_message_id_idx");
      expect(plan).not.toMatch(/Seq Scan on (messages|message_events)\b/);
      const { rows } = await client.query("select kind, count(*)::int as n from app_public.subscriber_timeline($1) group by kind order by kind", [many]);
      expect(rows).toEqual([{ kind: "delivery_report", n: 800 }, { kind: "message", n: 200 }]);
      await client.query("rollback");
    } finally {
      client.release();
    }
  });
});
