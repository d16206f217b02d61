// Mailroom's own engagement tracking: tokens, rendering, the hit endpoint, and how hits are attributed and counted
// beside Azure's engagement events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import crypto from "node:crypto";
import { addTracking } from "../src/tracking/rewrite.ts";
import { PREVIEW_OPERATION_ID, TrackingKeys } from "../src/tracking/token.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runQueuedJobs, startReceiver, type Receiver } from "./helpers/receiver.ts";
import { createCampaign, createList, createSender } from "./helpers/sending.ts";

const SECRET = "tracking-secret-for-tests-0123456789abcdef";
const OLD_SECRET = "an-older-tracking-secret-0123456789abcdef";
const OTHER_DEPLOYMENT = "another-deployment-secret-0123456789abcdef";
const keys = new TrackingKeys([SECRET]);
const operationId = "0190f5b2-7c1d-7e2f-8a3b-4c5d6e7f8091";

describe("tracking tokens", () => {
  it("name the message, the link and the URL, and refuse any change, another key, another kind", () => {
    const token = keys.sign("click", operationId, 3, "https://example.org/a?b=1&c=ü");
    expect(keys.verify(token, ["click"])).toEqual({ kind: "click", operationId, link: 3, url: "https://example.org/a?b=1&c=ü" });
    expect(keys.verify(token, ["open"])).toBeUndefined();
    expect(new TrackingKeys([OTHER_DEPLOYMENT]).verify(token, ["click"])).toBeUndefined();
    // Every one-character change of the token is refused.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let accepted = 0;
    for (let i = 0; i < token.length; i++) {
      if (token[i] === ".") continue;
      const changed = token.slice(0, i) + alphabet[(alphabet.indexOf(token[i]) + 1) % 64] + token.slice(i + 1);
      if (keys.verify(changed, ["click", "open", "honeypot"])) accepted++;
    }
    expect(accepted).toBe(0);
    expect(keys.verify(token.slice(0, -1), ["click"])).toBeUndefined();
    expect(keys.verify(token.slice(0, 40), ["click"])).toBeUndefined();
  });

  it("rotate: the first key signs, every listed key verifies", () => {
    const old = new TrackingKeys([OLD_SECRET]).sign("open", operationId);
    const rotated = new TrackingKeys([SECRET, OLD_SECRET]);
    expect(rotated.verify(old, ["open"])?.operationId).toBe(operationId);
    expect(keys.verify(rotated.sign("open", operationId), ["open"])?.operationId).toBe(operationId);
    expect(keys.verify(old, ["open"])).toBeUndefined();
  });

  it("refuse a click token whose URL is not http(s), even when signed", () => {
    expect(keys.verify(keys.sign("click", operationId, 1, "javascript:alert(1)"), ["click"])).toBeUndefined();
  });
});

describe("rendering with tracking", () => {
  const publicUrl = "https://mail.example.com";
  const unsubscribe = `${publicUrl}/unsubscribe/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB`;
  const rendered = addTracking(
    {
      subject: "Hi",
      html: `<html><body><p><a href="https://example.org/a?x=1&amp;y=2">A</a> <a href='https://example.org/b'>B</a>
<a href="mailto:x@example.org">mail</a> <a href="#top">top</a> <a href="${unsubscribe}">Unsubscribe</a>
<a href="https://example.org/a?x=1&amp;y=2">A again</a></p></body></html>`,
      plainText: `Read https://example.org/a?x=1&y=2. Or https://example.org/c, and leave: ${unsubscribe}`,
    },
    { keys, publicUrl, operationId },
  );

  it("rewrites every http(s) link of both parts, never the unsubscribe link, and numbers links by URL", () => {
    const html = rendered.html as string;
    const hrefs = [...html.matchAll(/href=["']([^"']*)["']/g)].map((m) => m[1]);
    const clicks = hrefs.filter((h) => h.startsWith(`${publicUrl}/t/c/`)).map((h) => keys.verify(h.split("/t/c/")[1], ["click", "honeypot"]));
    expect(clicks.filter((c) => c?.kind === "click").map((c) => [c?.link, c?.url])).toEqual([
      [1, "https://example.org/a?x=1&y=2"],
      [2, "https://example.org/b"],
      [1, "https://example.org/a?x=1&y=2"],
    ]);
    expect(clicks.filter((c) => c?.kind === "honeypot")).toHaveLength(1);
    expect(hrefs).toContain("mailto:x@example.org");
    expect(hrefs).toContain("#top");
    expect(hrefs).toContain(unsubscribe);
    const texts = [...rendered.plainText.matchAll(/https:\/\/mail\.example\.com\/t\/c\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/g)].map((m) => keys.verify(m[1], ["click"]));
    expect(texts.map((c) => [c?.link, c?.url])).toEqual([
      [1, "https://example.org/a?x=1&y=2"],
      [3, "https://example.org/c"],
    ]);
    expect(rendered.plainText).toContain(unsubscribe);
    expect(rendered.plainText).toMatch(/\. Or /);
  });

  it("adds one open pixel before </body> and the honeypot hidden from people", () => {
    const html = rendered.html as string;
    const pixels = [...html.matchAll(/<img src="https:\/\/mail\.example\.com\/t\/o\/([^"]+)"/g)];
    expect(pixels).toHaveLength(1);
    expect(keys.verify(pixels[0][1], ["open"])?.operationId).toBe(operationId);
    expect(html.indexOf("/t/o/")).toBeLessThan(html.indexOf("</body>"));
    expect(html).toMatch(/<body><a href="[^"]+" style="display:none[^"]*" aria-hidden="true" tabindex="-1"><\/a>/);
  });
});

