// The campaign workflow through the command line only, as a user runs it: create, show, test-send, start,
// pause, resume (sent through the sandbox by the worker's tasks), status, cancel, duplicate, schedule and
// unschedule, with their JSON and exit codes. Lists, subscribers, a sender and a template are made by SQL.
// Last, duplicate_campaign through GraphQL, which gets it as the mutation duplicateCampaign.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer } from "./helpers/graphql.ts";
import { runMailroom } from "./helpers/process.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";
import { QUIET_SANDBOX, createSender, testSendingSettings } from "./helpers/sending.ts";
import { waitFor } from "./helpers/wait.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let settings: SendingSettings;
let senderId: string;
let otherSenderId: string;
let newsletterId: string;
let customersId: string;

function start(...args: string[]) {
  return runMailroom(args, { ...commandEnvironment(db), LOG_LEVEL: "warn" });
}

async function mailroom(...args: string[]): Promise<{ code: number | string; output: string }> {
  const child = start(...args);
  const code = await child.exited;
  return { code, output: child.output() };
}

/** A command with --json that succeeds: its JSON. */
async function json(...args: string[]): Promise<any> {
  const { code, output } = await mailroom(...args, "--json");
  expect(code, output).toBe(0);
  return JSON.parse(output);
}

async function campaignRow(id: number) {
  return (await db.pool.query("select * from app_public.campaigns where id = $1", [id])).rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: QUIET_SANDBOX,
  });
  receiver = await startReceiver(db.pool);
  await sandbox.subscribe({ endpoint: `${receiver.url}/webhooks/acs?code=${TEST_SECRET}` });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, unsubscribeSecret: "test-unsubscribe-secret-0123456789-abcdef" });
  senderId = await createSender(db.pool, { fromAddress: "news@mail.example.com" });
  otherSenderId = await createSender(db.pool, { fromAddress: "more@mail.example.com" });
  // Newsletter: 3 confirmed members of a single opt-in list; Customers (double opt-in): 2 confirmed, one of them
  // on the Newsletter too, and 1 unconfirmed. 4 people receive a campaign to both.
  const { rows } = await db.pool.query(
    `with lists as (
       insert into app_public.lists (name, opt_in) values ('Newsletter', 'single'), ('Customers', 'double') returning id, name
     ), people as (
       insert into app_public.subscribers (email, name) select 'p' || g || '@example.org', 'Person ' || g from generate_series(1, 5) as g returning id, email
     ), members as (
       insert into app_public.list_memberships (list_id, subscriber_id, status)
       select l.id, p.id, case when p.email = 'p5@example.org' then 'unconfirmed' else 'confirmed' end
       from lists as l join people as p
         on (l.name = 'Newsletter' and p.email in ('p1@example.org', 'p2@example.org', 'p3@example.org'))
         or (l.name = 'Customers' and p.email in ('p3@example.org', 'p4@example.org', 'p5@example.org'))
     )
     select id, name from lists`,
  );
  newsletterId = rows.find((r) => r.name === "Newsletter").id;
  customersId = rows.find((r) => r.name === "Customers").id;
  await db.pool.query(
    `insert into app_public.templates (name, subject, html_body, text_body) values ('Monthly', 'Hello {{ subscriber.name }}',
       '<p>Dear {{ subscriber.name }}, news from {{ list.name }}.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
       'Dear {{ subscriber.name }}, news from {{ list.name }}. Unsubscribe: {{ unsubscribe_url }}')`,
  );
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.stop();
  await db?.drop();
});

