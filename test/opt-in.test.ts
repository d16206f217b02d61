// Double opt-in end to end, on a real database, real HTTP and the sandbox as ACS: confirmation emails go through
// the sender's quota; the link read from the email the sandbox received shows a page on GET and HEAD and changes
// nothing, confirms on POST (idempotent), and the confirmed member then receives a campaign while the unconfirmed
// do not; tampered tokens get 404; old links do not re-subscribe the unsubscribed or the blocklisted. The public
// subscribe form answers identically whoever the address belongs to, emails no blocklisted address, rejects bad
// input with 400 and is rate limited (429, Retry-After). The commands: set-opt-in, send-confirmations, confirm.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHttpApp } from "../src/http/app.ts";
import type { OptInOptions } from "../src/http/opt-in.ts";
import { createWebhookAuthenticator } from "../src/http/webhook-auth.ts";
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES } from "../src/config.ts";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { confirmationToken } from "../src/sending/confirmation-token.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, startGraphqlServer } from "./helpers/graphql.ts";
import { runMailroom } from "./helpers/process.ts";
import { runQueuedJobs, TEST_SECRET } from "./helpers/receiver.ts";
import { QUIET_SANDBOX, createCampaign, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";

const SECRET = "test-unsubscribe-secret-0123456789-abcdef";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;
let app: { url: string; close(): Promise<void> };

async function startApp(pool: pg.Pool, optIn: OptInOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(
    createHttpApp({
      pool,
      log: pino({ level: process.env.OPT_IN_DEBUG ? "debug" : "silent" }),
      shuttingDown: () => false,
      webhook: { authenticator: createWebhookAuthenticator([TEST_SECRET], undefined), maxBodyBytes: DEFAULT_WEBHOOK_MAX_BODY_BYTES },
      unsubscribeSecret: SECRET,
      trustProxy: "loopback",
      optIn,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function mailroom(...args: string[]): Promise<{ code: number | string; output: string }> {
  const child = runMailroom(args, { ...commandEnvironment(db), LOG_LEVEL: "warn", PUBLIC_URL: "https://mail.example.org" });
  const code = await child.exited;
  return { code, output: child.output() };
}

/** A double opt-in list with members of the given statuses (one subscriber each); returns the list and subscriber ids. */
async function doubleOptInList(statuses: string[], senderId: string | null): Promise<{ listId: string; listName: string; subscribers: { id: string; email: string }[] }> {
  const listName = `Letters ${Math.random().toString(36).slice(2, 7)}`;
  const { rows } = await db.pool.query("insert into app_public.lists (name, opt_in, confirmation_sender_id) values ($1, 'double', $2) returning id", [listName, senderId]);
  const listId = rows[0].id as string;
  const subscribers: { id: string; email: string }[] = [];
  for (const [i, status] of statuses.entries()) {
    const email = `${listName.replace(/\W/g, "").toLowerCase()}-${i}@example.org`;
    const s = await db.pool.query("insert into app_public.subscribers (email, name) values ($1, $2) returning id", [email, `Person ${i}`]);
    await db.pool.query("insert into app_public.list_memberships (list_id, subscriber_id, status) values ($1, $2, $3)", [listId, s.rows[0].id, status]);
    subscribers.push({ id: s.rows[0].id as string, email });
  }
  return { listId, listName, subscribers };
}

async function membership(listId: string, subscriberId: string): Promise<{ status: string; confirmed_at: Date | null } | undefined> {
  const { rows } = await db.pool.query("select status, confirmed_at from app_public.list_memberships where list_id = $1 and subscriber_id = $2", [listId, subscriberId]);
  return rows[0];
}

async function confirmations(listId: string): Promise<{ id: string; subscriber_id: string; status: string; operation_id: string; internet_message_id: string; delivery_status: string | null; confirmed_at: Date | null }[]> {
  return (await db.pool.query("select * from app_public.confirmations where list_id = $1 order by subscriber_id, id", [listId])).rows;
}

/** The confirm link in an email the sandbox received (its HTML and its text part must both have it). */
async function confirmLinkOf(operationId: string): Promise<{ link: string; subject: string; headers: Record<string, string> }> {
  const response = await fetch(`${sandbox.controlUrl}/emails/${operationId}`);
  expect(response.status).toBe(200);
  const email = (await response.json()) as { content: { subject: string; html: string; plainText: string }; headers: Record<string, string> };
  const pattern = new RegExp(`${app.url}/confirm/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+`);
  const link = pattern.exec(email.content.html)?.[0];
  expect(link, email.content.html).toBeDefined();
  expect(email.content.plainText).toContain(link);
  return { link: link!, subject: email.content.subject, headers: email.headers };
}

function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() };
}

function from(ip: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), "x-forwarded-for": ip } };
}

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: QUIET_SANDBOX,
  });
  app = await startApp(db.pool, { secret: SECRET, rateWindowSeconds: 600, ratePerIp: 1000, ratePerAddress: 1000 });
  await sandbox.subscribe({ endpoint: `${app.url}/webhooks/acs?code=${TEST_SECRET}`, maxEventsPerBatch: 100 });
  // maxInlineWaitMs 0: a job that must wait for its quota is queued for later instead of sleeping.
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: app.url, unsubscribeSecret: SECRET, maxInlineWaitMs: 0 });
});

