// mailroom subscribers show|block|unblock|delete and mailroom api-keys as a user runs them: text and JSON, what
// changed in the database, exit codes; deletion refused for a subscriber the ledger has messages for.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // Ann: on two lists, sent two messages (one delivered and opened); Bob: on one list, never sent anything.
  await db.pool.query(`insert into app_public.lists (name, opt_in) values ('Double', 'double'), ('Single', 'single')`);
  await db.pool.query(`insert into app_public.subscribers (email, name, attributes) values
    ('ann@example.org', 'Ann', '{"city": "Paris"}'), ('bob@example.org', 'Bob', '{}')`);
  await db.pool.query(`insert into app_public.list_memberships (list_id, subscriber_id, status) values
    (1, 1, 'unconfirmed'), (2, 1, 'confirmed'), (2, 2, 'confirmed')`);
  await db.pool.query(`with sender as (insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id),
      campaign as (insert into app_public.campaigns (name, sender_id) select c, sender.id from sender, (values ('Spring'), ('Summer')) as v(c) returning id, sender_id)
    insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient) select id, 1, sender_id, 'ann@example.org' from campaign`);
  await db.pool.query(`update app_public.messages set send_status = 'accepted', accepted_at = now(), delivery_status = 'Delivered', opens_human = 2
    where campaign_id = 1`);
});
afterAll(async () => {
  await db?.drop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mailroom(...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [path.join(projectRoot, "src/cli.ts"), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...commandEnvironment(db), LOG_LEVEL: "warn", LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

async function json(...args: string[]): Promise<any> {
  const run = await mailroom(...args, "--json");
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe("mailroom subscribers show", () => {
  it("shows the subscriber, their lists with membership status, and counts of their messages", async () => {
    const shown = await mailroom("subscribers", "show", "ANN@example.org");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/email:\s+ann@example.org/);
    expect(shown.stdout).toMatch(/status:\s+enabled/);
    expect(shown.stdout).toMatch(/\n\s+1\s+Double\s+double opt-in\s+unconfirmed\s+no\s/);
    expect(shown.stdout).toMatch(/\n\s+2\s+Single\s+single opt-in\s+confirmed\s+yes\s/);
    expect(shown.stdout).toContain("messages:    2 in 2 campaigns: 1 accepted, 1 delivered, 0 bounced, 1 opened, 0 clicked");
    const shownJson = await json("subscribers", "show", "1");
    expect(shownJson).toMatchObject({
      id: 1, email: "ann@example.org", name: "Ann", status: "enabled", attributes: { city: "Paris" },
      lists: [
        { id: 1, name: "Double", optIn: "double", status: "unconfirmed", receivesCampaigns: false },
        { id: 2, name: "Single", optIn: "single", status: "confirmed", receivesCampaigns: true },
      ],
      counts: { messages: 2, campaigns: 2, accepted: 1, delivered: 1, opened: 1, clicked: 0, bounces: 0, unsubscribes: 0 },
    });
  });

  it("an unknown id or email is exit 3; no argument is exit 2", async () => {
    const unknown = await mailroom("subscribers", "show", "nobody@example.org");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no subscriber with email "nobody@example.org"');
    expect((await mailroom("subscribers", "show", "999")).code).toBe(3);
    expect((await mailroom("subscribers", "show")).code).toBe(2);
  });
});

describe("mailroom subscribers block and unblock", () => {
  it("blocklists and takes off the blocklist, saying when nothing changed", async () => {
    const blocked = await json("subscribers", "block", "bob@example.org");
    expect(blocked).toMatchObject({ id: 2, status: "blocklisted", changed: true });
    expect((await db.pool.query("select status from app_public.subscribers where id = 2")).rows[0].status).toBe("blocklisted");
    const again = await mailroom("subscribers", "block", "2");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("was blocklisted already");
    expect((await json("subscribers", "show", "2")).lists[0].receivesCampaigns).toBe(false);
    const unblocked = await mailroom("subscribers", "unblock", "2");
    expect(unblocked.code).toBe(0);
    expect(unblocked.stdout).toContain("Subscriber 2 bob@example.org taken off the blocklist.");
    expect((await db.pool.query("select status from app_public.subscribers where id = 2")).rows[0].status).toBe("enabled");
    expect((await mailroom("subscribers", "block", "nobody@example.org")).code).toBe(3);
  });
});

describe("mailroom subscribers delete", () => {
  it("without --yes and without a terminal, refuses with exit 2 and deletes nothing", async () => {
    const run = await mailroom("subscribers", "delete", "bob@example.org");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("add --yes");
    expect((await db.pool.query("select count(*)::int as n from app_public.subscribers")).rows[0].n).toBe(2);
  });

  it("refuses (exit 4) to delete a subscriber the ledger has messages for, and says to block them", async () => {
    const run = await mailroom("subscribers", "delete", "1", "--yes");
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("subscriber 1 ann@example.org cannot be deleted: 2 messages were sent to them (2 campaigns)");
    expect(run.stderr).toContain("mailroom subscribers block 1");
    expect((await db.pool.query("select count(*)::int as n from app_public.messages where subscriber_id = 1")).rows[0].n).toBe(2);
    expect((await db.pool.query("select count(*)::int as n from app_public.list_memberships where subscriber_id = 1")).rows[0].n).toBe(2);
  });

  it("deletes a subscriber nothing was sent to, with their memberships", async () => {
    const deleted = await json("subscribers", "delete", "bob@example.org", "--yes");
    expect(deleted).toEqual({ id: 2, email: "bob@example.org", deleted: true, memberships: 1, bounces: 0, unsubscribes: 0 });
    expect((await db.pool.query("select email from app_public.subscribers order by id")).rows).toEqual([{ email: "ann@example.org" }]);
    expect((await db.pool.query("select count(*)::int as n from app_public.list_memberships where subscriber_id = 2")).rows[0].n).toBe(0);
    expect((await mailroom("subscribers", "delete", "2", "--yes")).code).toBe(3);
  });
});

describe("mailroom api-keys (and the old name api-key)", () => {
  it("create prints the key once on a line of its own; list shows it without the key; revoke revokes it", async () => {
    const created = await mailroom("api-keys", "create", "--role", "analyst", "--name", "dashboard", "--expires", "90d");
    expect(created.code).toBe(0);
    const key = /^(mrk_\S+)$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    expect(created.stdout).toMatch(/^API key 1 \(analyst, "dashboard", expires /);
    const createdJson = await json("api-key", "create", "--role", "admin", "--name", "script");
    expect(createdJson).toMatchObject({ id: 2, name: "script", role: "admin", valid: true, revokedAt: null });
    expect(createdJson.key).toMatch(/^mrk_/);
    expect(createdJson.keyPrefix).toBe(createdJson.key.slice(0, 10));

    const listed = await mailroom("api-keys", "list");
    expect(listed.stdout).toMatch(/\n1\s+analyst\s+mrk_\S+\.\.\.\s+dashboard\s+\S+\s+valid until /);
    expect(listed.stdout).not.toContain(key!);
    expect(listed.stdout).not.toContain(createdJson.key);
    const listedJson = await json("api-keys", "list");
    expect(listedJson.map((k: any) => [k.id, k.role, k.valid])).toEqual([[1, "analyst", true], [2, "admin", true]]);
    expect(JSON.stringify(listedJson)).not.toContain(createdJson.key);

    expect((await mailroom("api-keys", "revoke", "1")).stdout).toContain("API key 1 revoked");
    expect(await json("api-key", "revoke", "1")).toEqual({ id: 1, revoked: true, alreadyRevoked: true });
    const { rows } = await db.pool.query("select id, revoked_at is not null as revoked from app_private.api_keys order by id");
    expect(rows).toEqual([{ id: "1", revoked: true }, { id: "2", revoked: false }]);
  });

  it("exit codes: 2 usage (bad role, no name, bad expiry, bad id), 3 an unknown key", async () => {
    for (const args of [
      ["api-keys", "create", "--role", "root", "--name", "x"],
      ["api-keys", "create", "--role", "admin"],
      ["api-keys", "create", "--role", "admin", "--name", "x", "--expires", "soon"],
      ["api-keys", "revoke", "abc"],
      ["api-keys", "revoke"],
      ["api-key", "rotate"],
    ]) {
      const run = await mailroom(...args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
    }
    const unknown = await mailroom("api-keys", "revoke", "99");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("there is no API key 99");
    expect((await db.pool.query("select count(*)::int as n from app_private.api_keys")).rows[0].n).toBe(2);
  });
});