describe("mailroom campaigns, from a draft to a sent campaign", () => {
  let id: number;

  it("create: a draft from the template (by name), two lists (name and id) and the sender (its address)", async () => {
    const created = await json("campaigns", "create", "--name", "March news", "--template", "monthly", "--list", "Newsletter",
      "--list", String(customersId), "--list", "newsletter", "--sender", "news@mail.example.com");
    id = created.id;
    expect(created).toMatchObject({
      name: "March news", status: "draft", template: { name: "Monthly" }, subject: "Hello {{ subscriber.name }}",
      sender: { id: Number(senderId), from_address: "news@mail.example.com" }, additional_senders: [],
      lists: [
        { id: Number(newsletterId), name: "Newsletter", opt_in: "single", members: 3, confirmed: 3, receiving: 3 },
        { id: Number(customersId), name: "Customers", opt_in: "double", members: 3, confirmed: 2, unconfirmed: 1, receiving: 2 },
      ],
      engagement_tracking: "azure", engagement_tracking_source: "sender", recipients: null, numbers: null, test_sends: [],
      scheduled_at: null, started_at: null,
    });
    const row = await campaignRow(id);
    expect(row).toMatchObject({ name: "March news", status: "draft", sender_id: senderId, subject: "", engagement_tracking: null });
    const lists = await db.pool.query("select list_id from app_public.campaign_lists where campaign_id = $1 order by list_id", [id]);
    expect(lists.rows.map((r) => r.list_id)).toEqual([newsletterId, customersId].sort((a, b) => Number(a) - Number(b)));
  });

  it("create refuses what is missing or unknown, and creates nothing then", async () => {
    const before = (await db.pool.query("select count(*)::int as n from app_public.campaigns")).rows[0].n;
    const missing = await mailroom("campaigns", "create", "--name", "X", "--template", "Monthly", "--sender", senderId);
    expect(missing).toEqual({ code: 2, output: expect.stringContaining("missing --list") });
    const unknownList = await mailroom("campaigns", "create", "--name", "X", "--template", "Monthly", "--list", "Nobody", "--sender", senderId);
    expect(unknownList).toEqual({ code: 3, output: expect.stringContaining('no list named "Nobody"') });
    const unknownTemplate = await mailroom("campaigns", "create", "--name", "X", "--template", "999", "--list", "Newsletter", "--sender", senderId);
    expect(unknownTemplate).toEqual({ code: 3, output: expect.stringContaining("no template with id 999") });
    const tracking = await mailroom("campaigns", "create", "--name", "X", "--template", "Monthly", "--list", "Newsletter", "--sender", senderId, "--engagement-tracking", "pixel");
    expect(tracking).toEqual({ code: 2, output: expect.stringContaining('--engagement-tracking "pixel": expected azure, mailroom, both, off') });
    expect((await db.pool.query("select count(*)::int as n from app_public.campaigns")).rows[0].n).toBe(before);
  });

  it("show: the campaign for people, and the same JSON as create", async () => {
    const { code, output } = await mailroom("campaigns", "show", String(id));
    expect(code).toBe(0);
    expect(output).toContain(`Campaign ${id} "March news": draft`);
    expect(output).toMatch(/template:\s+\d+ "Monthly"/);
    expect(output).toMatch(/sender:\s+\d+ news@mail\.example\.com/);
    expect(output).toMatch(/lists:\s+\d+ "Newsletter": single opt-in, 3 of 3 members receive it/);
    expect(output).toMatch(/\d+ "Customers": double opt-in, 2 of 3 members receive it \(1 not confirmed\)/);
    expect(output).toMatch(/tracking:\s+azure \(the sender's; fixed at the start\)/);
    expect(output).toMatch(/recipients:\s+counted at the start/);
    expect((await json("campaigns", "show", String(id))).lists).toHaveLength(2);
    expect(await mailroom("campaigns", "show", "999999")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
  });

  it("test-send: waits for the worker and prints ACS's answer; --no-wait returns at once", async () => {
    const waiting = start("campaigns", "test-send", String(id), "--to", "reviewer@example.net", "--timeout", "120", "--json");
    // The worker's part, once the test send is recorded: send it through the sandbox.
    await waitFor(async () => (await db.pool.query("select 1 from app_public.test_sends where campaign_id = $1", [id])).rowCount, 60_000, "the test send");
    await runQueuedJobs(db.pool, settings);
    expect(await waiting.exited, waiting.output()).toBe(0);
    const sent = JSON.parse(waiting.output());
    expect(sent).toMatchObject({ campaign_id: id, recipient: "reviewer@example.net", status: "accepted", error: null });
    const email = sandbox.emails().find((e) => e.operationId === sent.operation_id)!;
    expect(email.subject).toBe("[Test] Hello Test Recipient");
    expect(email.internetMessageId).toBe(sent.internet_message_id);

    const queued = await mailroom("campaigns", "test-send", String(id), "--to", "p1@example.org", "--no-wait");
    expect(queued).toEqual({ code: 0, output: expect.stringMatching(/Test email \d+ to p1@example\.org: queued \(Message-ID <[^>]+>\)/) });
    await runQueuedJobs(db.pool, settings);
    const shown = await json("campaigns", "show", String(id));
    expect(shown.test_sends.map((t: any) => [t.recipient, t.status])).toEqual([["p1@example.org", "accepted"], ["reviewer@example.net", "accepted"]]);
    expect(sandbox.emails().find((e) => e.recipients.to[0] === "p1@example.org")!.subject).toBe("[Test] Hello Person 1");

    // Test emails are no messages: the draft has none.
    expect((await db.pool.query("select count(*)::int as n from app_public.messages where campaign_id = $1", [id])).rows[0].n).toBe(0);
    expect(await mailroom("campaigns", "test-send", String(id), "--to", "not an address")).toEqual({ code: 4, output: expect.stringContaining("email is not a valid address") });
    expect(await mailroom("campaigns", "test-send", "999999", "--to", "reviewer@example.net")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
    expect((await mailroom("campaigns", "test-send", String(id))).code).toBe(2);
  });

  it("test-send exits 1 when ACS refuses the email or no worker sends it in time", async () => {
    const badKey = Buffer.from("not the sandbox key").toString("base64");
    const refusing = await createSender(db.pool, { fromAddress: "refused@mail.example.com", connectionString: `endpoint=${sandbox.baseUrl};accesskey=${badKey}` });
    const campaign = await json("campaigns", "create", "--name", "Refused", "--template", "Monthly", "--list", "Newsletter", "--sender", refusing);
    // No worker runs meanwhile: the test email stays queued.
    const late = await mailroom("campaigns", "test-send", String(campaign.id), "--to", "reviewer@example.net", "--timeout", "1");
    expect(late).toEqual({ code: 1, output: expect.stringContaining("still queued after 1 s. Is a worker running") });
    const waiting = start("campaigns", "test-send", String(campaign.id), "--to", "reviewer@example.net", "--timeout", "120");
    await waitFor(async () => (await db.pool.query("select count(*)::int as n from app_public.test_sends where campaign_id = $1", [campaign.id])).rows[0].n === 2, 60_000, "the second test send");
    await runQueuedJobs(db.pool, settings);
    expect(await waiting.exited).toBe(1);
    expect(waiting.output()).toMatch(/Test email \d+ to reviewer@example\.net: failed: ACS did not take the email now: Denied/);
    const shown = await json("campaigns", "show", String(campaign.id));
    expect(shown.test_sends.map((t: any) => t.status)).toEqual(["failed", "failed"]);
    await db.pool.query("delete from app_public.campaigns where id = $1", [campaign.id]);
  });

  it("start, pause, resume: the worker sends each recipient one email; status shows the numbers", async () => {
    const started = await json("campaigns", "start", String(id));
    expect(started).toMatchObject({ id, status: "running", recipients: 4, engagement_tracking: "azure", engagement_tracking_source: "campaign" });
    expect(started.started_at).not.toBeNull();
    const again = await mailroom("campaigns", "start", String(id));
    expect(again).toEqual({ code: 4, output: expect.stringContaining(`campaign ${id} has already been started (it is running)`) });

    const paused = await json("campaigns", "pause", String(id));
    expect(paused).toMatchObject({ status: "paused" });
    expect(paused.paused_at).not.toBeNull();
    // Paused: the send job claims nothing.
    await runQueuedJobs(db.pool, settings);
    expect((await db.pool.query("select count(*)::int as n from app_public.messages where campaign_id = $1 and send_status = 'queued'", [id])).rows[0].n).toBe(4);
    expect((await mailroom("campaigns", "pause", String(id))).code).toBe(4);

    const resumed = await mailroom("campaigns", "resume", String(id));
    expect(resumed).toEqual({ code: 0, output: expect.stringContaining(`Resumed campaign ${id}: running.`) });
    await runQueuedJobs(db.pool, settings);
    await sandbox.whenIdle(30_000);
    await runQueuedJobs(db.pool, settings); // the delivery reports the webhook queued
    const sent = sandbox.emails().filter((e) => !e.subject.startsWith("[Test]")).map((e) => [e.recipients.to[0], e.subject]).sort();
    expect(sent).toEqual([1, 2, 3, 4].map((n) => [`p${n}@example.org`, `Hello Person ${n}`]));
    expect((await campaignRow(id)).status).toBe("finished");

    const status = await mailroom("campaigns", "status", String(id));
    expect(status.code).toBe(0);
    expect(status.output).toContain(`Campaign ${id} "March news": finished`);
    expect(status.output).toMatch(/accepted by ACS\s+4\s+100\.0%/);
    expect(status.output).toMatch(/\n {2}delivered\s+4\s+100\.0%/);
    expect(await json("campaigns", "status", String(id))).toMatchObject({ recipients: 4, accepted: 4, delivered: 4, bounced: 0, awaiting_report: 0 });
    const shown = await json("campaigns", "show", String(id));
    expect(shown.numbers).toMatchObject({ recipients: 4, accepted: 4, delivered: 4, bounced: 0, opened: 0, open_rate: 0 });
    expect((await mailroom("campaigns", "cancel", String(id)))).toEqual({ code: 4, output: expect.stringContaining(`campaign ${id} is already finished`) });
  });

  it("duplicate, schedule, unschedule, cancel; a cancelled campaign cannot start", async () => {
    const copy = await json("campaigns", "duplicate", String(id));
    expect(copy).toMatchObject({
      name: "March news (copy)", status: "draft", template: { name: "Monthly" }, sender: { id: Number(senderId) },
      lists: [{ name: "Newsletter" }, { name: "Customers" }], engagement_tracking: "azure", engagement_tracking_source: "campaign",
      recipients: null, numbers: null, test_sends: [], started_at: null,
    });
    expect(copy.id).not.toBe(id);

    const at = new Date(Date.now() + 7 * 86_400_000);
    at.setUTCMilliseconds(0);
    const scheduled = await json("campaigns", "schedule", String(copy.id), "--at", at.toISOString().replace(/\.000Z$/, "+00:00"));
    expect(scheduled).toMatchObject({ status: "scheduled" });
    expect(new Date(scheduled.scheduled_at).getTime()).toBe(at.getTime());
    const job = await db.pool.query("select run_at from graphile_worker.jobs where key = $1", [`start_scheduled_campaign:${copy.id}`]);
    expect(job.rows.map((r) => r.run_at.getTime())).toEqual([at.getTime()]);

    expect(await mailroom("campaigns", "schedule", String(copy.id), "--at", "next tuesday")).toEqual({ code: 2, output: expect.stringContaining("expected an ISO 8601 time with its offset") });
    expect((await mailroom("campaigns", "schedule", String(copy.id), "--at", "2030-02-30T09:00:00Z")).code).toBe(2);
    expect((await mailroom("campaigns", "schedule", String(copy.id), "--at", "2030-03-01T09:00:00")).code).toBe(2);
    expect(await mailroom("campaigns", "schedule", String(copy.id), "--at", "2020-03-01T09:00:00Z")).toEqual({ code: 4, output: expect.stringContaining("a campaign must be scheduled in the future") });
    expect(await mailroom("campaigns", "schedule", "999999", "--at", at.toISOString())).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });

    const unscheduled = await json("campaigns", "unschedule", String(copy.id));
    expect(unscheduled).toMatchObject({ status: "draft", scheduled_at: null });
    expect((await mailroom("campaigns", "unschedule", String(copy.id))).code).toBe(4);

    const cancelled = await json("campaigns", "cancel", String(copy.id));
    expect(cancelled).toMatchObject({ status: "cancelled" });
    expect(await mailroom("campaigns", "start", String(copy.id))).toEqual({ code: 4, output: expect.stringContaining(`campaign ${copy.id} is cancelled and cannot be started`) });
    expect(await mailroom("campaigns", "start", "999999")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
    expect((await mailroom("campaigns", "start", "abc")).code).toBe(2);

    const named = await json("campaigns", "duplicate", String(copy.id), "--name", "April news");
    expect(named).toMatchObject({ name: "April news", status: "draft" });
    expect(await mailroom("campaigns", "duplicate", "999999")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
  });

  it("create with a subject of its own, several senders and a tracking choice; duplicate keeps them all", async () => {
    const created = await json("campaigns", "create", "--name", "Offer", "--template", "Monthly", "--list", "Customers",
      "--sender", senderId, "--sender", "more@mail.example.com", "--subject", "Only for you, {{ subscriber.name }}", "--engagement-tracking", "off");
    expect(created).toMatchObject({
      subject: "Only for you, {{ subscriber.name }}", sender: { id: Number(senderId) },
      additional_senders: [{ id: Number(otherSenderId), from_address: "more@mail.example.com" }],
      engagement_tracking: "off", engagement_tracking_source: "campaign",
    });
    const copy = await json("campaigns", "duplicate", String(created.id));
    expect(copy).toMatchObject({
      name: "Offer (copy)", subject: created.subject, template: created.template, sender: created.sender,
      additional_senders: created.additional_senders, lists: created.lists, engagement_tracking: "off",
    });
  });

  it("list: every campaign, or those of one status", async () => {
    const all = await json("campaigns", "list");
    expect(all.map((c: any) => [c.name, c.status])).toEqual([
      ["March news", "finished"], ["March news (copy)", "cancelled"], ["April news", "draft"], ["Offer", "draft"], ["Offer (copy)", "draft"],
    ]);
    expect(all[0]).toMatchObject({ id, recipients: 4, delivered: 4, open_rate: 0 });
    expect((await json("campaigns", "list", "--status", "draft")).map((c: any) => c.name)).toEqual(["April news", "Offer", "Offer (copy)"]);
    const text = await mailroom("campaigns", "list", "--status", "finished");
    expect(text.code).toBe(0);
    expect(text.output).toMatch(/^ID\s+NAME\s+STATUS\s+RECIPIENTS\s+DELIVERED\s+OPEN RATE\s+SINCE\n\d+\s+March news\s+finished\s+4\s+4\s+0\.0%/);
    expect(await mailroom("campaigns", "list", "--status", "sent")).toEqual({ code: 2, output: expect.stringContaining('--status "sent": expected draft, scheduled') });
  });

  it("every verb has --help; an unknown verb or option is a usage error", async () => {
    const verbs = ["create", "list", "show", "test-send", "start", "schedule", "unschedule", "pause", "resume", "cancel", "duplicate", "status", "recompute"];
    for (const verb of verbs) {
      const help = await mailroom("campaigns", verb, "--help");
      expect(help.code, verb).toBe(0);
      expect(help.output).toContain(`Usage: mailroom campaigns ${verb}`);
    }
    const noun = await mailroom("campaigns", "--help");
    for (const verb of verbs) expect(noun.output).toMatch(new RegExp(`\\n  ${verb} `));
    expect((await mailroom("campaigns", "launch", "1")).code).toBe(2);
    expect((await mailroom("campaigns", "start", "1", "--now")).code).toBe(2);
  });
});

describe("duplicateCampaign in GraphQL", () => {
  it("copies a campaign for an admin, as the command does; an analyst may not", async () => {
    const original = (await db.pool.query("select id from app_public.campaigns where name = 'Offer'")).rows[0].id as string;
    const api = await startGraphqlServer(db);
    try {
      const DUPLICATE = `mutation($id: BigInt!, $name: String) {
        duplicateCampaign(input: { campaignId: $id, name: $name }) {
          campaign { name status subject engagementTracking campaignLists { nodes { listId } } campaignSendersByCampaignId { nodes { senderId } } }
        }
      }`;
      const before = (await db.pool.query("select count(*)::int as n from app_public.campaigns")).rows[0].n;
      const refused = await api.query(await apiKey(db, "analyst"), DUPLICATE, { id: original, name: "Not allowed" });
      expect(errorOf(refused)).toMatch(/permission denied/);
      expect((await db.pool.query("select count(*)::int as n from app_public.campaigns")).rows[0].n).toBe(before);

      const copied = await api.query(await apiKey(db, "admin"), DUPLICATE, { id: original, name: "Offer again" });
      expect(copied.errors, JSON.stringify(copied.errors)).toBeUndefined();
      expect(copied.data!.duplicateCampaign.campaign).toEqual({
        name: "Offer again", status: "draft", subject: "Only for you, {{ subscriber.name }}", engagementTracking: "off",
        campaignLists: { nodes: [{ listId: customersId }] }, campaignSendersByCampaignId: { nodes: [{ senderId: otherSenderId }] },
      });
      expect(errorOf(await api.query(await apiKey(db, "admin"), DUPLICATE, { id: "999999" }))).toBe("campaign 999999 does not exist");
    } finally {
      await api.close();
    }
  });
});
