// Mailroom's own engagement tracking, as the sandbox's people and machines exercise it: the open pixel and the
// tracked links of the HTML requested over HTTP (a person's browser, an image proxy, a link scanner), the
// honeypot followed by scanners only, and RFC 8058 one-click unsubscribes, with the Azure engagement events
// of the same acts. A small HTTP server stands in for Mailroom.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { afterEach, describe, expect, test } from "vitest";
import { EMAIL_ENGAGEMENT, startSandbox, type Sandbox, type SandboxSettings } from "../../src/sandbox/index.ts";
import { isLoopbackUrl, isTrackingUrl, listUnsubscribeOf, readHtml } from "../../src/sandbox/tracking.ts";
import { HUMAN_USER_AGENTS, MACHINE_OPEN_USER_AGENTS, SCANNER_USER_AGENTS } from "../../src/sandbox/traffic.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

interface Hit {
  method: string;
  path: string;
  userAgent: string;
  contentType: string | undefined;
  body: string;
}

interface Site {
  url: string;
  hits: Hit[];
  /** Milliseconds before each answer; requests in progress at once, and the most seen. */
  delayMs: number;
  active: number;
  maxActive: number;
  /** Never answer (to exercise the timeout). */
  hang: boolean;
  close(): Promise<void>;
}

const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

/** A stand-in for Mailroom's tracking and unsubscribe endpoints; clicks redirect to `foreign`. */
async function startSite(foreign?: string): Promise<Site> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "";
      site.hits.push({
        method: req.method ?? "",
        path,
        userAgent: req.headers["user-agent"] ?? "",
        contentType: req.headers["content-type"],
        body: Buffer.concat(chunks).toString("utf8"),
      });
      if (site.hang) return;
      site.active++;
      site.maxActive = Math.max(site.maxActive, site.active);
      setTimeout(() => {
        site.active--;
        if (path.startsWith("/t/o/")) {
          res.writeHead(200, { "content-type": "image/gif", "cache-control": "no-store" }).end(PIXEL);
        } else if (path.startsWith("/t/c/honeypot")) {
          res.writeHead(200, { "content-type": "text/plain" }).end();
        } else if (path.startsWith("/t/c/")) {
          res.writeHead(302, { location: `${foreign ?? "https://shop.example.com"}/landing${path.slice(4)}` }).end();
        } else if (path.startsWith("/unsubscribe/")) {
          res.writeHead(200, { "content-type": "text/html" }).end("<form method=post><button>Unsubscribe</button></form>");
        } else {
          res.writeHead(404).end();
        }
      }, site.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const site: Site = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: [],
    delayMs: 0,
    active: 0,
    maxActive: 0,
    hang: false,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return site;
}

/** HTML as Mailroom renders it with its tracking: tracked links, a honeypot first, the pixel last, the unsubscribe link untouched. */
function trackedHtml(mailroom: string, options: { unsubscribeLink?: boolean } = {}): string {
  return `<!doctype html><html><body><a href="${mailroom}/t/c/honeypot-1" style="display:none!important;mso-hide:all;font-size:0;max-height:0;overflow:hidden" aria-hidden="true" tabindex="-1"></a>
<p>Hello Ada,</p>
<p><a href="${mailroom}/t/c/link-1">Read the news</a> &middot; <a href='${mailroom}/t/c/link-2?x=1&amp;y=2'>See the offers</a></p>
${options.unsubscribeLink === false ? "" : `<p><a href="${mailroom}/unsubscribe/tok-1">Unsubscribe</a></p>`}
<img src="${mailroom}/t/o/open-1" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0"></body></html>`;
}

function message(html: string, to: string[], headers: Record<string, string> = {}): EmailMessage {
  return {
    senderAddress: "news@news.example.com",
    content: { subject: "News", html },
    recipients: { to: to.map((address) => ({ address })) },
    headers,
  };
}

