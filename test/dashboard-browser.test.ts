// The dashboard in headless Chromium: signing in with each role through the form, the campaign page's numbers
// equal to the ledger's (campaign_rollups), the numbers and the chart following the sandbox's delivery reports and
// engagement without a reload, no pause button for an analyst and a forged pause refused, an admin's pause through
// the page, signing out ending the session; each page screenshotted at a desktop and a phone width into
// docs/screenshots/ (linked from the README).
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import pino from "pino";
import type pg from "pg";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { formatCount, formatShare } from "../src/dashboard/pages.ts";
import { createApiKey } from "../src/graphql/api-keys.ts";
import { createHttpApp } from "../src/http/app.ts";
import { createWebhookAuthenticator } from "../src/http/webhook-auth.ts";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { endPool, testPool } from "./helpers/pg.ts";
import { runQueuedJobs, TEST_SECRET } from "./helpers/receiver.ts";
import { campaignStatus, createCampaign, createList, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";
import { waitFor } from "./helpers/wait.ts";

const SCREENSHOTS = path.join(projectRoot, "docs", "screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

let db: TestDatabase;
let authPool: pg.Pool;
let sandbox: Sandbox;
let server: http.Server;
let url: string;
let settings: SendingSettings;
let browser: Browser;
const keys: Record<string, string> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  authPool = testPool({ connectionString: db.authUrl, max: 10 });
  const app = createHttpApp({
    pool: db.pool,
    log: pino({ level: "silent" }),
    shuttingDown: () => false,
    webhook: { authenticator: createWebhookAuthenticator([TEST_SECRET], undefined), maxBodyBytes: 1024 * 1024 },
    dashboard: { pool: authPool, roles: db.roles, sessionHours: 12 },
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The sandbox's time runs 20 times faster: delivery reports 2 to 5 s after sending, engagement 1 to 3 s after
  // delivery and clicks up to 6 s later, so that the page is open before anything comes back.
  sandbox = await startSandbox({
    settings: {
      seed: 1812,
      quotaPerMinute: null,
      quotaPerHour: null,
      timeScale: 0.05,
      viewProbability: 0.7,
      clickProbability: 0.4,
      machineOpenProbability: 0.3,
      scannerClickProbability: 0.1,
      unsubscribeRate: 0.05,
      deliveryDelaySeconds: [40, 100],
      engagementDelaySeconds: [20, 60],
      statusMix: { Delivered: 0.85, Expanded: 0, Bounced: 0.06, Suppressed: 0.03, FilteredSpam: 0.02, Quarantined: 0, Failed: 0.04 },
    },
  });
  await sandbox.subscribe({ endpoint: `${url}/webhooks/acs?code=${TEST_SECRET}`, maxEventsPerBatch: 20 });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: url, unsubscribeSecret: undefined });
  keys.admin = (await createApiKey(db.pool, { name: "Ada", role: "admin" })).key;
  keys.analyst = (await createApiKey(db.pool, { name: "Grace", role: "analyst" })).key;
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (authPool) await endPool(authPool);
  await db?.drop();
});

/** A fresh browser profile (its own cookies), signed in with `key` through the sign-in form. */
async function signedIn(key: string): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.setViewport(DESKTOP);
  await page.goto(`${url}/`);
  await page.type("#api-key", key);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-in"] button')]);
  expect(new URL(page.url()).pathname).toBe("/campaigns");
  return { page, errors, close: () => context.close() };
}

const cell = (page: Page, name: string) => page.$eval(`[data-cell="${name}"]`, (element) => element.textContent);

async function rollup(campaignId: string): Promise<Record<string, number>> {
  const { rows } = await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId]);
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
}

/** The cells of the campaign page that must equal the ledger, as the page formats them. */
function ledgerCells(r: Record<string, number>): Record<string, string> {
  return {
    recipients: formatCount(r.recipients!),
    accepted: formatCount(r.accepted!),
    delivered: formatCount(r.delivered!),
    "delivered-share": formatShare(r.delivered!, r.recipients!),
    "opened-human": formatCount(r.unique_opens_human!),
    "opened-machine": formatCount(r.unique_opens! - r.unique_opens_human!),
    "clicked-human": formatCount(r.unique_clicks_human!),
    "clicked-machine": formatCount(r.unique_clicks! - r.unique_clicks_human!),
    "opens-human": formatCount(r.opens_human!),
    "opens-machine": formatCount(r.opens! - r.opens_human!),
    "clicks-human": formatCount(r.clicks_human!),
    "clicks-machine": formatCount(r.clicks! - r.clicks_human!),
    "bounced-hard": formatCount(r.bounced_hard!),
    "bounced-soft": formatCount(r.bounced_soft!),
    suppressed: formatCount(r.suppressed!),
    unsubscribes: formatCount(r.unsubscribes!),
    complaints: formatCount(r.complaints!),
  };
}

