// The dashboard over HTTP (fetch): signing in with admin and analyst keys, keys refused, the session cookie's
// flags, a session ended by signing out and its cookie refused when replayed, CSRF and Origin checks (403), an
// analyst's forged pause refused by the database, an admin's pause and resume, and every page answering with the
// numbers of the ledger (campaign_rollups) for a campaign sent through the sandbox.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHttpApp } from "../src/http/app.ts";
import { createWebhookAuthenticator } from "../src/http/webhook-auth.ts";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { formatCount, formatShare } from "../src/dashboard/pages.ts";
import { dashboardSessionHours } from "../src/config.ts";
import { createApiKey, revokeApiKey } from "../src/graphql/api-keys.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { endPool, testPool } from "./helpers/pg.ts";
import { runQueuedJobs, TEST_SECRET } from "./helpers/receiver.ts";
import { campaignStatus, createCampaign, createList, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";

let db: TestDatabase;
let authPool: pg.Pool;
let sandbox: Sandbox;
let server: http.Server;
let url: string;
let httpsServer: http.Server;
let httpsUrl: string;
let sentId: string;
let runningId: string;
let subscriberEmail: string;
const keys: Record<string, string> = {};
const keyIds: Record<string, string> = {};

async function listen(app: http.RequestListener): Promise<[http.Server, string]> {
  const s = http.createServer(app);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return [s, `http://127.0.0.1:${(s.address() as AddressInfo).port}`];
}

function dashboardApp(publicUrl?: string) {
  return createHttpApp({
    pool: db.pool,
    log: pino({ level: "silent" }),
    shuttingDown: () => false,
    webhook: { authenticator: createWebhookAuthenticator([TEST_SECRET], undefined), maxBodyBytes: 1024 * 1024 },
    dashboard: { pool: authPool, roles: db.roles, sessionHours: 12, publicUrl },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  authPool = testPool({ connectionString: db.authUrl, max: 10 });
  [server, url] = await listen(dashboardApp());
  [httpsServer, httpsUrl] = await listen(dashboardApp("https://mailroom.example.com"));
  sandbox = await startSandbox({
    settings: {
      seed: 18,
      quotaPerMinute: null,
      quotaPerHour: null,
      timeScale: 0.001,
      viewProbability: 0.6,
      clickProbability: 0.4,
      machineOpenProbability: 0.2,
      scannerClickProbability: 0.1,
      unsubscribeRate: 0,
      deliveryDelaySeconds: [0, 0.3],
      engagementDelaySeconds: [0, 0.3],
      statusMix: { Delivered: 0.8, Expanded: 0, Bounced: 0.1, Suppressed: 0.05, FilteredSpam: 0, Quarantined: 0, Failed: 0.05 },
    },
  });
  await sandbox.subscribe({ endpoint: `${url}/webhooks/acs?code=${TEST_SECRET}`, maxEventsPerBatch: 100 });
  for (const role of ["admin", "analyst"] as const) {
    const created = await createApiKey(db.pool, { name: `dashboard ${role}`, role });
    keys[role] = created.key;
    keyIds[role] = created.row.id;
  }
  const revoked = await createApiKey(db.pool, { name: "revoked", role: "admin" });
  await revokeApiKey(db.pool, revoked.row.id);
  keys.revoked = revoked.key;
  const expired = await createApiKey(db.pool, { name: "expired", role: "admin", expiresAt: new Date(Date.now() + 1000) });
  await db.pool.query("update app_private.api_keys set expires_at = now() - interval '1 minute' where id = $1", [expired.row.id]);
  keys.expired = expired.key;

  // A campaign sent through the sandbox, its delivery reports, opens and clicks ingested.
  const settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: url, unsubscribeSecret: undefined });
  const senderId = await createSender(db.pool);
  const listId = await createList(db.pool, 40);
  sentId = await createCampaign(db.pool, { senderId, listIds: [listId], name: "December news" });
  await db.pool.query("select app_public.start_campaign($1)", [sentId]);
  await runSending(db.pool, settings);
  await sandbox.whenIdle(30_000);
  await runQueuedJobs(db.pool);
  subscriberEmail = (await db.pool.query("select s.email from app_public.messages m join app_public.subscribers s on s.id = m.subscriber_id where m.campaign_id = $1 order by m.id limit 1", [sentId])).rows[0].email;
  // A campaign left running: started, its messages queued, nothing sent.
  runningId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 3)], name: "Running" });
  await db.pool.query("select app_public.start_campaign($1)", [runningId]);
}, 90_000);