const oneClick = (mailroom: string) => ({
  "List-Unsubscribe": `<${mailroom}/unsubscribe/tok-1>`,
  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
});

const NOTHING: Partial<SandboxSettings> = {
  viewProbability: 0,
  clickProbability: 0,
  machineOpenProbability: 0,
  scannerClickProbability: 0,
  unsubscribeRate: 0,
};
// Every modelled second is half a real millisecond.
const BASE: Partial<SandboxSettings> = {
  timeScale: 0.0005,
  quotaPerMinute: null,
  quotaPerHour: null,
  duplicateShare: 0,
  seed: 5,
  statusMix: { Delivered: 1, Expanded: 0, Bounced: 0, Suppressed: 0, FilteredSpam: 0, Quarantined: 0, Failed: 0 },
  ...NOTHING,
};

let sandbox: Sandbox | undefined;
let receiver: Receiver | undefined;
const sites: Site[] = [];

async function setUp(settings: Partial<SandboxSettings>) {
  const foreign = await startSite();
  const mailroom = await startSite(foreign.url);
  sites.push(foreign, mailroom);
  sandbox = await startSandbox({ settings: { ...BASE, ...settings } });
  receiver = await startReceiver();
  await sandbox.subscribe({ endpoint: receiver.url, maxEventsPerBatch: 100 });
  const client = new EmailClient(sandbox.connectionString, { allowInsecureConnection: true });
  const send = async (m: EmailMessage) => (await client.beginSend(m)).pollUntilDone();
  return { sandbox, receiver, mailroom, foreign, send };
}

afterEach(async () => {
  await sandbox?.stop();
  await receiver?.close();
  for (const site of sites.splice(0)) await site.close();
  sandbox = undefined;
  receiver = undefined;
});

type Envelope = { id: string; eventType: string; data: Record<string, unknown> };
const engagementOf = (r: Receiver) =>
  r
    .notifications()
    .flatMap((n) => JSON.parse(n.body) as Envelope[])
    .filter((e) => e.eventType === EMAIL_ENGAGEMENT);
const kind = (e: Envelope) => String(e.data.engagementType).toLowerCase();

describe("a person", () => {
  test("opens: GET of the pixel; clicks: GET of one visible tracked link, never the honeypot or the unsubscribe link", async () => {
    const { sandbox, receiver, mailroom, foreign, send } = await setUp({ viewProbability: 1, clickProbability: 1 });
    const recipients = Array.from({ length: 12 }, (_, i) => `reader${i}@example.org`);
    await send(message(trackedHtml(mailroom.url), recipients, oneClick(mailroom.url)));
    // whenIdle waits for the requests too: no polling needed.
    await sandbox.whenIdle();

    const opens = mailroom.hits.filter((h) => h.path === "/t/o/open-1");
    const clicks = mailroom.hits.filter((h) => h.path.startsWith("/t/c/"));
    expect(opens).toHaveLength(12);
    expect(clicks).toHaveLength(12);
    expect(mailroom.hits).toHaveLength(24);
    for (const hit of [...opens, ...clicks]) {
      expect(hit.method).toBe("GET");
      expect(HUMAN_USER_AGENTS).toContain(hit.userAgent);
    }
    for (const click of clicks) expect(["/t/c/link-1", "/t/c/link-2?x=1&y=2"]).toContain(click.path);
    expect(new Set(clicks.map((c) => c.path)).size).toBe(2);
    // The redirect is read, never followed.
    expect(foreign.hits).toHaveLength(0);
    const records = sandbox.trackingRequests().filter((r) => r.origin === "human-click");
    expect(records).toHaveLength(12);
    for (const record of records) {
      expect(record.status).toBe(302);
      const { pathname, search } = new URL(record.url);
      expect(record.location).toBe(`${foreign.url}/landing${pathname.slice("/t/c".length)}${search}`);
    }
    expect(sandbox.stats().trackingRequests).toMatchObject({ sent: 24, failed: 0, byStatus: { 200: 12, 302: 12 }, scheduled: 0, inFlight: 0 });

    // With Azure tracking too, the same acts are Azure events: the click's URL is the href (the tracking URL).
    const engagement = engagementOf(receiver);
    expect(engagement.filter((e) => kind(e) === "view")).toHaveLength(12);
    const azureClicks = engagement.filter((e) => kind(e) === "click").map((e) => String(e.data.engagementContext)).sort();
    expect(azureClicks).toEqual(clicks.map((c) => `${mailroom.url}${c.path}`).sort());
  });

  test("the same person's view and click use one browser", async () => {
    const { sandbox, mailroom, send } = await setUp({ viewProbability: 1, clickProbability: 1 });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"]));
    await sandbox.whenIdle();
    expect(mailroom.hits.map((h) => h.method)).toEqual(["GET", "GET"]);
    expect(mailroom.hits[0].path).toBe("/t/o/open-1");
    expect(mailroom.hits[1].userAgent).toBe(mailroom.hits[0].userAgent);
  });
});

