// Double opt-in as a person meets it, in headless Chromium: the public subscribe form filled in and submitted (the
// honeypot field out of sight), the confirmation email the sandbox received, its link opened (a page, nothing
// changed yet), the "Confirm my subscription" button pressed (confirmed).
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES } from "../src/config.ts";
import { createHttpApp } from "../src/http/app.ts";
import { createWebhookAuthenticator } from "../src/http/webhook-auth.ts";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runQueuedJobs, TEST_SECRET } from "./helpers/receiver.ts";
import { QUIET_SANDBOX, createSender, testSendingSettings } from "./helpers/sending.ts";

const SECRET = "browser-test-unsubscribe-secret-0123456789";

let db: TestDatabase;
let sandbox: Sandbox;
let server: http.Server;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: QUIET_SANDBOX,
  });
  server = http.createServer(
    createHttpApp({
      pool: db.pool,
      log: pino({ level: "silent" }),
      shuttingDown: () => false,
      webhook: { authenticator: createWebhookAuthenticator([TEST_SECRET], undefined), maxBodyBytes: DEFAULT_WEBHOOK_MAX_BODY_BYTES },
      unsubscribeSecret: SECRET,
      optIn: { secret: SECRET },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server?.closeAllConnections();
    server ? server.close(() => resolve()) : resolve();
  });
  await sandbox?.stop();
  await db?.drop();
});

test("subscribe through the form, then confirm with the button behind the email's link", { timeout: 90_000 }, async () => {
  const senderId = await createSender(db.pool, { fromAddress: "welcome@mail.example.com" });
  const { rows } = await db.pool.query(
    "insert into app_public.lists (name, opt_in, confirmation_sender_id, public_subscribe) values ('Garden notes', 'double', $1, true) returning id",
    [senderId],
  );
  const listId = rows[0].id as string;
  const settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: url, unsubscribeSecret: SECRET });
  const member = async () =>
    (await db.pool.query(
      "select lm.status, s.name from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id where lm.list_id = $1 and s.email = 'rose@example.org'",
      [listId],
    )).rows;

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const form = await page.goto(`${url}/subscribe/${listId}`, { waitUntil: "load" });
    expect(form?.status()).toBe(200);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("Subscribe to Garden notes");
    // The honeypot is out of sight and out of the tab order.
    expect(await page.$eval("#website", (input) => [input.getBoundingClientRect().right <= 0, input.getAttribute("tabindex")])).toEqual([true, "-1"]);
    await page.type("#email", "rose@example.org");
    await page.type("#name", "Rose");
    const [answer] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("button[type=submit]")]);
    expect(answer?.status()).toBe(200);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("Check your inbox");
    expect(await member()).toEqual([{ status: "unconfirmed", name: "Rose" }]);

    await runQueuedJobs(db.pool, settings);
    const confirmation = (await db.pool.query("select operation_id, status from app_public.confirmations where list_id = $1", [listId])).rows;
    expect(confirmation.map((c) => c.status)).toEqual(["accepted"]);
    const email = (await (await fetch(`${sandbox.controlUrl}/emails/${confirmation[0].operation_id}`)).json()) as { content: { html: string } };

    // The email as the person sees it; its link followed.
    await page.setContent(email.content.html, { waitUntil: "load" });
    const [opened] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("a[href*='/confirm/']")]);
    expect(opened?.status()).toBe(200);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("Confirm your subscription");
    expect(await page.$eval("main", (main) => main.textContent)).toContain("Subscribe rose@example.org to Garden notes?");
    expect(await member()).toEqual([{ status: "unconfirmed", name: "Rose" }]);

    const [confirmed] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("button[type=submit]")]);
    expect(confirmed?.status()).toBe(200);
    expect(await page.$eval("h1", (h1) => h1.textContent)).toBe("You are subscribed");
    expect(await member()).toEqual([{ status: "confirmed", name: "Rose" }]);
  } finally {
    await browser.close();
  }
});