afterAll(async () => {
  await app?.close();
  await sandbox?.stop();
  await db?.drop();
});

describe("confirmation emails and links", () => {
  let sender: string;
  let list: Awaited<ReturnType<typeof doubleOptInList>>;
  const links = new Map<string, string>();

  test("sent through the sandbox within the sender's quota, each with its own Message-ID; reports recorded in no campaign", { timeout: 60_000 }, async () => {
    sender = await createSender(db.pool, { fromAddress: "hello@mail.example.com", perMinute: 2, perHour: 100 });
    list = await doubleOptInList(["unconfirmed", "unconfirmed", "unconfirmed", "confirmed", "unsubscribed"], sender);

    const first = await db.pool.query("select * from app_public.send_confirmations($1)", [list.listId]);
    expect(first.rows[0]).toEqual({ queued: 3, already_pending: 0, sent_recently: 0, blocklisted: 0 });
    const again = await db.pool.query("select * from app_public.send_confirmations($1)", [list.listId]);
    expect(again.rows[0]).toEqual({ queued: 0, already_pending: 3, sent_recently: 0, blocklisted: 0 });

    // Two fit in the sender's minute; the job is queued again for when the minute has room.
    await runQueuedJobs(db.pool, settings);
    let rows = await confirmations(list.listId);
    expect(rows.map((r) => r.status)).toEqual(["accepted", "accepted", "queued"]);
    const quota = await db.pool.query("select (app_public.senders_quota_use(s)).* from app_public.senders as s where s.id = $1", [sender]);
    expect(quota.rows[0]).toMatchObject({ sent_last_minute: 2, capacity_now: 0 });
    const waiting = await db.pool.query("select run_at > now() as later from graphile_worker._private_jobs where key = $1", [`send_confirmations:${sender}`]);
    expect(waiting.rows).toEqual([{ later: true }]);
    expect(sandbox.emails().filter((e) => rows.some((r) => r.operation_id === e.operationId))).toHaveLength(2);

    // A minute later (the reservations moved back), the third goes.
    await db.pool.query("update app_private.sender_sends set ends_at = ends_at - interval '61 seconds' where sender_id = $1", [sender]);
    await db.pool.query("update graphile_worker._private_jobs set run_at = now() where key = $1", [`send_confirmations:${sender}`]);
    await runQueuedJobs(db.pool, settings);
    rows = await confirmations(list.listId);
    expect(rows.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
    const reserved = await db.pool.query("select sum(sends)::int as sends, bool_and(settled) as settled from app_private.sender_sends where sender_id = $1", [sender]);
    expect(reserved.rows[0]).toEqual({ sends: 3, settled: true });

    // Delivery reports: on the confirmations; nothing pending, no message, no campaign.
    await sandbox.whenIdle(30_000);
    await runQueuedJobs(db.pool, settings);
    rows = await confirmations(list.listId);
    expect(rows.map((r) => r.delivery_status)).toEqual(["Delivered", "Delivered", "Delivered"]);
    expect((await db.pool.query("select count(*)::int as n from app_private.pending_events")).rows[0].n).toBe(0);
    expect((await db.pool.query("select count(*)::int as n from app_public.messages")).rows[0].n).toBe(0);

    for (const row of rows) {
      const email = await confirmLinkOf(row.operation_id);
      expect(email.subject).toBe(`Please confirm your subscription to ${list.listName}`);
      expect(email.headers["Message-ID"]).toBe(row.internet_message_id);
      links.set(row.subscriber_id, email.link);
    }
    expect(new Set(links.values()).size).toBe(3);
  });

  test("GET and HEAD of a link show a page and confirm nobody; a tampered token is a 404 that changes nothing", async () => {
    const [a] = list.subscribers;
    const link = links.get(a.id)!;
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(list.listName);
    expect(html).toContain(a.email);
    expect(html).toMatch(/<form method="post"><button type="submit">Confirm my subscription<\/button><\/form>/);
    const head = await fetch(link, { method: "HEAD" });
    expect(head.status).toBe(200);
    // A scanner following the link many times, with or without cookies.
    for (let i = 0; i < 3; i++) await fetch(link, { headers: { "user-agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" } });
    expect((await membership(list.listId, a.id))?.status).toBe("unconfirmed");

    const [base, mac] = link.split("/confirm/")[1].split(".");
    const flipped = `${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`;
    for (const token of [`${base}.${flipped}`, `${confirmationToken("another-secret-of-at-least-32-characters!!", 1)}`, "not-a-token", `${base}.${mac}x`]) {
      for (const method of ["GET", "POST"]) {
        const answer = await fetch(`${app.url}/confirm/${token}`, { method });
        expect(answer.status, `${method} ${token}`).toBe(404);
        expect(await answer.text()).toContain("This confirmation link is not valid");
      }
    }
    expect((await membership(list.listId, a.id))?.status).toBe("unconfirmed");
  });

  test("POST confirms once (idempotent); the confirmed member receives a campaign, the unconfirmed do not", { timeout: 60_000 }, async () => {
    const [a, b] = list.subscribers;
    const link = links.get(a.id)!;
    const answer = await fetch(link, { method: "POST" });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("You are subscribed");
    const confirmed = await membership(list.listId, a.id);
    expect(confirmed?.status).toBe("confirmed");
    expect(confirmed?.confirmed_at).not.toBeNull();
    const again = await fetch(link, { method: "POST" });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("You are subscribed");
    expect((await membership(list.listId, a.id))?.confirmed_at).toEqual(confirmed?.confirmed_at);
    const byLink = (await confirmations(list.listId)).filter((c) => c.confirmed_at !== null);
    expect(byLink.map((c) => c.subscriber_id)).toEqual([a.id]);
    expect((await membership(list.listId, b.id))?.status).toBe("unconfirmed");

    // A campaign to the list: the member confirmed before and the one confirmed now; not the two still unconfirmed
    // nor the unsubscribed one.
    const campaignSender = await createSender(db.pool, { perMinute: null, perHour: null });
    const campaignId = await createCampaign(db.pool, { senderId: campaignSender, listIds: [list.listId] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: app.url, unsubscribeSecret: SECRET }));
    const { rows } = await db.pool.query("select recipient, send_status from app_public.messages where campaign_id = $1 order by recipient", [campaignId]);
    expect(rows).toEqual([
      { recipient: list.subscribers[0].email, send_status: "accepted" },
      { recipient: list.subscribers[3].email, send_status: "accepted" },
    ]);
  });

  test("an old link does not re-subscribe a person who unsubscribed since, nor a blocklisted one", async () => {
    const [a, b, c] = list.subscribers;
    // a, confirmed by the link, then unsubscribed: the same link does nothing now.
    await db.pool.query("update app_public.list_memberships set status = 'unsubscribed' where list_id = $1 and subscriber_id = $2", [list.listId, a.id]);
    const old = await fetch(links.get(a.id)!, { method: "POST" });
    expect(old.status).toBe(200);
    expect(await old.text()).toContain("This link no longer subscribes you");
    expect((await membership(list.listId, a.id))?.status).toBe("unsubscribed");
    // b, unsubscribed before confirming.
    await db.pool.query("update app_public.list_memberships set status = 'unsubscribed' where list_id = $1 and subscriber_id = $2", [list.listId, b.id]);
    expect((await (await fetch(links.get(b.id)!)).text())).toContain("This link no longer subscribes you");
    await fetch(links.get(b.id)!, { method: "POST" });
    expect((await membership(list.listId, b.id))?.status).toBe("unsubscribed");
    // c, blocklisted.
    await db.pool.query("select app_public.blocklist_subscriber($1)", [c.id]);
    const blocked = await fetch(links.get(c.id)!, { method: "POST" });
    expect(await blocked.text()).toContain("This link can no longer be used");
    expect((await membership(list.listId, c.id))?.status).toBe("unconfirmed");
  });

  test("a confirmation that may no longer be sent is cancelled, not sent", async () => {
    const fresh = await doubleOptInList(["unconfirmed", "unconfirmed"], sender);
    await db.pool.query("update app_private.sender_sends set ends_at = ends_at - interval '61 seconds' where sender_id = $1", [sender]);
    expect((await db.pool.query("select (app_public.send_confirmations($1)).queued", [fresh.listId])).rows[0].queued).toBe(2);
    await db.pool.query("select app_public.confirm_list_members($1, $2)", [fresh.listId, [fresh.subscribers[0].email]]);
    await runQueuedJobs(db.pool, settings);
    const rows = await confirmations(fresh.listId);
    expect(rows.map((r) => [r.status, (r as unknown as { error: string | null }).error])).toEqual([
      ["cancelled", "not sent: already confirmed"],
      ["accepted", null],
    ]);
  });
});