describe("machines", () => {
  test("an image proxy GETs the pixel with its user agent; a link scanner requests every link, the honeypot included", async () => {
    const { sandbox, receiver, mailroom, foreign, send } = await setUp({ machineOpenProbability: 1, scannerClickProbability: 1 });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"], oneClick(mailroom.url)));
    await sandbox.whenIdle();

    const pixel = mailroom.hits.filter((h) => h.path === "/t/o/open-1");
    expect(pixel).toHaveLength(1);
    expect(pixel[0].method).toBe("GET");
    expect(MACHINE_OPEN_USER_AGENTS).toContain(pixel[0].userAgent);

    const scanned = mailroom.hits.filter((h) => h.path !== "/t/o/open-1");
    const scanner = scanned[0].userAgent;
    expect(SCANNER_USER_AGENTS).toContain(scanner);
    for (const hit of scanned) {
      expect(hit.userAgent).toBe(scanner);
      expect(["HEAD", "GET"]).toContain(hit.method);
    }
    // Every link: the honeypot, the two tracked links and the unsubscribe link (a GET or HEAD of it changes nothing).
    expect(new Set(scanned.map((h) => h.path))).toEqual(
      new Set(["/t/c/honeypot-1", "/t/c/link-1", "/t/c/link-2?x=1&y=2", "/unsubscribe/tok-1"]),
    );
    expect(scanned.some((h) => h.method === "POST")).toBe(false);
    expect(foreign.hits).toHaveLength(0);

    // The Azure events of the same acts: one machine view, a click on every link within a second or two.
    const engagement = engagementOf(receiver);
    const clicks = engagement.filter((e) => kind(e) === "click");
    expect(clicks.map((e) => e.data.engagementContext).sort()).toEqual(
      [`${mailroom.url}/t/c/honeypot-1`, `${mailroom.url}/t/c/link-1`, `${mailroom.url}/t/c/link-2?x=1&y=2`, `${mailroom.url}/unsubscribe/tok-1`].sort(),
    );
    const times = clicks.map((e) => Date.parse(String(e.data.userActionTimestamp ?? e.data.userActionTimeStamp)));
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(2000);
    expect(engagement.filter((e) => kind(e) === "view")).toHaveLength(1);
  });

  test("scanners look (HEAD), fetch (GET) or both, depending on the scanner", async () => {
    const { sandbox, mailroom, send } = await setUp({ scannerClickProbability: 1 });
    await send(message(trackedHtml(mailroom.url), Array.from({ length: 15 }, (_, i) => `r${i}@example.org`)));
    await sandbox.whenIdle();
    const perRecipient = sandbox.trackingRequests().reduce<Record<string, string[]>>((all, r) => {
      (all[r.recipient] ??= []).push(r.method);
      return all;
    }, {});
    const patterns = new Set(Object.values(perRecipient).map((methods) => [...new Set(methods)].sort().join("+")));
    expect(patterns).toEqual(new Set(["GET", "HEAD", "GET+HEAD"]));
    // The honeypot is requested by scanners alone: every recipient's scanner requested it.
    const honeypot = mailroom.hits.filter((h) => h.path === "/t/c/honeypot-1");
    expect(new Set(honeypot.map((h) => h.userAgent)).size).toBeGreaterThan(0);
    for (const hit of honeypot) expect(SCANNER_USER_AGENTS).toContain(hit.userAgent);
  });
});

