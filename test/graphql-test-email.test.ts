// sendTestEmail over HTTP GraphQL against the sandbox: the test email arrives rendered, with the Message-ID
// the database generated and the one-click unsubscribe headers; its outcome and delivery report are recorded
// on the test send and nowhere in the campaign's numbers; the documented errors are clear.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";
import { createCampaign, createList, createSender, testSendingSettings } from "./helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;
let receiver: Receiver;
let api: GraphqlServer;
let admin: string;
let analyst: string;
let senderId: string;
let listId: string;
let listName: string;

/** Forwards every request to the sandbox unchanged and keeps the request bodies (the sandbox keeps only a hash). */
let recorder: http.Server;
const requestBodies: string[] = [];

const SEND = `mutation($campaignId: BigInt!, $email: String!) {
  sendTestEmail(input: { campaignId: $campaignId, email: $email }) {
    testSend { id campaignId recipient subscriberId status error internetMessageId operationId createdAt sentAt }
  }
}`;
const READ = `query($id: BigInt!) {
  testSendById(id: $id) { status error sentAt deliveryStatus subscriber { email } campaign { id status rollup { recipients } } }
}`;

async function sendTest(campaignId: string, email: string, credential = admin) {
  return api.query(credential, SEND, { campaignId, email });
}

function sentBody(operationId: string): { content: { subject: string; html?: string; plainText: string }; recipients: { to: { address: string; displayName?: string }[] } } {
  const bodies = requestBodies.map((b) => JSON.parse(b)).filter((b) => b.content);
  // The SDK sends the operation id as a header, not in the body: match by the one recipient.
  const email = sandbox.emails().find((e) => e.operationId === operationId)!;
  return bodies.find((b) => b.recipients.to[0].address === email.recipients.to[0] && b.content.subject === email.subject);
}

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: {
      quotaPerMinute: null,
      quotaPerHour: null,
      timeScale: 0.001,
      statusMix: { Delivered: 1, Expanded: 0, Bounced: 0, Suppressed: 0, FilteredSpam: 0, Quarantined: 0, Failed: 0 },
      viewProbability: 1,
      duplicateShare: 0,
    },
  });
  const sandboxUrl = new URL(sandbox.baseUrl);
  recorder = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0) requestBodies.push(body.toString("utf8"));
      const forward = http.request(
        { host: sandboxUrl.hostname, port: sandboxUrl.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
  const recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
  receiver = await startReceiver(db.pool);
  await sandbox.subscribe({ endpoint: `${receiver.url}/webhooks/acs?code=${TEST_SECRET}` });
  settings = testSendingSettings({
    defaultConnectionString: sandbox.connectionString.replace(/endpoint=[^;]+/, `endpoint=${recorderUrl}`),
    publicUrl: "https://mailroom.example.com",
    unsubscribeSecret: "test-unsubscribe-secret-0123456789-abcdef",
  });
  admin = await apiKey(db, "admin");
  analyst = await apiKey(db, "analyst");
  api = await startGraphqlServer(db, { production: true });
  senderId = await createSender(db.pool, { fromAddress: "news@mail.example.com" });
  listId = await createList(db.pool, 2);
  listName = (await db.pool.query("select name from app_public.lists where id = $1", [listId])).rows[0].name;
});

afterAll(async () => {
  await api?.close();
  await receiver?.close();
  await sandbox?.stop();
  await new Promise<void>((resolve) => (recorder ? recorder.close(() => resolve()) : resolve()));
  await db?.drop();
});