afterAll(async () => {
  await sandbox?.stop();
  for (const s of [server, httpsServer]) {
    s?.closeAllConnections();
    await new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
  }
  if (authPool) await endPool(authPool);
  await db?.drop();
});

/** A POST of a form, as a browser on `origin` sends it (no Origin header when `origin` is null). */
async function post(path: string, fields: Record<string, string>, options: { cookie?: string; origin?: string | null; base?: string } = {}) {
  const base = options.base ?? url;
  const origin = options.origin === undefined ? base : options.origin;
  return fetch(`${base}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(origin ? { origin } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

async function get(path: string, cookie?: string) {
  return fetch(`${url}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
}

/** Signs in with `key`: the cookie (name=value) and the Set-Cookie header as sent. */
async function signIn(key: string): Promise<{ cookie: string; setCookie: string; token: string }> {
  const response = await post("/sign-in", { apiKey: key });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe("/campaigns");
  const setCookie = response.headers.getSetCookie()[0]!;
  const cookie = setCookie.split(";")[0]!;
  return { cookie, setCookie, token: cookie.split("=")[1]! };
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];
const cellOf = (html: string, name: string) => new RegExp(`data-cell="${name}">([^<]*)<`).exec(html)?.[1];
const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

describe("signing in", () => {
  test("signed out, GET / shows what runs here and a labelled sign-in form; JSON stays the home's", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<form method="post" action="/sign-in">');
    expect(html).toContain('<label for="api-key">API key</label>');
    expect(html).toMatch(/<input id="api-key" name="apiKey" type="password"/);
    expect(html).toContain("<h1>Mailroom <small>");
    expect(response.headers.get("content-security-policy")).toContain("form-action 'self'");
    const json = await fetch(`${url}/`, { headers: { accept: "application/json" } });
    expect((await json.json()) as object).toMatchObject({ name: "Mailroom" });
  });

  test("an admin and an analyst key sign in: an HttpOnly, SameSite=Strict session cookie, only its hash stored", async () => {
    for (const role of ["admin", "analyst"] as const) {
      const before = Number((await db.pool.query("select count(*) from app_private.dashboard_sessions")).rows[0].count);
      const { setCookie, token, cookie } = await signIn(keys[role]!);
      expect(setCookie).toMatch(/^mailroom_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
      // 12 hours, within a few seconds.
      expect(Number(/Max-Age=(\d+)/.exec(setCookie)![1])).toBeGreaterThan(12 * 3600 - 60);
      const { rows } = await db.pool.query("select token_hash, api_key_id, expires_at, ended_at from app_private.dashboard_sessions order by created_at desc, token_hash limit 1");
      expect(Number((await db.pool.query("select count(*) from app_private.dashboard_sessions")).rows[0].count)).toBe(before + 1);
      expect(rows[0]).toMatchObject({ token_hash: sha256(token), api_key_id: keyIds[role], ended_at: null });
      const stored = JSON.stringify((await db.pool.query("select * from app_private.dashboard_sessions")).rows);
      expect(stored).not.toContain(token);
      const page = await get("/campaigns", cookie);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`(<span data-role>${role}</span>)`);
    }
  });

  test("over https (PUBLIC_URL https), the cookie is Secure too", async () => {
    const response = await post("/sign-in", { apiKey: keys.analyst! }, { base: httpsUrl, origin: "https://mailroom.example.com" });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()[0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  test("unknown, revoked and expired keys are refused with a clear message, and no session is made", async () => {
    const before = Number((await db.pool.query("select count(*) from app_private.dashboard_sessions")).rows[0].count);
    const cases: [string, string][] = [
      ["mrk_" + "x".repeat(43), "This API key is not known here."],
      [keys.revoked!, "This API key has been revoked."],
      [keys.expired!, "This API key has expired."],
      ["", "Enter an API key"],
    ];
    for (const [key, message] of cases) {
      const response = await post("/sign-in", { apiKey: key });
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).toContain(message);
    }
    expect(Number((await db.pool.query("select count(*) from app_private.dashboard_sessions")).rows[0].count)).toBe(before);
  });

  test("a sign-in from another origin, or without Origin and Referer, is refused (403)", async () => {
    for (const origin of ["http://evil.example", null]) {
      const response = await post("/sign-in", { apiKey: keys.admin! }, { origin });
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).toContain("not sent from a page of this server");
    }
  });

  test("pages without a session, or with a made-up cookie, send the browser to sign in", async () => {
    for (const cookie of [undefined, `mailroom_session=${"a".repeat(43)}`]) {
      for (const page of ["/campaigns", `/campaigns/${sentId}`, "/subscribers", "/senders", "/health"]) {
        const response = await get(page, cookie);
        expect(response.status).toBe(303);
        expect(response.headers.get("location")).toMatch(/^\/(\?session=unknown)?$/);
      }
    }
    expect((await get(`/campaigns/${sentId}/live`)).status).toBe(401);
  });
});

test("DASHBOARD_SESSION_HOURS: 12 by default, fractions allowed, anything else refused naming the variable", () => {
  expect(dashboardSessionHours({})).toBe(12);
  expect(dashboardSessionHours({ DASHBOARD_SESSION_HOURS: "0.5" })).toBe(0.5);
  expect(dashboardSessionHours({ DASHBOARD_SESSION_HOURS: "720" })).toBe(720);
  for (const value of ["0", "721", "12h", "-1", "abc"]) {
    expect(() => dashboardSessionHours({ DASHBOARD_SESSION_HOURS: value })).toThrow(`Invalid configuration: DASHBOARD_SESSION_HOURS="${value}"; expected a number of hours from 0.1 to 720`);
  }
});

describe("signing out", () => {
  test("ends the session in the database; the old cookie is refused when replayed", async () => {
    const { cookie, token } = await signIn(keys.analyst!);
    const html = await (await get("/campaigns", cookie)).text();
    const csrf = csrfOf(html)!;
    // Without the session's CSRF token, signing out is refused too.
    expect((await post("/sign-out", {}, { cookie })).status).toBe(403);
    const out = await post("/sign-out", { csrf }, { cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/?signed-out");
    expect(out.headers.getSetCookie()[0]).toMatch(/^mailroom_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
    const { rows } = await db.pool.query("select ended_at from app_private.dashboard_sessions where token_hash = $1", [sha256(token)]);
    expect(rows[0].ended_at).not.toBeNull();
    const replay = await get("/campaigns", cookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toBe("/?session=ended");
    expect((await get(`/campaigns/${sentId}/live`, cookie)).status).toBe(401);
    expect(await (await get("/?session=ended")).text()).toContain("You signed out of this session.");
  });

  test("a key revoked after signing in ends its sessions at the next request", async () => {
    const created = await createApiKey(db.pool, { name: "soon revoked", role: "analyst" });
    const { cookie } = await signIn(created.key);
    expect((await get("/senders", cookie)).status).toBe(200);
    await revokeApiKey(db.pool, created.row.id);
    const after = await get("/senders", cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/?session=key%20revoked");
  });
});

describe("pause, resume and cancel", () => {
  test("an analyst sees no control, and a forged pause is refused by the database: the campaign stays running", async () => {
    const { cookie } = await signIn(keys.analyst!);
    const html = await (await get(`/campaigns/${runningId}`, cookie)).text();
    expect(html).not.toMatch(/data-action=|\/pause"|\/cancel"/);
    const csrf = csrfOf(html)!; // the sign-out form's: a valid token of this session
    for (const action of ["pause", "cancel"]) {
      const response = await post(`/campaigns/${runningId}/${action}`, { csrf }, { cookie });
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(new RegExp(`The database refused: permission denied for function ${action}_campaign`));
    }
    expect(await campaignStatus(db.pool, runningId)).toBe("running");
  });

  test("CSRF: a missing or foreign token, or another origin, is refused (403) and changes nothing", async () => {
    const { cookie } = await signIn(keys.admin!);
    const csrf = csrfOf(await (await get(`/campaigns/${runningId}`, cookie)).text())!;
    const other = csrfOf(await (await get("/campaigns", (await signIn(keys.admin!)).cookie)).text())!;
    expect(other).not.toBe(csrf);
    const attempts = [
      post(`/campaigns/${runningId}/pause`, {}, { cookie }),
      post(`/campaigns/${runningId}/pause`, { csrf: other }, { cookie }),
      post(`/campaigns/${runningId}/pause`, { csrf }, { cookie, origin: "http://evil.example" }),
      post(`/campaigns/${runningId}/pause`, { csrf }, { cookie, origin: null }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("Request refused");
    }
    expect(await campaignStatus(db.pool, runningId)).toBe("running");
  });

  test("an admin pauses and resumes from the page; a change the state does not allow is explained", async () => {
    const { cookie } = await signIn(keys.admin!);
    let html = await (await get(`/campaigns/${runningId}`, cookie)).text();
    expect(html).toContain('data-action="pause"');
    expect(html).toContain(`href="/campaigns/${runningId}/cancel"`);
    expect(html).not.toContain('data-action="resume"');
    const csrf = csrfOf(html)!;
    const paused = await post(`/campaigns/${runningId}/pause`, { csrf }, { cookie });
    expect(paused.status).toBe(303);
    expect(paused.headers.get("location")).toBe(`/campaigns/${runningId}`);
    expect(await campaignStatus(db.pool, runningId)).toBe("paused");
    html = await (await get(`/campaigns/${runningId}`, cookie)).text();
    expect(html).toContain('data-action="resume"');
    expect(html).not.toContain('data-action="pause"');
    const again = await post(`/campaigns/${runningId}/pause`, { csrf }, { cookie });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("only a running campaign can be paused");
    expect((await post(`/campaigns/${runningId}/resume`, { csrf }, { cookie })).status).toBe(303);
    expect(await campaignStatus(db.pool, runningId)).toBe("running");
    // Cancel asks first: its page has the confirming form.
    const confirm = await (await get(`/campaigns/${runningId}/cancel`, cookie)).text();
    expect(confirm).toContain(`<form method="post" action="/campaigns/${runningId}/cancel">`);
    expect(await campaignStatus(db.pool, runningId)).toBe("running");
    // A finished campaign shows no control.
    expect(await (await get(`/campaigns/${sentId}`, cookie)).text()).not.toContain("data-action=");
  });
});

describe("pages", () => {
  test("every page answers 200, and the campaign's numbers are the ledger's", async () => {
    const { rows } = await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [sentId]);
    const r = Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
    expect(r.recipients).toBe(40);
    expect(r.accepted).toBe(40);
    expect(r.delivered).toBeGreaterThan(0);
    expect(r.delivered).toBeLessThan(40);
    expect(r.opens).toBeGreaterThan(0);
    expect(await campaignStatus(db.pool, sentId)).toBe("finished");

    for (const role of ["admin", "analyst"] as const) {
      const { cookie } = await signIn(keys[role]!);
      const response = await get(`/campaigns/${sentId}`, cookie);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
      const html = await response.text();
      const expected: Record<string, string> = {
        recipients: formatCount(r.recipients),
        accepted: formatCount(r.accepted),
        "accepted-share": formatShare(r.accepted, r.recipients),
        delivered: formatCount(r.delivered),
        "opened-human": formatCount(r.unique_opens_human),
        "opened-machine": formatCount(r.unique_opens - r.unique_opens_human),
        "clicked-human": formatCount(r.unique_clicks_human),
        "clicked-machine": formatCount(r.unique_clicks - r.unique_clicks_human),
        "opens-human": formatCount(r.opens_human),
        "opens-machine": formatCount(r.opens - r.opens_human),
        "clicks-human": formatCount(r.clicks_human),
        "clicks-machine": formatCount(r.clicks - r.clicks_human),
        "bounced-hard": formatCount(r.bounced_hard),
        "bounced-soft": formatCount(r.bounced_soft),
        suppressed: formatCount(r.suppressed),
        "delivery-failed": formatCount(r.delivery_failed),
        unsubscribes: formatCount(r.unsubscribes),
        complaints: formatCount(r.complaints),
        status: "finished",
      };
      for (const [name, value] of Object.entries(expected)) expect([name, cellOf(html, name)]).toEqual([name, value]);
      // The chart's text alternative adds up to the rollup's opens and clicks.
      const hours = JSON.parse(/<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1]!).series as { opens: number; clicks: number }[];
      expect(hours.reduce((n, h) => n + h.opens, 0)).toBe(r.opens);
      expect(hours.reduce((n, h) => n + h.clicks, 0)).toBe(r.clicks);
      // Bounces, complaints and unsent messages by reason: every reason app_public.campaign_bounce_reasons gives.
      const reasons = (await db.pool.query("select kind, events from app_public.campaign_bounce_reasons($1, 10)", [sentId])).rows;
      expect(reasons.length).toBeGreaterThan(0);
      const shown = [...html.matchAll(/<tr><th scope="row">(?:Hard bounce|Soft bounce|Complaint|Refused when sent|Skipped)<\/th><td class="url">.*?<\/td><td class="num">([^<]*)<\/td>/g)].map((m) => m[1]);
      expect(shown).toEqual(reasons.map((x) => formatCount(Number(x.events))));
      // Links by clicks: the link of the email, with the rollup's human clicks (one link besides unsubscribe).
      expect(html).toContain("https://example.org/read");

      const list = await get("/campaigns", cookie);
      expect(list.status).toBe(200);
      const listHtml = await list.text();
      const row = new RegExp(`<a href="/campaigns/${sentId}">December news</a>[\\s\\S]*?</tr>`).exec(listHtml)![0];
      const numbers = [...row.matchAll(/<td class="num">([^<]*)</g)].map((m) => m[1]);
      expect(numbers).toEqual([
        formatCount(r.accepted),
        formatCount(r.delivered),
        `${((100 * Math.round((10000 * r.unique_opens_human) / r.delivered)) / 10000).toFixed(1)}%`,
        `${((100 * Math.round((10000 * r.unique_clicks_human) / r.delivered)) / 10000).toFixed(1)}%`,
        formatCount(r.bounced_hard + r.bounced_soft),
      ]);
      const running = await (await get("/campaigns?status=running", cookie)).text();
      expect(running).toContain(`href="/campaigns/${runningId}"`);
      expect(running).not.toContain(`href="/campaigns/${sentId}"`);

      const timeline = await get(`/subscribers?q=${encodeURIComponent(subscriberEmail.toUpperCase())}`, cookie);
      expect(timeline.status).toBe(200);
      const timelineHtml = await timeline.text();
      expect(timelineHtml).toContain(`<h2>${subscriberEmail}</h2>`);
      expect(timelineHtml).toContain(`<a href="/campaigns/${sentId}">December news</a>`);
      expect(await (await get("/subscribers?q=nobody%40example.org", cookie)).text()).toContain("No subscriber with the email or id nobody@example.org.");

      const senders = await get("/senders", cookie);
      expect(senders.status).toBe(200);
      const sendersHtml = await senders.text();
      // The failure rate of the last 24 hours: bounced and suppressed over accepted, from the rollups.
      const failed = r.bounced_hard + r.bounced_soft + r.suppressed;
      expect(sendersHtml).toContain(`${formatCount(failed)} of ${formatCount(r.accepted)}`);
      expect(sendersHtml).toContain(`${((100 * Math.round((10000 * failed) / r.accepted)) / 10000).toFixed(2)}%`);
      if (failed / r.accepted >= 0.02) expect(sendersHtml).toContain("2% or more");

      const health = await get("/health", cookie);
      expect(health.status).toBe(200);
      const healthHtml = await health.text();
      const attributed = Number((await db.pool.query("select count(*) from app_public.message_events where attributed_at > now() - interval '1 day'")).rows[0].count);
      expect(healthHtml).toMatch(new RegExp(`<th scope="row">All keys</th><td class="num">${formatCount(attributed)}</td>`));
      expect(healthHtml).toContain('data-figure="unattributed">0<');

      expect((await get("/campaigns/999999", cookie)).status).toBe(404);
    }
  });

  test("the live stream sends the numbers again at each change of the rollup", async () => {
    const { cookie } = await signIn(keys.analyst!);
    const controller = new AbortController();
    const response = await fetch(`${url}/campaigns/${sentId}/live`, { headers: { cookie }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    /** The next event of the stream (comments and the retry line skipped), or undefined when it ended. */
    const nextEvent = async (): Promise<{ event: string; data: any } | undefined> => {
      for (;;) {
        const at = buffer.indexOf("\n\n");
        if (at >= 0) {
          const chunk = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.+)$/m.exec(chunk)?.[1];
          if (event) return { event, data: JSON.parse(/^data: (.+)$/m.exec(chunk)![1]!) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    };
    const nextNumbers = async (): Promise<Record<string, string>> => {
      const next = await nextEvent();
      expect(next?.event).toBe("numbers");
      return next!.data.cells;
    };
    const first = await nextNumbers();
    const before = Number((await db.pool.query("select unsubscribes from app_public.campaign_rollups where campaign_id = $1", [sentId])).rows[0].unsubscribes);
    expect(first.unsubscribes).toBe(formatCount(before));
    // A subscriber unsubscribes through the campaign's message: the rollup changes, and so do the page's numbers.
    const { rows } = await db.pool.query("select operation_id from app_public.messages where campaign_id = $1 and delivery_status = 'Delivered' order by id limit 1", [sentId]);
    await db.pool.query("select app_private.unsubscribe($1, 'one_click')", [rows[0].operation_id]);
    let update = await nextNumbers();
    while (update.unsubscribes === first.unsubscribes) update = await nextNumbers();
    expect(update.unsubscribes).toBe(formatCount(before + 1));
    // Signed out meanwhile: the next change tells the page so, and the stream ends.
    const csrf = csrfOf(await (await get("/senders", cookie)).text())!;
    expect((await post("/sign-out", { csrf }, { cookie })).status).toBe(303);
    const { rows: more } = await db.pool.query(
      "select operation_id from app_public.messages where campaign_id = $1 and delivery_status = 'Delivered' order by id offset 1 limit 1",
      [sentId],
    );
    await db.pool.query("select app_private.unsubscribe($1, 'one_click')", [more[0].operation_id]);
    let last = await nextEvent();
    while (last?.event === "numbers") last = await nextEvent();
    expect(last).toEqual({ event: "signed-out", data: { reason: "You signed out of this session. Sign in again." } });
    expect(await nextEvent()).toBeUndefined();
    controller.abort();
  });
});