describe("unsubscribing", () => {
  test("by the body's link: an Azure click on the unsubscribe URL, the page (GET), then the one-click POST", async () => {
    const { sandbox, receiver, mailroom, send } = await setUp({ unsubscribeRate: 1 });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"], oneClick(mailroom.url)));
    await sandbox.whenIdle();

    expect(mailroom.hits.map((h) => `${h.method} ${h.path}`)).toEqual(["GET /unsubscribe/tok-1", "POST /unsubscribe/tok-1"]);
    const [page, post] = mailroom.hits;
    expect(HUMAN_USER_AGENTS).toContain(page.userAgent);
    expect(post.userAgent).toBe(page.userAgent);
    expect(post.contentType).toBe("application/x-www-form-urlencoded");
    expect(post.body).toBe("List-Unsubscribe=One-Click");

    const engagement = engagementOf(receiver);
    expect(engagement).toHaveLength(1);
    expect(kind(engagement[0])).toBe("click");
    expect(engagement[0].data.engagementContext).toBe(`${mailroom.url}/unsubscribe/tok-1`);
    expect(sandbox.deliveries().find((d) => d.eventId === engagement[0].id)?.origin).toBe("unsubscribe-click");
  });

  test("without an unsubscribe link in the body: the one-click POST to the List-Unsubscribe URL alone (the mail client's button)", async () => {
    const { sandbox, receiver, mailroom, send } = await setUp({ unsubscribeRate: 1 });
    await send(message(trackedHtml(mailroom.url, { unsubscribeLink: false }), ["ada@example.org"], oneClick(mailroom.url)));
    // Plain text only: the header is what counts.
    await send({ ...message("", ["bob@example.org"], oneClick(mailroom.url)), content: { subject: "Text", plainText: "Hello" } });
    await sandbox.whenIdle();
    expect(mailroom.hits.map((h) => `${h.method} ${h.path} ${h.body}`)).toEqual([
      "POST /unsubscribe/tok-1 List-Unsubscribe=One-Click",
      "POST /unsubscribe/tok-1 List-Unsubscribe=One-Click",
    ]);
    expect(engagementOf(receiver)).toHaveLength(0);
  });

  test("no POST without List-Unsubscribe-Post: One-Click; nobody unsubscribes with unsubscribeRate 0", async () => {
    const { sandbox, mailroom, send } = await setUp({ unsubscribeRate: 1 });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"], { "List-Unsubscribe": `<${mailroom.url}/unsubscribe/tok-1>` }));
    await sandbox.whenIdle();
    expect(mailroom.hits.map((h) => `${h.method} ${h.path}`)).toEqual(["GET /unsubscribe/tok-1"]);

    mailroom.hits.length = 0;
    sandbox.configure({ unsubscribeRate: 0, viewProbability: 1, clickProbability: 1 });
    await send(message(trackedHtml(mailroom.url), Array.from({ length: 10 }, (_, i) => `r${i}@example.org`), oneClick(mailroom.url)));
    await sandbox.whenIdle();
    expect(mailroom.hits.filter((h) => h.path.startsWith("/unsubscribe/"))).toHaveLength(0);
    expect(mailroom.hits).toHaveLength(20);
  });

  test("a share of recipients unsubscribes: unsubscribeRate", async () => {
    const { sandbox, mailroom, send } = await setUp({ unsubscribeRate: 0.25 });
    await send(message(trackedHtml(mailroom.url), Array.from({ length: 40 }, (_, i) => `r${i}@example.org`), oneClick(mailroom.url)));
    await sandbox.whenIdle();
    const posts = mailroom.hits.filter((h) => h.method === "POST").length;
    expect(posts).toBeGreaterThan(2);
    expect(posts).toBeLessThan(25);
  });
});