async function pageCells(page: Page, names: string[]): Promise<Record<string, string>> {
  const cells: Record<string, string> = {};
  for (const name of names) cells[name] = (await cell(page, name)) ?? "";
  return cells;
}

/**
 * What every page must have: a language, a viewport, one h1 and no heading level skipped, a label for every input and
 * select, a scope on every table header cell, a caption on every table, text contrast of WCAG AA, and no page wider
 * than a phone.
 */
async function checkAccessible(page: Page): Promise<void> {
  const facts = (await page.evaluate(`(() => {
    const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => Number(h.tagName[1]));
    const unlabelled = [...document.querySelectorAll("input:not([type=hidden]), select")].filter((i) => i.labels.length === 0).map((i) => i.outerHTML);
    // The chart (uPlot's canvas and legend) is hidden from assistive technology: its table under it stands for it.
    const shown = (element) => !element.closest('[aria-hidden="true"]');
    const unscoped = [...document.querySelectorAll("table th")].filter(shown).filter((th) => !th.getAttribute("scope")).map((th) => th.outerHTML);
    const uncaptioned = [...document.querySelectorAll("table")].filter(shown).filter((t) => !t.caption).length;
    // WCAG AA contrast of every element with text of its own: 4.5:1, or 3:1 for large text.
    const rgb = (color) => (color.match(/[0-9.]+/g) ?? [0, 0, 0, 0]).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
      .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (element) => {
      for (let e = element; e; e = e.parentElement) {
        const color = rgb(getComputedStyle(e).backgroundColor);
        if (color.length < 4 || color[3] > 0) return color;
      }
      return [255, 255, 255];
    };
    const lowContrast = [...document.querySelectorAll("body *")].filter(shown).filter((e) =>
      [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== "") && e.getClientRects().length > 0,
    ).flatMap((e) => {
      const style = getComputedStyle(e);
      const [l1, l2] = [luminance(rgb(style.color)), luminance(background(e))].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      return ratio < (large ? 3 : 4.5) ? [e.tagName + " " + e.textContent.trim().slice(0, 40) + " " + ratio.toFixed(2)] : [];
    });
    return { lang: document.documentElement.lang, viewport: !!document.querySelector('meta[name="viewport"]'), headings, unlabelled, unscoped, uncaptioned, lowContrast };
  })()`)) as { lang: string; viewport: boolean; headings: number[]; unlabelled: string[]; unscoped: string[]; uncaptioned: number; lowContrast: string[] };
  expect(facts).toMatchObject({ lang: "en", viewport: true, unlabelled: [], unscoped: [], uncaptioned: 0, lowContrast: [] });
  expect(facts.headings.filter((h) => h === 1)).toHaveLength(1);
  expect(facts.headings[0]).toBe(1);
  facts.headings.forEach((level, i) => i > 0 && expect(level - facts.headings[i - 1]!).toBeLessThanOrEqual(1));
  await page.setViewport(PHONE);
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(PHONE.width);
  await page.setViewport(DESKTOP);
}