describe("sendTestEmail", () => {
  test("to an address that is no subscriber: sample values, [Test] subject, the database's Message-ID; the campaign's numbers untouched", async () => {
    const campaignId = await createCampaign(db.pool, {
      senderId,
      listIds: [listId],
      subject: "Hello {{ subscriber.name }}",
      html: '<p>Dear {{ subscriber.name }} ({{ subscriber.email }}), news from {{ list.name }} in {{ campaign.name }}. Plan: [{{ subscriber.attributes.plan }}]</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    });
    const sent = await sendTest(campaignId, "  Reviewer@Example.net ");
    expect(sent.errors, JSON.stringify(sent.errors)).toBeUndefined();
    const testSend = sent.data!.sendTestEmail.testSend;
    expect(testSend).toMatchObject({ campaignId, recipient: "Reviewer@Example.net", subscriberId: null, status: "queued", error: null, sentAt: null });
    expect(testSend.internetMessageId).toMatch(/^<[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@mail\.example\.com>$/); // version 7, as the ledger

    await runQueuedJobs(db.pool, settings);
    const read = await api.query(admin, READ, { id: testSend.id });
    expect(read.errors).toBeUndefined();
    expect(read.data!.testSendById).toMatchObject({ status: "accepted", error: null, subscriber: null });
    expect(read.data!.testSendById.sentAt).not.toBeNull();

    const email = sandbox.emails().find((e) => e.operationId === testSend.operationId)!;
    expect(email).toBeDefined();
    expect(email.subject).toBe("[Test] Hello Test Recipient");
    expect(email.sender).toBe("news@mail.example.com");
    expect(email.recipients.to).toEqual(["Reviewer@Example.net"]);
    expect(email.internetMessageId).toBe(testSend.internetMessageId);
    expect(email.headers["Message-ID"]).toBe(testSend.internetMessageId);
    expect(email.headers["List-Unsubscribe"]).toMatch(/^<https:\/\/mailroom\.example\.com\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+>$/);
    expect(email.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const body = sentBody(testSend.operationId);
    expect(body.recipients.to).toEqual([{ address: "Reviewer@Example.net" }]);
    expect(body.content.html).toContain(`Dear Test Recipient (Reviewer@Example.net), news from ${listName} in Newsletter. Plan: []`);
    expect(body.content.plainText).toContain("Dear Test Recipient (Reviewer@Example.net)");

    // Not a message: the campaign is still a draft with no recipients.
    expect(read.data!.testSendById.campaign).toEqual({ id: campaignId, status: "draft", rollup: null });
    const messages = await db.pool.query("select count(*)::int as n from app_public.messages where campaign_id = $1", [campaignId]);
    expect(messages.rows[0].n).toBe(0);
  });

  test("to a subscriber: rendered with their fields; the delivery report lands on the test send, not in the campaign's numbers", async () => {
    const { rows } = await db.pool.query(
      `select s.email, s.name from app_public.subscribers as s join app_public.list_memberships as lm on lm.subscriber_id = s.id
       where lm.list_id = $1 order by s.id limit 1`,
      [listId],
    );
    const [subscriberEmail, subscriberName] = [rows[0].email as string, rows[0].name as string];
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId], name: "Running one" });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    const rollupBefore = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];

    const sent = await sendTest(campaignId, subscriberEmail.toUpperCase());
    expect(sent.errors, JSON.stringify(sent.errors)).toBeUndefined();
    const testSend = sent.data!.sendTestEmail.testSend;
    expect(testSend.subscriberId).not.toBeNull();
    // The test email only: the campaign's own job would send its two messages too.
    await db.pool.query("delete from graphile_worker._private_jobs where key = $1", [`send_campaign:${campaignId}`]);
    await runQueuedJobs(db.pool, settings);

    const email = sandbox.emails().find((e) => e.operationId === testSend.operationId)!;
    expect(email.subject).toBe(`[Test] Hello ${subscriberName}`);
    const body = sentBody(testSend.operationId);
    expect(body.recipients.to).toEqual([{ address: subscriberEmail.toUpperCase(), displayName: subscriberName }]);
    expect(body.content.html).toContain(`Dear ${subscriberName},`);
    expect(body.content.html).toContain(`News from ${listName}.`);

    // Event Grid: the delivery report and the view reach the webhook; the ingest job stores them.
    await sandbox.whenIdle(10_000);
    await runQueuedJobs(db.pool, settings);
    const read = await api.query(admin, READ, { id: testSend.id });
    expect(read.data!.testSendById).toMatchObject({ status: "accepted", deliveryStatus: "Delivered", subscriber: { email: subscriberEmail } });
    const events = await db.pool.query(
      `select count(*)::int as stored, count(*) filter (where p.raw_event_id is not null)::int as pending
       from app_public.raw_events as e left join app_private.pending_events as p on p.raw_event_id = e.id
       where e.internet_message_id = $1 or e.operation_id = $2`,
      [testSend.internetMessageId, testSend.operationId],
    );
    expect(events.rows[0].stored).toBeGreaterThanOrEqual(2); // the delivery report and a view at least
    expect(events.rows[0].pending).toBe(0); // not reported as unattributed
    const attributed = await db.pool.query("select count(*)::int as n from app_public.message_events where campaign_id = $1", [campaignId]);
    expect(attributed.rows[0].n).toBe(0);
    const rollupAfter = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
    expect({ ...rollupAfter, updated_at: null }).toEqual({ ...rollupBefore, updated_at: null });
  });

  test("ACS refusing the sender's key: the test send fails with ACS's answer", async () => {
    const badKey = Buffer.from("not the sandbox key").toString("base64");
    const refused = await createSender(db.pool, { connectionString: `endpoint=${sandbox.baseUrl};accesskey=${badKey}` });
    const campaignId = await createCampaign(db.pool, { senderId: refused, listIds: [listId] });
    const sent = await sendTest(campaignId, "reviewer@example.net");
    const id = sent.data!.sendTestEmail.testSend.id;
    await runQueuedJobs(db.pool, settings);
    const read = await api.query(admin, READ, { id });
    expect(read.data!.testSendById.status).toBe("failed");
    expect(read.data!.testSendById.error).toBe("ACS did not take the email now: Denied: Denied by the resource provider. (throttled, or the sender's key refused)");
  });

  test("the documented errors, and no test send recorded for any of them", async () => {
    const before = (await db.pool.query("select count(*)::int as n from app_public.test_sends")).rows[0].n;
    const good = await createCampaign(db.pool, { senderId, listIds: [listId] });

    const unknown = await sendTest("999999", "reviewer@example.net");
    expect(errorOf(unknown)).toBe("campaign 999999 does not exist");
    expect(unknown.errors![0]!.extensions!.code).toBe("P0002");

    for (const [address, message] of [
      ["not an address", "email is not a valid address"],
      ["", "email is required"],
      [`${"x".repeat(250)}@example.org`, "email is longer than 254 characters"],
    ]) {
      const invalid = await sendTest(good, address);
      expect(errorOf(invalid)).toBe(message);
      expect(invalid.errors![0]!.extensions!.code).toBe("22023");
    }

    const broken = await createCampaign(db.pool, { senderId, listIds: [listId], subject: "Hi {{ subscriber.nme }}" });
    const templateError = await sendTest(broken, "reviewer@example.net");
    expect(errorOf(templateError)).toBe(`campaign ${broken} has template errors: subject line 1: unknown field "subscriber.nme" in {{ subscriber.nme }}`);
    expect(templateError.errors![0]!.extensions).toMatchObject({ code: "22023", hint: expect.stringContaining("Fields: subscriber.email") });

    const noSubject = await createCampaign(db.pool, { senderId, listIds: [listId], subject: " " });
    expect(errorOf(await sendTest(noSubject, "reviewer@example.net"))).toBe(`the subject of campaign ${noSubject} is empty`);
    const noBody = await createCampaign(db.pool, { senderId, listIds: [listId], html: "", text: "" });
    expect(errorOf(await sendTest(noBody, "reviewer@example.net"))).toBe(`campaign ${noBody} has no content: its HTML and text parts are both empty`);

    const withoutSender = (await db.pool.query("insert into app_public.campaigns (name, subject, html_body) values ('No sender', 'Hi', '<p>Hi</p>') returning id")).rows[0].id;
    const noSender = await sendTest(String(withoutSender), "reviewer@example.net");
    expect(errorOf(noSender)).toBe(`campaign ${withoutSender} has no sender`);
    expect(noSender.errors![0]!.extensions!.code).toBe("55000");

    const denied = await sendTest(good, "reviewer@example.net", analyst);
    expect(errorOf(denied)).toBe("permission denied for function send_test_email");
    expect(denied.errors![0]!.extensions!.code).toBe("42501");

    const anonymous = await api.query(undefined, SEND, { campaignId: good, email: "reviewer@example.net" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.data).toBeUndefined();

    expect((await db.pool.query("select count(*)::int as n from app_public.test_sends")).rows[0].n).toBe(before);
  });

  test("an analyst reads test sends and a campaign's testSends", async () => {
    const read = await api.query(analyst, `{ allTestSends(orderBy: ID_ASC) { totalCount nodes { status campaign { testSends { totalCount } } } } }`);
    expect(read.errors).toBeUndefined();
    expect(read.data!.allTestSends.totalCount).toBe(3);
    expect(read.data!.allTestSends.nodes.map((n: { status: string }) => n.status)).toEqual(["accepted", "accepted", "failed"]);
  });
});