describe("when the sandbox requests nothing", () => {
  test("HTML without tracking URLs: no request at all, while the Azure events still come", async () => {
    const { sandbox, receiver, mailroom, send } = await setUp({
      viewProbability: 1,
      clickProbability: 1,
      machineOpenProbability: 1,
      scannerClickProbability: 1,
    });
    const html = `<p><a href="${mailroom.url}/news">news</a> <a href="${mailroom.url}/offers?t=1">offers</a></p><img src="${mailroom.url}/logo.png" width="100">`;
    await send(message(html, ["ada@example.org", "bob@example.org"]));
    await sandbox.whenIdle();
    expect(mailroom.hits).toHaveLength(0);
    expect(sandbox.stats().trackingRequests).toMatchObject({ sent: 0, failed: 0, byStatus: {} });
    expect(engagementOf(receiver).length).toBeGreaterThan(4);
  });

  test("trackingRequests off, or a host that is not this machine under loopback (the default)", async () => {
    const { sandbox, mailroom, send } = await setUp({ viewProbability: 1, clickProbability: 1, unsubscribeRate: 1, trackingRequests: "off" });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"], oneClick(mailroom.url)));
    sandbox.configure({ trackingRequests: "loopback" });
    await send(message(trackedHtml("https://mailroom.example.com"), ["bob@example.org"], oneClick("https://mailroom.example.com")));
    await sandbox.whenIdle();
    expect(mailroom.hits).toHaveLength(0);
    expect(sandbox.stats().trackingRequests.sent).toBe(0);
  });

  test("Azure tracking off (the domain, or the message): no Azure engagement events, the requests all the same", async () => {
    const { sandbox, receiver, mailroom, send } = await setUp({ viewProbability: 1, clickProbability: 1, azureEngagementTracking: false });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"]));
    sandbox.configure({ azureEngagementTracking: true });
    await send({ ...message(trackedHtml(mailroom.url), ["bob@example.org"]), disableUserEngagementTracking: true });
    await sandbox.whenIdle();
    expect(engagementOf(receiver)).toHaveLength(0);
    expect(mailroom.hits.filter((h) => h.path === "/t/o/open-1")).toHaveLength(2);
    expect(mailroom.hits.filter((h) => h.path.startsWith("/t/c/link-"))).toHaveLength(2);
  });
});