describe("the public subscribe form", () => {
  let list: Awaited<ReturnType<typeof doubleOptInList>>;

  test("off by default: 404", async () => {
    const closed = await doubleOptInList([], null);
    expect((await fetch(`${app.url}/subscribe/${closed.listId}`)).status).toBe(404);
    expect((await fetch(`${app.url}/subscribe/${closed.listId}`, form({ email: "a@example.org" }))).status).toBe(404);
    expect((await fetch(`${app.url}/subscribe/nope`)).status).toBe(404);
    // A double opt-in list cannot take public subscriptions without a confirmation sender.
    await expect(db.pool.query("update app_public.lists set public_subscribe = true where id = $1", [closed.listId])).rejects.toThrow(/lists_public_subscribe_check/);
  });

  test("answers identically for a new, a confirmed, an unsubscribed and a blocklisted address; the blocklisted gets no email", { timeout: 60_000 }, async () => {
    const sender = await createSender(db.pool, { perMinute: null, perHour: null });
    list = await doubleOptInList(["confirmed", "unsubscribed"], sender);
    await db.pool.query("update app_public.lists set public_subscribe = true, description = 'News, monthly' where id = $1", [list.listId]);
    const blocked = await db.pool.query("insert into app_public.subscribers (email, status) values ('blocked@example.org', 'blocklisted') returning id");

    const page = await fetch(`${app.url}/subscribe/${list.listId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`Subscribe to ${list.listName}`);
    expect(html).toMatch(/<label for="email">Email address<\/label>\s*<input id="email" name="email" type="email"/);

    const answers: { status: number; body: string }[] = [];
    for (const email of ["new.person@example.org", list.subscribers[0].email, list.subscribers[1].email.toUpperCase(), "blocked@example.org"]) {
      const answer = await fetch(`${app.url}/subscribe/${list.listId}`, form({ email, name: "Someone" }));
      answers.push({ status: answer.status, body: await answer.text() });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0].status).toBe(200);
    expect(answers[0].body).toContain("Check your inbox");

    await runQueuedJobs(db.pool, settings);
    const { rows } = await db.pool.query(
      `select s.email, c.status, c.requested_by from app_public.confirmations as c join app_public.subscribers as s on s.id = c.subscriber_id
       where c.list_id = $1 order by s.email`,
      [list.listId],
    );
    // The new person, and the one who unsubscribed (asking to come back); not the confirmed one, not the blocklisted.
    expect(rows).toEqual([
      { email: list.subscribers[1].email, status: "accepted", requested_by: "subscribe form" },
      { email: "new.person@example.org", status: "accepted", requested_by: "subscribe form" },
    ]);
    expect(sandbox.emails().filter((e) => e.recipients.to.includes("blocked@example.org"))).toEqual([]);
    const newMember = await db.pool.query(
      "select lm.status, s.name from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id where lm.list_id = $1 and s.email = 'new.person@example.org'",
      [list.listId],
    );
    expect(newMember.rows).toEqual([{ status: "unconfirmed", name: "Someone" }]);
    expect((await db.pool.query("select count(*)::int as n from app_public.list_memberships where subscriber_id = $1", [blocked.rows[0].id])).rows[0].n).toBe(0);

    // Asked again at once: the same answer, no second email.
    const again = await fetch(`${app.url}/subscribe/${list.listId}`, form({ email: "new.person@example.org" }));
    expect({ status: again.status, body: await again.text() }).toEqual(answers[0]);
    await runQueuedJobs(db.pool, settings);
    expect((await db.pool.query("select count(*)::int as n from app_public.confirmations where list_id = $1", [list.listId])).rows[0].n).toBe(2);

    // The one who unsubscribed comes back through the new email's link.
    const operation = (await db.pool.query("select operation_id from app_public.confirmations where list_id = $1 and subscriber_id = $2", [list.listId, list.subscribers[1].id])).rows[0].operation_id;
    const { link } = await confirmLinkOf(operation);
    expect((await fetch(link, { method: "POST" })).status).toBe(200);
    expect((await membership(list.listId, list.subscribers[1].id))?.status).toBe("confirmed");
  });

  test("bad input: 400 with the reason on the page; the honeypot: the usual answer, nothing done", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ email: "" }, "Email is required."],
      [{ email: "not-an-address" }, "Email is not a valid address."],
      [{ email: `${"x".repeat(250)}@example.org` }, "Email is longer than 254 characters."],
      [{ email: "fine@example.org", name: "n".repeat(201) }, "Name is longer than 200 characters."],
    ];
    for (const [fields, reason] of cases) {
      const answer = await fetch(`${app.url}/subscribe/${list.listId}`, form(fields));
      expect(answer.status, reason).toBe(400);
      expect(await answer.text()).toContain(`<p class="problem" role="alert" id="problem">${reason}</p>`);
    }
    const trapped = await fetch(`${app.url}/subscribe/${list.listId}`, form({ email: "robot@example.org", website: "http://spam.example" }));
    expect(trapped.status).toBe(200);
    expect(await trapped.text()).toContain("Check your inbox");
    expect((await db.pool.query("select count(*)::int as n from app_public.subscribers where email in ('robot@example.org', 'fine@example.org')")).rows[0].n).toBe(0);
  });

  test("a single opt-in list: subscribed at once, no email", async () => {
    const { rows } = await db.pool.query("insert into app_public.lists (name, opt_in, public_subscribe) values ('Open list', 'single', true) returning id");
    const answer = await fetch(`${app.url}/subscribe/${rows[0].id}`, form({ email: "open@example.org" }));
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("it is subscribed");
    const member = await db.pool.query(
      "select lm.status from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id where lm.list_id = $1 and s.email = 'open@example.org'",
      [rows[0].id],
    );
    expect(member.rows).toEqual([{ status: "confirmed" }]);
    expect((await db.pool.query("select count(*)::int as n from app_public.confirmations where list_id = $1", [rows[0].id])).rows[0].n).toBe(0);
  });

  test("rate limited per client address and per email address: 429 with Retry-After after N", async () => {
    const limited = await startApp(db.pool, { secret: SECRET, rateWindowSeconds: 600, ratePerIp: 3, ratePerAddress: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const answer = await fetch(`${limited.url}/subscribe/${list.listId}`, from("203.0.113.7", form({ email: `ip-${i}@example.org` })));
        statuses.push(answer.status);
        if (answer.status === 429) {
          const retryAfter = Number(answer.headers.get("retry-after"));
          expect(retryAfter).toBeGreaterThan(0);
          expect(retryAfter).toBeLessThanOrEqual(600);
          expect(await answer.text()).toContain("Too many subscription requests");
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // Another client is not held back by the first.
      expect((await fetch(`${limited.url}/subscribe/${list.listId}`, from("203.0.113.8", form({ email: "other@example.org" })))).status).toBe(200);
      // One address from many clients: two, then 429.
      const perAddress: number[] = [];
      for (let i = 0; i < 3; i++) {
        perAddress.push((await fetch(`${limited.url}/subscribe/${list.listId}`, from(`198.51.100.${i + 1}`, form({ email: "Target@example.org" })))).status);
      }
      expect(perAddress).toEqual([200, 200, 429]);
      // Only the accepted submissions did anything.
      const made = await db.pool.query("select count(*)::int as n from app_public.subscribers where email like 'ip-%@example.org'");
      expect(made.rows[0].n).toBe(3);
    } finally {
      await limited.close();
    }
  });

  test("the database unreachable: a 503 page with Retry-After", async () => {
    const dead = new pg.Pool({ connectionString: "postgres://nobody:nothing@127.0.0.1:1/none", connectionTimeoutMillis: 2000 });
    dead.on("error", () => undefined);
    const down = await startApp(dead, { secret: SECRET });
    try {
      for (const [path, init] of [
        [`/confirm/${confirmationToken(SECRET, 1)}`, {}],
        [`/confirm/${confirmationToken(SECRET, 1)}`, { method: "POST" }],
        [`/subscribe/${list.listId}`, {}],
        [`/subscribe/${list.listId}`, form({ email: "a@example.org" })],
      ] as [string, RequestInit][]) {
        const answer = await fetch(`${down.url}${path}`, init);
        expect(answer.status, path).toBe(503);
        expect(answer.headers.get("retry-after")).toBe("30");
        expect(await answer.text()).toContain("Nothing was changed");
      }
    } finally {
      await down.close();
      await dead.end();
    }
  });
});

describe("commands", () => {
  test("lists set-opt-in: the sender, content checked by the database, the public form", { timeout: 60_000 }, async () => {
    const sender = await createSender(db.pool, { fromAddress: "confirm@mail.example.com" });
    const list = await doubleOptInList(["unconfirmed"], null);
    const shown = await mailroom("lists", "set-opt-in", list.listId, "--confirmation-sender", sender, "--subject", "Confirm {{ list.name }}", "--public-subscribe", "on", "--resend-after", "30", "--json");
    expect(shown.code, shown.output).toBe(0);
    expect(JSON.parse(shown.output)).toMatchObject({
      id: list.listId,
      optIn: "double",
      confirmationSenderId: sender,
      confirmationSender: "confirm@mail.example.com",
      confirmationSubject: "Confirm {{ list.name }}",
      confirmationHtml: null,
      confirmationResendMinutes: 30,
      publicSubscribe: true,
      subscribeUrl: `https://mail.example.org/subscribe/${list.listId}`,
      unconfirmed: 1,
    });
    const text = await mailroom("lists", "set-opt-in", list.listName);
    expect(text.code).toBe(0);
    expect(text.output).toMatch(new RegExp(`public subscribe: +on: https://mail\\.example\\.org/subscribe/${list.listId}\n`));

    const bad = await mailroom("lists", "set-opt-in", list.listId, "--subject", "Hi {{ campaign.name }}");
    expect(bad.code).toBe(4);
    expect(bad.output).toContain('unknown field "campaign.name"');
    const noSender = await mailroom("lists", "set-opt-in", list.listId, "--confirmation-sender", "999999");
    expect(noSender.code).toBe(3);
    expect((await mailroom("lists", "set-opt-in", "No such list")).code).toBe(3);
  });

  test("lists send-confirmations prints the count; a list without a confirmation sender is refused", { timeout: 60_000 }, async () => {
    const sender = await createSender(db.pool);
    const list = await doubleOptInList(["unconfirmed", "unconfirmed", "confirmed"], sender);
    const sent = await mailroom("lists", "send-confirmations", list.listId);
    expect(sent.code, sent.output).toBe(0);
    expect(sent.output).toContain(`Queued 2 confirmation emails for list ${list.listId}`);
    const json = await mailroom("lists", "send-confirmations", list.listName, "--json");
    expect(JSON.parse(json.output)).toEqual({ listId: list.listId, listName: list.listName, queued: 0, alreadyPending: 2, sentRecently: 0, blocklisted: 0 });
    const without = await doubleOptInList(["unconfirmed"], null);
    const refused = await mailroom("lists", "send-confirmations", without.listId);
    expect(refused.code).toBe(4);
    expect(refused.output).toContain("has no confirmation sender");
  });

  test("subscribers confirm: counts of confirmed, already confirmed, not members, left alone", { timeout: 60_000 }, async () => {
    const list = await doubleOptInList(["unconfirmed", "unconfirmed", "confirmed", "unsubscribed", "unconfirmed", "unconfirmed"], null);
    const s = list.subscribers;
    await db.pool.query("select app_public.blocklist_subscriber($1)", [s[4].id]);
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "confirm-")), "people.csv");
    fs.writeFileSync(file, `name,email\nA,${s[0].email}\nA again,${s[0].email.toUpperCase()}\nC,${s[2].email}\nD,${s[3].email}\nE,${s[4].email}\nX,stranger@example.org\n`);
    const byFile = await mailroom("subscribers", "confirm", "--list", list.listId, "--file", file, "--json");
    expect(byFile.code, byFile.output).toBe(0);
    expect(JSON.parse(byFile.output)).toEqual({ listId: list.listId, listName: list.listName, addresses: 5, confirmed: 1, alreadyConfirmed: 1, notMembers: 1, leftAlone: 2 });

    const byArgs = await mailroom("subscribers", "confirm", "--list", list.listName, s[1].email, s[0].email);
    expect(byArgs.code).toBe(0);
    expect(byArgs.output).toMatch(/confirmed now\s+1\n\s+confirmed already\s+1\n\s+not members\s+0\n\s+left alone\s+0/);

    const all = await mailroom("subscribers", "confirm", "--list", list.listId, "--all", "--json");
    expect(JSON.parse(all.output)).toMatchObject({ addresses: null, confirmed: 1, alreadyConfirmed: 3, notMembers: 0, leftAlone: 2 });
    const statuses = await db.pool.query("select subscriber_id, status from app_public.list_memberships where list_id = $1 order by subscriber_id", [list.listId]);
    expect(statuses.rows.map((r) => r.status)).toEqual(["confirmed", "confirmed", "confirmed", "unsubscribed", "unconfirmed", "confirmed"]);

    expect((await mailroom("subscribers", "confirm", "--list", list.listId)).code).toBe(2);
    expect((await mailroom("subscribers", "confirm", "--list", list.listId, "--all", s[0].email)).code).toBe(2);
  });
});

