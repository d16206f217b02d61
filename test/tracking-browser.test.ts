// Mailroom's own tracking as a recipient meets it: the HTML of an email the sandbox received, opened in headless
// Chromium. Its pixel records exactly one open; clicking a link lands on the link's page and records one human
// click; a HEAD request, a hit from a listed scanner range and the honeypot are recorded as machine, with their
// reasons (on a second message, so that the honeypot's burst leaves the person's click alone).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";
import { QUIET_SANDBOX, createCampaign, createList, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";
import { waitFor } from "./helpers/wait.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let settings: SendingSettings;
let site: http.Server;
let siteUrl: string;
const siteHits = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDatabase();
  // The links' own site, where a click must land.
  site = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    siteHits.set(pathname, (siteHits.get(pathname) ?? 0) + 1);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>${pathname}</title><h1>Landed on ${pathname}</h1>`);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // No engagement of the sandbox's own: every open and click here is the browser's or the test's.
  sandbox = await startSandbox({
    settings: QUIET_SANDBOX,
  });
  // The tracking secret generated in the database, shared by the send task and the endpoint.
  receiver = await startReceiver(db.pool, { trustProxy: "loopback" });
  await sandbox.subscribe({ endpoint: `${receiver.url}/webhooks/acs?code=${TEST_SECRET}`, maxEventsPerBatch: 100 });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: receiver.url, unsubscribeSecret: undefined });
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.stop();
  await new Promise((resolve) => site?.close(resolve));
  await db?.drop();
});

test("a recipient's browser: one open, one human click landing on the link; HEAD, scanner range and honeypot are machine", { timeout: 60_000 }, async () => {
  const senderId = await createSender(db.pool);
  await db.pool.query("update app_public.senders set engagement_tracking = 'mailroom' where id = $1", [senderId]);
  const listId = await createList(db.pool, 2);
  const campaignId = await createCampaign(db.pool, {
    senderId,
    listIds: [listId],
    html: `<html><body><h1>Hello {{ subscriber.name }}</h1>
<p><a id="news" href="${siteUrl}/news?from=email&amp;id={{ subscriber.id }}">Read the news</a></p>
<p><a id="offers" href="${siteUrl}/offers">See the offers</a></p>
<p><a id="unsubscribe" href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`,
  });
  await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
  await runSending(db.pool, settings);
  await sandbox.whenIdle(30_000);
  await runQueuedJobs(db.pool);
  const { rows: messages } = await db.pool.query(
    "select id, operation_id, subscriber_id, accepted_at, delivery_status, delivery_status_at from app_public.messages where campaign_id = $1 order by id",
    [campaignId],
  );
  expect(messages.map((m) => m.delivery_status)).toEqual(["Delivered", "Delivered"]);
  // A person opens an email seconds after it arrives, not within the 2 s that only machines manage.
  const latest = Math.max(...messages.flatMap((m) => [new Date(m.accepted_at).getTime(), new Date(m.delivery_status_at).getTime()]));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, latest + 2500 - Date.now())));

  // The email as the sandbox received it, through its control API.
  const emailOf = async (operationId: string) => {
    const response = await fetch(`${sandbox.controlUrl}/emails/${operationId}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { content: { html: string; plainText: string }; headers: Record<string, string> };
  };
  const [first, second] = [await emailOf(messages[0].operation_id), await emailOf(messages[1].operation_id)];
  expect(first.content.html).toContain(`${receiver.url}/t/o/`);
  expect(first.content.html).not.toContain(`${siteUrl}/news`);
  expect(first.content.html).toContain(`${receiver.url}/unsubscribe/`);
  expect(first.headers["List-Unsubscribe"] ?? first.headers["list-unsubscribe"]).toMatch(/\/unsubscribe\//);

  const events = async (messageId: string) =>
    (await db.pool.query(
      "select engagement_type, engagement_source, url, machine_reason, honeypot from app_public.message_events where message_id = $1 and kind = 'engagement' order by raw_event_id",
      [messageId],
    )).rows;

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    // A person's browser: headless Chromium's own user agent says HeadlessChrome, which is a machine's (and is
    // recorded as one: checked in test/tracking.test.ts's reasons).
    await page.setUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
    await page.setContent(first.content.html, { waitUntil: "load" });
    await runQueuedJobs(db.pool);
    expect(await events(messages[0].id)).toEqual([{ engagement_type: "view", engagement_source: "mailroom", url: null, machine_reason: null, honeypot: false }]);

    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#news")]);
    expect(page.url()).toBe(`${siteUrl}/news?from=email&id=${messages[0].subscriber_id}`);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("Landed on /news");
    expect(siteHits.get("/news")).toBe(1);
  } finally {
    await browser.close();
  }
  await runQueuedJobs(db.pool);
  expect(await events(messages[0].id)).toEqual([
    { engagement_type: "view", engagement_source: "mailroom", url: null, machine_reason: null, honeypot: false },
    { engagement_type: "click", engagement_source: "mailroom", url: `${siteUrl}/news?from=email&id=${messages[0].subscriber_id}`, machine_reason: null, honeypot: false },
  ]);

  // Machines on the second message: a HEAD of a link, the pixel from a listed scanner's address, the honeypot.
  const hrefs = [...second.content.html.matchAll(/<a [^>]*href="([^"]+)"([^>]*)>/g)].map((m) => ({ href: m[1], hidden: /aria-hidden="true"/.test(m[2]) }));
  const offers = hrefs.find((h) => !h.hidden && h.href.includes("/t/c/") && h !== hrefs.find((x) => !x.hidden && x.href.includes("/t/c/")));
  const honeypot = hrefs.find((h) => h.hidden);
  const pixel = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(second.content.html)?.[1];
  expect(offers && honeypot && pixel).toBeTruthy();
  expect((await fetch(offers!.href, { method: "HEAD", redirect: "manual" })).headers.get("location")).toBe(`${siteUrl}/offers`);
  expect((await fetch(pixel!, { headers: { "x-forwarded-for": "40.107.22.7" } })).status).toBe(200);
  expect((await fetch(honeypot!.href, { redirect: "manual" })).status).toBe(200);
  await runQueuedJobs(db.pool);
  const machine = await events(messages[1].id);
  expect(machine.map((e) => [e.engagement_type, e.machine_reason])).toEqual([
    ["click", "HEAD request"],
    ["view", "IP range: link scanner (40.107.0.0/16, Microsoft Exchange Online Protection (Defender Safe Links))"],
    ["click", "honeypot link"],
  ]);

  const rollup = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
  expect(rollup).toMatchObject({ opens_human: "1", opens: "2", clicks_human: "1", clicks: "3", opens_human_mailroom: "1", clicks_human_mailroom: "1", opens_human_azure: "0" });
  expect((await db.pool.query("select * from app_public.campaign_rollup_from_events($1)", [campaignId])).rows[0]).toEqual(rollup);
  await waitFor(() => siteHits.get("/news") === 1, 1000, "the landing page was hit once");
});
