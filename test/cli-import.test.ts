// mailroom subscribers import (and its old name import-subscribers), run as a user runs it: bad rows reported with
// their lines and reasons and the rest imported, the database's email rule, idempotence, membership status,
// unsubscribed members left alone, and a summary that says what the memberships mean for sending.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runMailroom } from "./helpers/process.ts";

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-import-test-"));
  await db.pool.query("insert into app_public.lists (name, opt_in) values ('Double', 'double'), ('Single', 'single')");
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function mailroom(...args: string[]): Promise<{ code: number | string; output: string }> {
  const child = runMailroom(args, { ...commandEnvironment(db), LOG_LEVEL: "warn" });
  const code = await child.exited;
  return { code, output: child.output() };
}

function csv(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const FILE = [
  "\uFEFFEmail,Name,city,attributes",
  'ann@example.org,Ann,Paris,"{""vip"": true}"',
  "not-an-address,Bob,,",
  '"carl@example.org","Carl, Jr.",Rome,',
  "ANN@example.org,Ann again,,",
  'dan@example.org,"Dan',
  'on two lines",,[1]',
  "eve@example.org,Eve",
  "",
  `${"x".repeat(250)}@example.org,Long,,`,
  ' fay@example.org ,Fay,Oslo,{"city": "Bergen"}',
  "gus@example.org,Gus,,{oops",
].join("\r\n") + "\r\n";

describe("mailroom import-subscribers", () => {
  it("imports the good rows and reports every bad one with its line and reason", async () => {
    const rejected = path.join(dir, "rejected.csv");
    const { code, output } = await mailroom("import-subscribers", "--list", "Double", "--rejected", rejected, csv("people.csv", FILE));
    expect(code).toBe(0);
    expect(output).toMatch(/rows read\s+9\n/);
    expect(output).toMatch(/rejected\s+6\n/);
    expect(output).toMatch(/subscribers created\s+3\n/);
    expect(output).toMatch(/added to the list\s+3\n/);
    expect(output).toContain("(double opt-in; new memberships unconfirmed)");
    // Unconfirmed members of a double opt-in list receive nothing: the summary says so and how to confirm.
    expect(output).toContain("3 new members are unconfirmed: on this double opt-in list they will NOT receive campaigns until they confirm.");
    expect(output).toMatch(/To ask them by email:\s+mailroom lists send-confirmations Double\n/);
    expect(output).toMatch(/If they confirmed elsewhere already:\s+mailroom subscribers confirm --list Double --all\n/);
    for (const line of [
      'line 3: email is not a valid address ("not-an-address")',
      'line 5: the same email as line 2 ("ANN@example.org")',
      'line 6: attributes must be a JSON object ("dan@example.org")',
      'line 8: 2 fields where the header has 4 ("eve@example.org")',
      "line 10: email is longer than 254 characters",
      'line 12: attributes is not valid JSON ("gus@example.org")',
    ]) expect(output).toContain(line);
    expect(fs.readFileSync(rejected, "utf8").split("\n")[0]).toBe("line,reason,email");

    const { rows } = await db.pool.query(
      `select s.email, s.name, s.attributes, m.status from app_public.subscribers as s
       join app_public.list_memberships as m on m.subscriber_id = s.id order by s.email`);
    expect(rows).toEqual([
      { email: "ann@example.org", name: "Ann", attributes: { vip: true, city: "Paris" }, status: "unconfirmed" },
      { email: "carl@example.org", name: "Carl, Jr.", attributes: { city: "Rome" }, status: "unconfirmed" },
      // A column overrides the same key of the attributes object; the address is trimmed.
      { email: "fay@example.org", name: "Fay", attributes: { city: "Oslo" }, status: "unconfirmed" },
    ]);
  });

  it("changes nothing when the same file is imported again, and says so", async () => {
    const before = await db.pool.query("select id, updated_at from app_public.subscribers order by id");
    const { code, output } = await mailroom("import-subscribers", "--list", "Double", path.join(dir, "people.csv"));
    expect(code).toBe(0);
    expect(output).toMatch(/subscribers created\s+0\n/);
    expect(output).toMatch(/already subscribers\s+3\n/);
    expect(output).toMatch(/already on the list\s+3\n/);
    expect(output).toContain("Nothing changed");
    expect(output).toContain("3 rows were already on the list and kept their existing status (3 unconfirmed): --status never changes existing memberships.");
    expect(output).not.toContain("new members are unconfirmed");
    // --status confirmed does not confirm them either: the summary points to subscribers confirm.
    const confirmed = await mailroom("subscribers", "import", "--list", "Double", "--status", "confirmed", path.join(dir, "people.csv"));
    expect(confirmed.code).toBe(0);
    expect(confirmed.output).toContain("Importing again with --status confirmed changes nothing; to confirm them: mailroom subscribers confirm --list Double --all");
    expect((await db.pool.query("select distinct status from app_public.list_memberships")).rows).toEqual([{ status: "unconfirmed" }]);
    expect((await db.pool.query("select id, updated_at from app_public.subscribers order by id")).rows).toEqual(before.rows);
  });

  it("new members of a single opt-in list are confirmed; --status decides otherwise; existing memberships never change", async () => {
    await db.pool.query(`update app_public.list_memberships set status = 'unsubscribed'
      where subscriber_id = (select id from app_public.subscribers where email = 'ann@example.org')`);
    const file = csv("more.csv", "email,name\nann@example.org,Annie\nhal@example.org,Hal\n");
    const single = await mailroom("import-subscribers", "--list", "Single", file);
    expect(single.code).toBe(0);
    expect(single.output).toContain("(single opt-in; new memberships confirmed)");
    expect(single.output).not.toContain("will NOT receive campaigns");
    const double = await mailroom("import-subscribers", "--list", "Double", "--status", "confirmed", "--update-existing", file);
    expect(double.output).toMatch(/subscribers updated\s+1\n/);
    expect(double.output).toMatch(/added to the list\s+1\n/);
    const { rows } = await db.pool.query(
      `select l.name as list, s.email, s.name, m.status from app_public.list_memberships as m
       join app_public.lists as l on l.id = m.list_id join app_public.subscribers as s on s.id = m.subscriber_id
       where s.email in ('ann@example.org', 'hal@example.org') order by l.name, s.email`);
    expect(rows).toEqual([
      { list: "Double", email: "ann@example.org", name: "Annie", status: "unsubscribed" },
      { list: "Double", email: "hal@example.org", name: "Hal", status: "confirmed" },
      { list: "Single", email: "ann@example.org", name: "Annie", status: "confirmed" },
      { list: "Single", email: "hal@example.org", name: "Hal", status: "confirmed" },
    ]);
  });

  it("refuses an unknown list, a file without an email column and a missing file, importing nothing", async () => {
    const count = async () => Number((await db.pool.query("select count(*) from app_public.subscribers")).rows[0].count);
    const before = await count();
    const unknown = await mailroom("import-subscribers", "--list", "Nope", csv("one.csv", "email\nzed@example.org\n"));
    expect(unknown.code).toBe(3);
    expect(unknown.output).toContain('no list named "Nope"');
    const noEmail = await mailroom("import-subscribers", "--list", "Double", csv("bad-header.csv", "mail,name\nzed@example.org,Z\n"));
    expect(noEmail.code).toBe(2);
    expect(noEmail.output).toContain("the header has no email column (it has: mail, name)");
    const missing = await mailroom("import-subscribers", "--list", "Double", path.join(dir, "missing.csv"));
    expect(missing.code).toBe(2);
    expect(missing.output).toContain("no such file");
    expect(await count()).toBe(before);
  });

  it("--json prints the report with its counts and notes", async () => {
    const file = csv("json.csv", "email\nivy@example.org\nann@example.org\n");
    const { code, output } = await mailroom("subscribers", "import", "--list", "1", "--json", file);
    expect(code).toBe(0);
    const report = JSON.parse(output.slice(output.indexOf("{")));
    expect(report).toMatchObject({
      listId: "1", listName: "Double", listOptIn: "double", status: "unconfirmed", rows: 2, rejected: 0, created: 1, existing: 1,
      added: 1, alreadyMembers: 1, alreadyMembersByStatus: { confirmed: 0, unconfirmed: 0, unsubscribed: 1 },
    });
    expect(report.notes[0]).toContain("1 new member is unconfirmed");
    expect((await mailroom("subscribers", "import", "--list", "Double")).code).toBe(2);
    expect((await mailroom("subscribers", "import", "--list", "Double", "--status", "maybe", file)).code).toBe(2);
  });

  it("imports a file larger than one COPY chunk, with progress lines when not on a terminal", async () => {
    const lines = ["email,name,plan"];
    for (let i = 0; i < 30_000; i++) lines.push(`bulk${i}@example.org,"Bulk, ${i}",${i % 2 ? "pro" : ""}`);
    const { code, output } = await mailroom("import-subscribers", "--list", "2", csv("bulk.csv", lines.join("\n")));
    expect(code).toBe(0);
    expect(output).toMatch(/subscribers created\s+30,000\n/);
    expect(output).toContain("Reading 100%");
    expect(output).toMatch(/Adding to the list done in/);
    const { rows } = await db.pool.query(
      "select name, attributes from app_public.subscribers where email in ('bulk0@example.org', 'bulk1@example.org') order by email");
    expect(rows).toEqual([{ name: "Bulk, 0", attributes: {} }, { name: "Bulk, 1", attributes: { plan: "pro" } }]);
  });
});