describe("GraphQL", () => {
  test("sendConfirmations, confirmListMembers, confirmAllListMembers for admins only; the list's opt-in columns", { timeout: 60_000 }, async () => {
    const api = await startGraphqlServer(db, { production: true });
    try {
      const [admin, analyst] = [await apiKey(db, "admin"), await apiKey(db, "analyst")];
      const sender = await createSender(db.pool);
      const list = await doubleOptInList(["unconfirmed", "unconfirmed", "unconfirmed"], null);
      const update = await api.query(
        admin,
        `mutation($id: BigInt!, $sender: BigInt!) { updateListById(input: { id: $id, listPatch: { confirmationSenderId: $sender, publicSubscribe: true } }) {
           list { publicSubscribe confirmationSenderId } } }`,
        { id: list.listId, sender },
      );
      expect(update.errors).toBeUndefined();
      expect(update.data!.updateListById.list).toEqual({ publicSubscribe: true, confirmationSenderId: sender });

      const SEND = `mutation($id: BigInt!) { sendConfirmations(input: { listId: $id }) { result { queued alreadyPending sentRecently blocklisted } } }`;
      const sent = await api.query(admin, SEND, { id: list.listId });
      expect(sent.errors).toBeUndefined();
      expect(sent.data!.sendConfirmations.result).toEqual({ queued: 3, alreadyPending: 0, sentRecently: 0, blocklisted: 0 });
      const CONFIRM = `mutation($id: BigInt!, $emails: [String]!) { confirmListMembers(input: { listId: $id, emails: $emails }) { result { confirmed alreadyConfirmed notMembers leftAlone } } }`;
      const confirmed = await api.query(admin, CONFIRM, { id: list.listId, emails: [list.subscribers[0].email, "nobody@example.org"] });
      expect(confirmed.errors).toBeUndefined();
      expect(confirmed.data!.confirmListMembers.result).toEqual({ confirmed: 1, alreadyConfirmed: 0, notMembers: 1, leftAlone: 0 });
      const all = await api.query(admin, `mutation($id: BigInt!) { confirmAllListMembers(input: { listId: $id }) { result { confirmed alreadyConfirmed } } }`, { id: list.listId });
      expect(all.data!.confirmAllListMembers.result).toEqual({ confirmed: 2, alreadyConfirmed: 1 });

      const read = await api.query(analyst, `query($id: BigInt!) { listById(id: $id) { confirmationsByListId { totalCount } } }`, { id: list.listId });
      expect(read.errors).toBeUndefined();
      expect(read.data!.listById.confirmationsByListId.totalCount).toBe(3);
      for (const [query, variables] of [[SEND, { id: list.listId }], [CONFIRM, { id: list.listId, emails: ["a@example.org"] }]] as const) {
        const refused = await api.query(analyst, query, variables);
        expect(refused.errors?.[0]?.message ?? "").toMatch(/permission denied|not allowed|Cannot query field/i);
      }
    } finally {
      await api.close();
    }
  });
});