describe("the hit endpoint and attribution", () => {
  let db: TestDatabase;
  let receiver: Receiver;
  let campaignId: string;
  const messages: { id: string; operationId: string }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await startReceiver(db.pool, { trackingSecrets: [SECRET, OLD_SECRET], trustProxy: "loopback" });
    const { rows } = await db.pool.query(
      `with sender as (
         insert into app_public.senders (name, from_address, engagement_tracking) values ('News', 'news@news.example.com', 'both') returning id
       ), subscriber as (
         insert into app_public.subscribers (email) select format('p%s@example.org', i) from generate_series(1, 12) as i returning id
       ), campaign as (
         insert into app_public.campaigns (name, sender_id, engagement_tracking) select 'Tracked', id, 'both' from sender returning id
       )
       insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id)
       select campaign.id, subscriber.id, sender.id, format('s%s@example.org', subscriber.id), format('<%s@news.example.com>', gen_random_uuid())
       from sender, subscriber, campaign
       order by subscriber.id
       returning id, operation_id, campaign_id`,
    );
    campaignId = rows[0].campaign_id;
    for (const row of rows) messages.push({ id: row.id, operationId: row.operation_id });
  });

  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  const hit = (path: string, init: RequestInit = {}) => fetch(`${receiver.url}${path}`, { redirect: "manual", ...init });
  const click = (m: number, url: string, link = 1) => `/t/c/${keys.sign("click", messages[m].operationId, link, url)}`;
  const open = (m: number) => `/t/o/${keys.sign("open", messages[m].operationId)}`;
  const events = async (m: number) =>
    (
      await db.pool.query(
        `select me.engagement_type, me.engagement_source, me.attributed_by, me.url, me.machine_reason, me.ignored_reason, me.honeypot,
                host(e.ip_address) as ip, e.http_method
         from app_public.message_events as me join app_public.raw_events as e on e.id = me.raw_event_id
         where me.message_id = $1 order by me.occurred_at, me.raw_event_id`,
        [messages[m].id],
      )
    ).rows;
  const message = async (m: number) =>
    (await db.pool.query("select opens_human, opens_machine, clicks_human, clicks_machine, opens_human_mailroom, clicks_human_mailroom from app_public.messages where id = $1", [messages[m].id])).rows[0];
  const storedJobs = async () =>
    (await db.pool.query("select count(*)::int as n from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id where t.identifier = 'ingest_events'")).rows[0].n as number;
  const azureEvent = (m: number, type: "view" | "click", url: string, at: Date) => ({
    id: crypto.randomUUID(),
    topic: "/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/CommunicationServices/z",
    subject: `sender/news@news.example.com/message/${messages[m].operationId}`,
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: at.toISOString(),
    dataVersion: "1.0",
    data: {
      sender: "news@news.example.com",
      messageId: messages[m].operationId,
      userActionTimeStamp: at.toISOString(),
      engagementContext: url,
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      engagementType: type,
    },
  });
  const ingestAzure = (events: unknown[]) =>
    db.pool.query("select * from app_private.ingest_events($1::jsonb)", [JSON.stringify({ schema: "eventgrid", events })]);
  const browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";

  it("answers the pixel with an uncached GIF and a click with a 302 to its URL, each stored and attributed by its token", async () => {
    const pixel = await hit(open(0), { headers: { "user-agent": browser } });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    expect(pixel.headers.get("cache-control")).toMatch(/no-store/);
    const gif = Buffer.from(await pixel.arrayBuffer());
    expect(gif.subarray(0, 6).toString()).toBe("GIF89a");
    expect([gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([1, 1]);
    const redirect = await hit(click(0, "https://example.org/read?x=1&y=2"), { headers: { "user-agent": browser } });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://example.org/read?x=1&y=2");
    await runQueuedJobs(db.pool);
    expect(await events(0)).toEqual([
      expect.objectContaining({ engagement_type: "view", engagement_source: "mailroom", attributed_by: "tracking_token", machine_reason: null, ignored_reason: null, ip: "127.0.0.1", http_method: "GET" }),
      expect.objectContaining({ engagement_type: "click", engagement_source: "mailroom", url: "https://example.org/read?x=1&y=2", machine_reason: null }),
    ]);
    expect(await message(0)).toEqual({ opens_human: 1, opens_machine: 0, clicks_human: 1, clicks_machine: 0, opens_human_mailroom: 1, clicks_human_mailroom: 1 });
  });

  it("records a HEAD request, a listed scanner's address and the honeypot as machine, with the reason", async () => {
    expect((await hit(click(1, "https://example.org/one"), { method: "HEAD", headers: { "user-agent": browser } })).status).toBe(302);
    expect((await hit(click(2, "https://example.org/two"), { headers: { "user-agent": browser, "x-forwarded-for": "205.139.110.23" } })).status).toBe(302);
    const honeypot = await hit(`/t/c/${keys.sign("honeypot", messages[3].operationId)}`, { headers: { "user-agent": browser } });
    expect(honeypot.status).toBe(200);
    expect(honeypot.headers.get("location")).toBeNull();
    // A person-looking click of the same message a second after the honeypot's hit: the same machine's burst.
    expect((await hit(click(3, "https://example.org/three"), { headers: { "user-agent": browser } })).status).toBe(302);
    await runQueuedJobs(db.pool);
    expect((await events(1))[0]).toMatchObject({ machine_reason: "HEAD request", http_method: "HEAD" });
    expect((await events(2))[0]).toMatchObject({ machine_reason: "IP range: link scanner (205.139.110.0/24, Mimecast (US))", ip: "205.139.110.23" });
    const honeypotEvents = await events(3);
    expect(honeypotEvents.map((e) => [e.honeypot, e.machine_reason])).toEqual([
      [true, "honeypot link"],
      [false, "burst: the honeypot link was hit within 5 s"],
    ]);
    expect(await message(3)).toMatchObject({ clicks_human: 0, clicks_machine: 2 });
  });

  it("the honeypot's hit reclassifies a click that came before it", async () => {
    await hit(click(4, "https://example.org/four"), { headers: { "user-agent": browser } });
    await runQueuedJobs(db.pool);
    expect(await message(4)).toMatchObject({ clicks_human: 1 });
    await hit(`/t/c/${keys.sign("honeypot", messages[4].operationId)}`, { headers: { "user-agent": browser } });
    await runQueuedJobs(db.pool);
    expect(await message(4)).toMatchObject({ clicks_human: 0, clicks_machine: 2 });
  });

  it("answers a preview's links (PREVIEW_OPERATION_ID) as usual and stores nothing", async () => {
    await runQueuedJobs(db.pool);
    const before = await storedJobs();
    const raw = (await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n;
    const pixel = await hit(`/t/o/${keys.sign("open", PREVIEW_OPERATION_ID)}`, { headers: { "user-agent": browser } });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    const redirect = await hit(`/t/c/${keys.sign("click", PREVIEW_OPERATION_ID, 2, "https://example.org/preview")}`, { headers: { "user-agent": browser } });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://example.org/preview");
    expect((await hit(`/t/c/${keys.sign("honeypot", PREVIEW_OPERATION_ID, 0, "https://example.org/h")}`)).status).toBe(200);
    expect(await storedJobs()).toBe(before);
    await runQueuedJobs(db.pool);
    expect((await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n).toBe(raw);
  });

  it("refuses forged, tampered, foreign, truncated, huge and malformed paths: 404 or 400, nothing stored, no redirect", async () => {
    await runQueuedJobs(db.pool);
    const before = await storedJobs();
    const raw = (await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n;
    const genuine = click(5, "https://example.org/five").slice("/t/c/".length);
    const foreign = new TrackingKeys([OTHER_DEPLOYMENT]).sign("click", messages[5].operationId, 1, "https://evil.example.net/");
    const payload = Buffer.from(genuine.split(".")[0], "base64url");
    const evil = Buffer.concat([payload.subarray(0, 24), Buffer.from("https://evil.example.net/")]).toString("base64url");
    const paths = [
      `/t/c/${foreign}`,
      `/t/c/${evil}.${genuine.split(".")[1]}`,
      `/t/c/${genuine.slice(0, -2)}`,
      `/t/c/${genuine.slice(0, 30)}`,
      `/t/o/${genuine}`,
      `/t/c/${keys.sign("open", messages[5].operationId)}`,
      `/t/c/${"A".repeat(10_000)}.${"B".repeat(22)}`,
      `/t/c/%zz%00`,
      `/t/c/`,
      `/t/c/${genuine}/extra`,
      `/t/o/${"x".repeat(60_000)}`,
    ];
    const statuses = [];
    for (const path of paths) {
      const response = await hit(path);
      statuses.push(response.status);
      expect(response.headers.get("location")).toBeNull();
    }
    // (A request line beyond Node's 16 KB header limit is refused by Node itself: 431.)
    expect(statuses).toEqual([404, 404, 404, 400, 404, 404, 400, 400, 400, 404, 431]);
    expect((await hit(`/t/c/${genuine}`, { method: "POST" })).status).toBe(405);
    expect(await storedJobs()).toBe(before);
    await runQueuedJobs(db.pool);
    expect((await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n).toBe(raw);
  });

  it("checks tokens without the database; a hit it cannot store is answered 503 and a forged one still 404", async () => {
    const dead = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none", connectionTimeoutMillis: 500 });
    const down = await startReceiver(dead, { trackingSecrets: [SECRET] });
    try {
      const unavailable = await fetch(`${down.url}${click(5, "https://example.org/five")}`, { redirect: "manual" });
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get("retry-after")).toBe("5");
      expect(unavailable.headers.get("location")).toBeNull();
      const forged = await fetch(`${down.url}/t/c/${new TrackingKeys([OTHER_DEPLOYMENT]).sign("click", operationId, 1, "https://example.org/")}`, { redirect: "manual" });
      expect(forged.status).toBe(404);
    } finally {
      await down.close();
      await dead.end();
    }
  });

  it("counts an open seen by both Azure and Mailroom once, in either order; unsubscribe links are no clicks", async () => {
    const now = Date.now();
    // Message 6: Azure's view first, then Mailroom's; message 7: Mailroom's first.
    await ingestAzure([azureEvent(6, "view", "", new Date(now))]);
    expect(await message(6)).toMatchObject({ opens_human: 1, opens_human_mailroom: 0 });
    await hit(open(6), { headers: { "user-agent": browser } });
    await hit(open(7), { headers: { "user-agent": browser } });
    await runQueuedJobs(db.pool);
    await ingestAzure([azureEvent(7, "view", "", new Date(now))]);
    for (const m of [6, 7]) {
      expect(await message(m)).toMatchObject({ opens_human: 1, opens_machine: 0, opens_human_mailroom: 1 });
      expect((await events(m)).map((e) => [e.engagement_source, e.ignored_reason])).toEqual(
        expect.arrayContaining([
          ["mailroom", null],
          ["azure", "the same view as Mailroom's own hit within 60 s"],
        ]),
      );
    }
    // A click through Azure's wrapper on Mailroom's tracking URL: the link is the URL inside; once.
    const trackingUrl = `https://mail.example.com${click(8, "https://example.org/eight")}`;
    await hit(click(8, "https://example.org/eight"), { headers: { "user-agent": browser } });
    await runQueuedJobs(db.pool);
    await ingestAzure([azureEvent(8, "click", trackingUrl, new Date(Date.now()))]);
    expect(await message(8)).toMatchObject({ clicks_human: 1, clicks_human_mailroom: 1 });
    expect((await events(8)).map((e) => [e.engagement_source, e.url, e.ignored_reason])).toEqual([
      ["mailroom", "https://example.org/eight", null],
      ["azure", "https://example.org/eight", "the same click as Mailroom's own hit within 60 s"],
    ]);
    // Azure reports the click on the unsubscribe link: not a click.
    await ingestAzure([azureEvent(9, "click", "https://mail.example.com/unsubscribe/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB", new Date())]);
    expect(await message(9)).toMatchObject({ clicks_human: 0, clicks_machine: 0 });
    expect((await events(9))[0]).toMatchObject({ ignored_reason: "unsubscribe link" });

    const rollup = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
    const oracle = (await db.pool.query("select * from app_public.campaign_rollup_from_events($1)", [campaignId])).rows[0];
    expect(rollup).toEqual(oracle);
    expect(rollup).toMatchObject({ opens_human_mailroom: "3", opens_human_azure: "0" });
    const links = (await db.pool.query("select url, clicks_human_azure, clicks_human_mailroom from app_public.link_clicks where campaign_id = $1 order by url", [campaignId])).rows;
    expect(links.map((l) => l.url)).not.toContain(expect.stringContaining("/unsubscribe/"));
    expect(links.find((l) => l.url === "https://example.org/eight")).toMatchObject({ clicks_human_azure: "0", clicks_human_mailroom: "1" });
  });

  it("counts only the campaign's sources: Azure's events of a campaign tracking mailroom count nowhere", async () => {
    await db.pool.query("update app_public.campaigns set engagement_tracking = 'mailroom' where id = $1", [campaignId]);
    try {
      await ingestAzure([azureEvent(10, "view", "", new Date())]);
      expect(await message(10)).toMatchObject({ opens_human: 0, opens_machine: 0 });
      expect((await events(10))[0]).toMatchObject({ ignored_reason: "the campaign counts mailroom engagement only" });
    } finally {
      await db.pool.query("update app_public.campaigns set engagement_tracking = 'both' where id = $1", [campaignId]);
    }
  });

  it("fixes a campaign's source at start, from its sender unless it has its own, and refuses a change after", async () => {
    const senderId = await createSender(db.pool);
    await db.pool.query("update app_public.senders set engagement_tracking = 'mailroom' where id = $1", [senderId]);
    const listId = await createList(db.pool, 1);
    const fromSender = await createCampaign(db.pool, { senderId, listIds: [listId] });
    const own = await createCampaign(db.pool, { senderId, listIds: [listId] });
    await db.pool.query("update app_public.campaigns set engagement_tracking = 'off' where id = $1", [own]);
    for (const id of [fromSender, own]) await db.pool.query("select app_public.start_campaign($1)", [id]);
    const { rows } = await db.pool.query("select id, engagement_tracking from app_public.campaigns where id in ($1, $2) order by id", [fromSender, own]);
    expect(rows.map((r) => r.engagement_tracking)).toEqual(["mailroom", "off"]);
    await expect(db.pool.query("update app_public.campaigns set engagement_tracking = 'both' where id = $1", [own])).rejects.toThrow(
      /is running and can no longer be edited/,
    );
  });

  it("truncates addresses after the retention period, in the column and in the payload as received", async () => {
    await hit(open(11), { headers: { "user-agent": browser, "x-forwarded-for": "2001:db8:1234:5678::9" } });
    await runQueuedJobs(db.pool);
    await db.pool.query("update app_public.raw_events set received_at = now() - interval '31 days' where ip_address is not null");
    const { rows } = await db.pool.query("select app_private.truncate_tracking_ip_addresses(interval '30 days', 10000) as n");
    expect(rows[0].n).toBeGreaterThan(5);
    const addresses = (await db.pool.query("select distinct ip_address::text as ip, event->'data'->>'ipAddress' as payload from app_public.raw_events where ip_address is not null order by 1")).rows;
    expect(addresses).toEqual([
      { ip: "127.0.0.0/24", payload: "127.0.0.0/24" },
      { ip: "2001:db8:1234::/48", payload: "2001:db8:1234::/48" },
      { ip: "205.139.110.0/24", payload: "205.139.110.0/24" },
    ]);
    expect((await db.pool.query("select app_private.truncate_tracking_ip_addresses(interval '30 days', 10000) as n")).rows[0].n).toBe(0);
  });
});