/** Full-page screenshots at the desktop and the phone width: docs/screenshots/<name>.png and <name>-phone.png. */
async function screenshots(page: Page, name: string): Promise<void> {
  await checkAccessible(page);
  await page.setViewport(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
  await page.setViewport(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-phone.png`) as `${string}.png`, fullPage: true });
  await page.setViewport(DESKTOP);
}

test("a campaign page follows the sandbox live; analysts see no control; admins pause; signing out ends the session", { timeout: 180_000 }, async () => {
  const senderId = await createSender(db.pool, { fromAddress: "news@mail.example.com" });
  await db.pool.query("update app_public.senders set name = 'Newsletter' where id = $1", [senderId]);
  const listId = await createList(db.pool, 60);
  const campaignId = await createCampaign(db.pool, {
    senderId,
    listIds: [listId],
    name: "December news",
    html: '<p>Dear {{ subscriber.name }},</p><p><a href="https://example.org/news">The news</a> · <a href="https://example.org/offers">Offers</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
  });
  await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
  await runSending(db.pool, settings);
  // Sent: accepted by the sandbox, and nothing received back yet.
  const sent = await rollup(campaignId);
  expect(sent.accepted).toBe(60);
  expect(sent.delivered).toBe(0);

  // The analyst opens the report before any delivery report has been ingested.
  const analyst = await signedIn(keys.analyst!);
  const page = analyst.page;
  await page.goto(`${url}/campaigns/${campaignId}`);
  expect(await cell(page, "delivered")).toBe("0");
  expect(await cell(page, "accepted")).toBe("60");
  // Engagement may be reported before delivery (Azure does so too): the chart is empty only while there is none.
  expect(await page.$eval("#chart-empty", (p) => p.hasAttribute("hidden"))).toBe(sent.opens + sent.clicks > 0);
  expect(await page.$eval("#chart-empty", (p) => p.textContent)).toBe("No engagement yet.");
  const seriesBefore = await page.$eval("#series-rows", (body) => body.textContent);
  await page.waitForFunction('document.getElementById("live-status").textContent.startsWith("Live")', { timeout: 10_000 });
  const loadedAt = await page.evaluate(() => performance.timeOrigin);
  // No control for an analyst.
  expect(await page.$("[data-action]")).toBeNull();
  expect(await page.$(`a[href="/campaigns/${campaignId}/cancel"]`)).toBeNull();

  // Events arrive and are ingested as a worker would: the page follows without a reload.
  let ingesting = true;
  const ingest = (async () => {
    while (ingesting) {
      await runQueuedJobs(db.pool, settings);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await page.waitForFunction(`document.querySelector('[data-cell="delivered"]').textContent !== "0"`, { timeout: 30_000 });
    // The chart appears once the first opens are counted, and its numbers change as more arrive.
    await page.waitForSelector("#chart canvas", { timeout: 30_000 });
    await page.waitForFunction((before: string | null) => (globalThis as any).document.getElementById("series-rows").textContent !== before, { timeout: 30_000 }, seriesBefore);
    expect(await page.$eval("#chart-empty", (p) => p.hasAttribute("hidden"))).toBe(true);
    await sandbox.whenIdle(60_000);
  } finally {
    ingesting = false;
    await ingest;
  }
  await runQueuedJobs(db.pool, settings);
  const done = await rollup(campaignId);
  expect(done.delivered).toBeGreaterThan(0);
  expect(done.opens).toBeGreaterThan(0);
  const expected = ledgerCells(done);
  await waitFor(async () => JSON.stringify(await pageCells(page, Object.keys(expected))) === JSON.stringify(expected), 15_000, "the page's numbers to equal the ledger's");
  expect(await pageCells(page, Object.keys(expected))).toEqual(expected);
  // The chart's table alternative adds up to the ledger's opens and clicks.
  const hours = await page.$$eval("#series-rows tr", (rows) => rows.map((row) => [...row.querySelectorAll("td")].map((td) => Number(td.textContent!.replace(/,/g, "")))));
  expect(hours.length).toBeGreaterThan(0);
  expect([hours.reduce((n, h) => n + h[0]!, 0), hours.reduce((n, h) => n + h[1]!, 0), hours.reduce((n, h) => n + h[2]!, 0), hours.reduce((n, h) => n + h[3]!, 0)]).toEqual([
    done.opens,
    done.opens_human,
    done.clicks,
    done.clicks_human,
  ]);
  // The same document all along: never reloaded.
  expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
  expect(await campaignStatus(db.pool, campaignId)).toBe("finished");

  // A forged pause from the analyst's page, with its session's valid CSRF token and origin: the database refuses.
  const running = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 3)], name: "Weekly digest" });
  await db.pool.query("select app_public.start_campaign($1)", [running]);
  await page.goto(`${url}/campaigns/${running}`);
  expect(await page.$("[data-action]")).toBeNull();
  expect(analyst.errors).toEqual([]);
  const csrf = await page.$eval('input[name="csrf"]', (input) => input.getAttribute("value"));
  const forged = await page.evaluate(async (id, token) => {
    const response = await fetch(`/campaigns/${id}/pause`, { method: "POST", body: new URLSearchParams({ csrf: token! }) });
    return { status: response.status, text: await response.text() };
  }, running, csrf);
  expect(forged.status).toBe(403);
  expect(forged.text).toContain("permission denied for function pause_campaign");
  expect(await campaignStatus(db.pool, running)).toBe("running");
  analyst.errors.length = 0; // the console's line about the 403

  // The admin pauses it from the page.
  const admin = await signedIn(keys.admin!);
  await admin.page.goto(`${url}/campaigns/${running}`);
  await Promise.all([admin.page.waitForNavigation(), admin.page.click('[data-action="pause"]')]);
  expect(new URL(admin.page.url()).pathname).toBe(`/campaigns/${running}`);
  expect(await cell(admin.page, "status")).toBe("paused");
  expect(await campaignStatus(db.pool, running)).toBe("paused");
  expect(await admin.page.$('[data-action="resume"]')).not.toBeNull();
  await screenshots(admin.page, "campaign-admin");
  // Cancelling asks first.
  await Promise.all([admin.page.waitForNavigation(), admin.page.click(`a[href="/campaigns/${running}/cancel"]`)]);
  expect(await admin.page.$eval("h1", (h) => h.textContent)).toBe("Cancel Weekly digest?");
  expect(await campaignStatus(db.pool, running)).toBe("paused");
  await Promise.all([admin.page.waitForNavigation(), admin.page.click('[data-action="cancel"]')]);
  expect(await campaignStatus(db.pool, running)).toBe("cancelled");
  expect(admin.errors).toEqual([]);
  await admin.close();

  // Every page, at a desktop and a phone width.
  await page.goto(`${url}/campaigns/${campaignId}`);
  await page.waitForSelector("#chart canvas");
  await page.waitForFunction('document.getElementById("live-status").textContent.startsWith("Live")');
  await screenshots(page, "campaign");
  await page.goto(`${url}/campaigns`);
  await screenshots(page, "campaigns");
  const email = (await db.pool.query(
    `select s.email from app_public.messages as m join app_public.subscribers as s on s.id = m.subscriber_id
     where m.campaign_id = $1 and m.clicks_human > 0 order by m.id limit 1`,
    [campaignId],
  )).rows[0]?.email ?? "";
  await page.goto(`${url}/subscribers?q=${encodeURIComponent(email)}`);
  expect(await page.$eval("main h2", (h) => h.textContent)).toBe(email);
  await screenshots(page, "subscriber");
  await page.goto(`${url}/senders`);
  await screenshots(page, "senders");
  // An event of a message Mailroom never sent (another system on the same Azure resource): unattributed.
  await db.pool.query("select app_private.ingest_events($1)", [
    JSON.stringify({
      schema: "eventgrid",
      receivedAt: new Date().toISOString(),
      deliveryCount: 0,
      events: [{
        id: "foreign-1",
        topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
        subject: "sender/other@elsewhere.example.com/message/00000000-0000-4000-8000-000000000001",
        eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
        eventTime: new Date().toISOString(),
        dataVersion: "1.0",
        metadataVersion: "1",
        data: {
          sender: "other@elsewhere.example.com",
          recipient: "someone@example.org",
          messageId: "00000000-0000-4000-8000-000000000001",
          status: "Delivered",
          deliveryStatusDetails: { statusMessage: "No error." },
          deliveryAttemptTimestamp: new Date().toISOString(),
        },
      }],
    }),
  ]);
  await page.goto(`${url}/health`);
  expect(await page.$eval('[data-figure="unattributed"]', (dd) => dd.textContent)).toBe("1");
  await screenshots(page, "health");
  // Keyboard: the first Tab reaches the skip link, which leads to the content.
  await page.keyboard.press("Tab");
  expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to the content");
  // Visible once focused: on the page, not above it.
  expect(await page.evaluate("document.activeElement.getBoundingClientRect().top")).toBeGreaterThanOrEqual(0);
  await page.keyboard.press("Enter");
  expect(await page.evaluate("document.activeElement.id")).toBe("main");
  expect(analyst.errors).toEqual([]);

  // Signing out ends the session: the pages send the browser to the sign-in form, and the old cookie is refused.
  const cookie = (await page.browserContext().cookies()).find((c) => c.name === "mailroom_session")!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-out"] button')]);
  expect(await page.$eval("main", (m) => m.textContent)).toContain("You have signed out.");
  await page.goto(`${url}/campaigns/${campaignId}`);
  expect(new URL(page.url()).pathname).toBe("/");
  expect(await page.$("#api-key")).not.toBeNull();
  const replay = await fetch(`${url}/campaigns`, { headers: { cookie: `mailroom_session=${cookie.value}` }, redirect: "manual" });
  expect(replay.status).toBe(303);
  expect(replay.headers.get("location")).toBe("/?session=ended");
  await page.setViewport(DESKTOP);
  await page.goto(`${url}/`);
  await screenshots(page, "sign-in");
  await analyst.close();
});