describe("bounded and robust", () => {
  test("at most trackingConcurrency requests in flight; whenIdle waits for slow answers", async () => {
    const { sandbox, mailroom, send } = await setUp({ viewProbability: 1, trackingConcurrency: 3, timeScale: 0 });
    mailroom.delayMs = 60;
    await send(message(trackedHtml(mailroom.url), Array.from({ length: 12 }, (_, i) => `r${i}@example.org`)));
    await sandbox.whenIdle();
    expect(mailroom.hits).toHaveLength(12);
    expect(mailroom.maxActive).toBe(3);
    expect(sandbox.stats().trackingRequests).toMatchObject({ sent: 12, failed: 0, byStatus: { 200: 12 }, queued: 0, inFlight: 0 });
  });

  test("no answer within trackingTimeoutMs, or nobody listening: counted as failed, and the sandbox carries on", async () => {
    const { sandbox, mailroom, send } = await setUp({ viewProbability: 1, trackingTimeoutMs: 100 });
    mailroom.hang = true;
    const closed = await startSite();
    const closedUrl = closed.url;
    await closed.close();
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"]));
    await send(message(trackedHtml(closedUrl), ["bob@example.org"]));
    await sandbox.whenIdle();
    expect(sandbox.stats().trackingRequests).toMatchObject({ sent: 2, failed: 2, byStatus: {} });
    const errors = sandbox.trackingRequests().map((r) => r.error ?? "");
    expect(errors.some((e) => /no answer within 100 ms/.test(e))).toBe(true);
    expect(errors.some((e) => /ECONNREFUSED/.test(e))).toBe(true);
    // Still serving: another send is accepted and its request made.
    mailroom.hang = false;
    await send(message(trackedHtml(mailroom.url), ["cy@example.org"]));
    await sandbox.whenIdle();
    expect(sandbox.stats().trackingRequests.byStatus).toEqual({ 200: 1 });
  });

  test("the control API lists the requests made; reset forgets them", async () => {
    const { sandbox, mailroom, send } = await setUp({ viewProbability: 1 });
    await send(message(trackedHtml(mailroom.url), ["ada@example.org"]));
    await sandbox.whenIdle();
    const listed = (await (await fetch(`${sandbox.controlUrl}/tracking-requests`)).json()) as Record<string, unknown>[];
    expect(listed).toMatchObject([{ origin: "human-view", method: "GET", url: `${mailroom.url}/t/o/open-1`, recipient: "ada@example.org", status: 200 }]);
    const summary = (await (await fetch(sandbox.controlUrl)).json()) as { stats: { trackingRequests: { sent: number } } };
    expect(summary.stats.trackingRequests.sent).toBe(1);
    sandbox.reset();
    expect(sandbox.trackingRequests()).toEqual([]);
    expect(sandbox.stats().trackingRequests.sent).toBe(0);
  });
});

describe("reading the HTML and headers", () => {
  test("anchors with visibility, images, entities", () => {
    const page = readHtml(
      `<A HREF="https://a.example/x?a=1&amp;b=2">A</A><a href='https://b.example/' aria-hidden="true">B</a>` +
        `<a style="color:red; display : none" href=https://c.example/>C</a><a hidden href="https://d.example/">D</a>` +
        `<a href="mailto:x@example.org">mail</a><img alt="x" src="https://e.example/t/o/abc"><a name="top">no href</a>`,
    );
    expect(page.anchors).toEqual([
      { href: "https://a.example/x?a=1&b=2", hidden: false, text: "A" },
      { href: "https://b.example/", hidden: true, text: "B" },
      { href: "https://c.example/", hidden: true, text: "C" },
      { href: "https://d.example/", hidden: true, text: "D" },
      { href: "mailto:x@example.org", hidden: false, text: "mail" },
    ]);
    expect(page.images).toEqual(["https://e.example/t/o/abc"]);
  });

  test("tracking URLs by their path, any host; List-Unsubscribe and one-click; loopback hosts", () => {
    expect(isTrackingUrl("https://mail.example.com/t/o/TOKEN")).toBe(true);
    expect(isTrackingUrl("http://127.0.0.1:3000/base/t/c/TOKEN")).toBe(true);
    expect(isTrackingUrl("https://mail.example.com/t/x/TOKEN")).toBe(false);
    expect(isTrackingUrl("/t/o/TOKEN")).toBe(false);
    expect(isTrackingUrl("https://mail.example.com/?next=/t/o/TOKEN")).toBe(false);
    expect(listUnsubscribeOf({ "list-unsubscribe": "<mailto:u@example.com>, <https://m.example/unsubscribe/1>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" })).toEqual({
      url: "https://m.example/unsubscribe/1",
      oneClick: true,
    });
    expect(listUnsubscribeOf({ "List-Unsubscribe": "<mailto:u@example.com>" })).toEqual({ url: undefined, oneClick: false });
    for (const url of ["http://127.0.0.1:1/", "http://127.1.2.3/", "http://localhost:3000/", "http://app.localhost/", "http://[::1]:80/"]) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of ["https://mailroom.example.com/", "http://10.0.0.1/", "http://128.0.0.1/", "not a url"]) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
  });
});
