// mailroom campaigns status (campaign-status), campaigns recompute (recompute) and replay-unattributed as a user
// runs them, and the retention task: payloads older than N days removed, every derived number and key kept,
// recompute unchanged. Last, delivery statuses that overlap in the rollup (bounces and the statuses that are
// bounces) shown so that the shares of one base add up to 100%.
import crypto from "node:crypto";
import { quickAddJob, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { retentionCronItems } from "../src/retention.ts";
import { DEFAULT_SENDING_SETTINGS } from "../src/sending/settings.ts";
import { createTaskList } from "../tasks/index.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runMailroom } from "./helpers/process.ts";

let db: TestDatabase;
let campaignId: string;
let messages: { id: string; recipient: string; internet_message_id: string; operation_id: string }[];

const DAY = 86_400_000;

async function mailroom(...args: string[]): Promise<{ code: number | string; output: string }> {
  const child = runMailroom(args, { ...commandEnvironment(db), LOG_LEVEL: "warn" });
  const code = await child.exited;
  return { code, output: child.output() };
}

function deliveryReport(m: (typeof messages)[number], status: string, at: Date, statusMessage = "") {
  return {
    id: crypto.randomUUID(),
    topic: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
    eventTime: at.toISOString(),
    dataVersion: "1.0",
    data: {
      sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id,
      internetMessageId: m.internet_message_id, status, deliveryStatusDetails: { statusMessage },
      deliveryAttemptTimeStamp: at.toISOString(),
    },
  };
}

function engagement(m: (typeof messages)[number], type: "view" | "click", at: Date) {
  return {
    id: crypto.randomUUID(),
    topic: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: at.toISOString(),
    dataVersion: "1.0",
    data: {
      sender: "news@news.example.com", recipient: m.recipient, messageId: m.operation_id,
      engagementType: type, engagementContext: type === "click" ? "https://example.com/offer" : "",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", userActionTimeStamp: at.toISOString(),
    },
  };
}

async function ingest(events: unknown[], receivedAt: Date): Promise<void> {
  await db.pool.query("select * from app_private.ingest_events($1)", [
    JSON.stringify({ schema: "eventgrid", receivedAt: receivedAt.toISOString(), deliveryCount: 1, subscriptionName: "test", events }),
  ]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { rows } = await db.pool.query(
    `with sender as (
       insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id
     ), campaign as (
       insert into app_public.campaigns (name, sender_id) select 'Spring', id from sender returning id
     ), subscriber as (
       insert into app_public.subscribers (email) select 'r' || g || '@example.org' from generate_series(1, 4) as g returning id, email
     )
     insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient)
     select campaign.id, subscriber.id, sender.id, subscriber.email from campaign, subscriber, sender
     returning id, campaign_id, recipient, internet_message_id, operation_id`,
  );
  campaignId = rows[0].campaign_id;
  messages = rows.sort((a, b) => Number(a.id) - Number(b.id));
  const old = new Date(Date.now() - 40 * DAY);
  await db.pool.query("update app_public.messages set send_status = 'accepted', accepted_at = $1", [new Date(old.getTime() - 60_000)]);
  // Forty days ago: delivered to all four, opened by two, clicked by one, one bounce; today: one more view.
  await ingest([
    deliveryReport(messages[0]!, "Delivered", old), deliveryReport(messages[1]!, "Delivered", old),
    deliveryReport(messages[2]!, "Delivered", old), deliveryReport(messages[3]!, "Bounced", old),
    engagement(messages[0]!, "view", new Date(old.getTime() + 60_000)),
    engagement(messages[1]!, "view", new Date(old.getTime() + 60_000)),
    engagement(messages[1]!, "click", new Date(old.getTime() + 120_000)),
  ], old);
  await ingest([engagement(messages[2]!, "view", new Date())], new Date());
});
afterAll(async () => {
  await db?.drop();
});

describe("mailroom campaigns status (campaign-status)", () => {
  it("prints the campaign's numbers from the rollup as a table; --json gives campaign_stats", async () => {
    const { code, output } = await mailroom("campaigns", "status", campaignId);
    expect(code).toBe(0);
    expect(output).toContain(`Campaign ${campaignId} "Spring": draft`);
    expect(output).toMatch(/recipients\s+4\n/);
    expect(output).toMatch(/accepted by ACS\s+4\s+100\.0%/);
    expect(output).toMatch(/\n {2}delivered\s+3\s+75\.0%/);
    expect(output).toMatch(/\n {2}bounced\s+1\s+25\.0%/);
    expect(output).toMatch(/\n {4}of which hard\s+1\s+25\.0%/);
    expect(output).toMatch(/\n {2}no report yet\s+0\s+0\.0%/);
    expect(output).toMatch(/\n {2}opened\s+3\s+100\.0%\n {4}of which by people\s+3\s+100\.0%/);
    expect(output).toMatch(/\n {2}clicked\s+1\s+33\.3%\n {4}of which by people\s+1\s+33\.3%/);
    expect(output).toContain("Open rate 100.0%, click rate 33.3%");
    // The old name runs the same command.
    const old = await mailroom("campaign-status", campaignId);
    expect(old).toEqual({ code: 0, output });

    const json = await mailroom("campaigns", "status", campaignId, "--json");
    expect(json.code).toBe(0);
    const stats = (await db.pool.query("select * from app_public.campaign_stats where campaign_id = $1", [campaignId])).rows[0];
    const parsed = JSON.parse(json.output);
    expect(parsed.delivered).toBe(Number(stats.delivered));
    expect(parsed.unique_opens_human).toBe(3);
    expect(parsed.open_rate).toBe(1);
    expect(parsed).toMatchObject({ campaign_id: Number(campaignId), name: "Spring", bounced: 1, awaiting_report: 0 });
  });

  it("exits 3 for an unknown campaign and 2 for a malformed id", async () => {
    expect(await mailroom("campaigns", "status", "999999")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
    expect(await mailroom("campaign-status", "999999")).toEqual({ code: 3, output: expect.stringContaining("campaign 999999 does not exist") });
    expect(await mailroom("campaigns", "status", "abc")).toEqual({ code: 2, output: expect.stringContaining('the campaign id must be a positive integer (got "abc")') });
    expect((await mailroom("campaigns", "status")).code).toBe(2);
  });
});

describe("mailroom campaigns recompute (recompute)", () => {
  it("rebuilds the numbers from the raw events and prints what changed; again, that nothing did", async () => {
    await db.pool.query("update app_public.campaign_rollups set delivered = delivered + 5, clicks = 0 where campaign_id = $1", [campaignId]);
    const first = await mailroom("campaigns", "recompute", campaignId);
    expect(first.code).toBe(0);
    expect(first.output).toContain("2 numbers changed:");
    expect(first.output).toMatch(/delivered\s+8 -> 3 \(-5\)/);
    expect(first.output).toMatch(/clicks\s+0 -> 1 \(\+1\)/);
    // The old name runs the same command.
    const second = await mailroom("recompute", campaignId);
    expect(second.output).toContain("No change: the numbers already matched the raw events.");
    const json = JSON.parse((await mailroom("campaigns", "recompute", campaignId, "--json")).output);
    expect(json).toMatchObject({ changed: [], messagesChanged: 0, rollup: { campaign_id: Number(campaignId), delivered: 3, clicks: 1 } });
  });
});

describe("mailroom replay-unattributed", () => {
  it("attributes the pending events that match a message now, and leaves the others pending", async () => {
    // A state attribution cannot reach by itself: events parked as pending although their message exists
    // (as after a restore, or a message written with triggers disabled).
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await client.query("alter table app_public.raw_events disable trigger _500_attribute_events");
      const stranger = { ...messages[0]!, recipient: "nobody@example.org", internet_message_id: "<0-0@nowhere.example>", operation_id: crypto.randomUUID() };
      await client.query("select * from app_private.ingest_events($1)", [JSON.stringify({
        schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 1, subscriptionName: "test",
        events: [engagement(messages[3]!, "view", new Date()), deliveryReport(stranger, "Delivered", new Date())],
      })]);
      await client.query(`insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
        select e.id, e.internet_message_id, e.operation_id, e.recipient from app_public.raw_events as e
        where not exists (select 1 from app_public.message_events as me where me.raw_event_id = e.id)`);
      await client.query("alter table app_public.raw_events enable trigger _500_attribute_events");
      await client.query("commit");
    } finally {
      client.release();
    }
    const { code, output } = await mailroom("replay-unattributed");
    expect(code).toBe(0);
    expect(output).toContain("Unattributed events before: 2");
    expect(output).toContain("Attributed now: 1 (by operation_id_and_recipient 1)");
    expect(output).toContain("Still unattributed: 1");
    const message = (await db.pool.query("select opens_human from app_public.messages where id = $1", [messages[3]!.id])).rows[0];
    expect(message.opens_human).toBe(1);
    expect((await mailroom("recompute", campaignId)).output).toContain("No change");
    expect((await mailroom("replay-unattributed")).output).toContain("Attributed now: 0\n");
  });
});

describe("retention of raw event payloads", () => {
  it("is off unless RAW_EVENT_RETENTION_DAYS is set; then the task runs hourly", () => {
    expect(loadConfig({}).rawEventRetentionDays).toBeUndefined();
    expect(loadConfig({ RAW_EVENT_RETENTION_DAYS: "0" }).rawEventRetentionDays).toBeUndefined();
    expect(loadConfig({ RAW_EVENT_RETENTION_DAYS: "30" }).rawEventRetentionDays).toBe(30);
    expect(() => loadConfig({ RAW_EVENT_RETENTION_DAYS: "a month" })).toThrow(/RAW_EVENT_RETENTION_DAYS="a month"; expected an integer from 0 to 36500/);
    expect(retentionCronItems(undefined)).toEqual([]);
    expect(retentionCronItems(30)).toEqual([expect.objectContaining({
      task: "remove_raw_event_payloads", match: "17 * * * *", payload: { retentionDays: 30 } })]);
  });

  it("removes payloads older than N days and keeps every derived number, key and the recompute result", async () => {
    const snapshot = async () => ({
      rollup: (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows,
      fromEvents: (await db.pool.query("select * from app_public.campaign_rollup_from_events($1)", [campaignId])).rows,
      messageEvents: (await db.pool.query("select * from app_public.message_events order by raw_event_id")).rows,
      messages: (await db.pool.query("select * from app_public.messages order by id")).rows,
      bounces: (await db.pool.query("select * from app_public.bounces order by id")).rows,
      keys: (await db.pool.query(
        "select id, event_id, internet_message_id, operation_id, recipient, status, occurred_at from app_public.raw_events order by id")).rows,
      pending: (await db.pool.query("select * from app_private.pending_events order by raw_event_id")).rows,
    });
    const before = await snapshot();
    const payloads = async () => (await db.pool.query(
      "select count(*) filter (where event is null)::int as removed, count(*) filter (where event is not null)::int as kept from app_public.raw_events")).rows[0];
    expect(await payloads()).toEqual({ removed: 0, kept: 10 });

    await quickAddJob({ pgPool: db.pool }, "remove_raw_event_payloads", { retentionDays: 30 });
    await runOnce({ pgPool: db.pool, taskList: createTaskList(DEFAULT_SENDING_SETTINGS) });
    expect(await payloads()).toEqual({ removed: 7, kept: 3 });
    expect(await snapshot()).toEqual(before);

    const recomputed = await mailroom("recompute", campaignId);
    expect(recomputed.output).toContain("No change: the numbers already matched the raw events.");
    expect(await snapshot()).toEqual(before);
  });
});

describe("delivery statuses that overlap in the rollup", () => {
  it("bounces by type and by status are parts of one line: the shares of the top-level lines add up to 100%", async () => {
    // One message per kind of delivery report, and one without a report: 12 accepted messages.
    const reports: [status: string, statusMessage: string][] = [
      ["Delivered", ""], ["Delivered", ""], ["Delivered", ""], ["Expanded", ""],
      ["Bounced", "550 5.1.1 user unknown"], ["Failed", "550 5.7.1 rejected"], ["Failed", "421 4.4.2 timed out"],
      ["Quarantined", ""], ["FilteredSpam", ""], ["Suppressed", ""], ["Weird", ""],
    ];
    const { rows } = await db.pool.query(
      `with campaign as (
         insert into app_public.campaigns (name, sender_id) select 'Overlap', id from app_public.senders where from_address = 'news@news.example.com' returning id, sender_id
       ), subscriber as (
         insert into app_public.subscribers (email) select 'overlap' || g || '@example.org' from generate_series(1, 12) as g returning id, email
       )
       insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, send_status, accepted_at)
       select campaign.id, subscriber.id, campaign.sender_id, subscriber.email, 'accepted', now() - interval '1 hour' from campaign, subscriber
       returning id, campaign_id, recipient, internet_message_id, operation_id`,
    );
    const overlap = rows.sort((a, b) => Number(a.id) - Number(b.id));
    const overlapId = overlap[0].campaign_id as string;
    await ingest(reports.map(([status, statusMessage], i) => deliveryReport(overlap[i]!, status, new Date(), statusMessage)), new Date());
    const rollup = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [overlapId])).rows[0];
    // What the rollup holds: the bounce types overlap with failed, quarantined and filtered as spam.
    expect(rollup).toMatchObject({ accepted: "12", delivered: "3", expanded: "1", bounced_hard: "2", bounced_soft: "3", delivery_failed: "2",
      quarantined: "1", filtered_spam: "1", suppressed: "1", unknown_status: "1" });

    const { code, output } = await mailroom("campaigns", "status", overlapId);
    expect(code).toBe(0);
    const section = output.slice(output.indexOf("Delivery (share of accepted)\n"), output.indexOf("Engagement (share of delivered)"));
    const lines = section.split("\n").slice(1).filter((line) => line !== "");
    const parse = (line: string) => {
      const match = /^( +)(.+?)\s+(\d+)\s+(\d+\.\d)%$/.exec(line)!;
      expect(match, line).not.toBeNull();
      return { indent: match[1]!.length, label: match[2]!, count: Number(match[3]), share: Number(match[4]) };
    };
    const parsed = lines.map(parse);
    const top = parsed.filter((l) => l.indent === 2);
    const parts = parsed.filter((l) => l.indent > 2);
    expect(top.map((l) => [l.label, l.count])).toEqual([
      ["delivered", 3], ["expanded", 1], ["bounced", 5], ["suppressed", 1], ["unknown status", 1], ["no report yet", 1],
    ]);
    // What went in comes out: every accepted message on exactly one top-level line.
    expect(top.reduce((sum, l) => sum + l.count, 0)).toBe(12);
    const shareSum = top.reduce((sum, l) => sum + l.share, 0);
    expect(shareSum).toBeLessThanOrEqual(100);
    expect(shareSum).toBeCloseTo(100, 5);
    // The subsets are labelled and indented under the bounces, and add up to them by type and by status.
    expect(parts.map((l) => [l.label, l.count])).toEqual([
      ["of which hard", 2], ["of which soft", 3], ["of which failed", 2], ["of which quarantined", 1], ["of which filtered as spam", 1],
    ]);
    expect(parts.every((l) => l.indent === 4 && l.label.startsWith("of which "))).toBe(true);
    // The rollup's columns side by side, as the table had them, pass the accepted messages: 15 of 12 (125%).
    const columns = parsed.filter((l) => l.label !== "bounced" && l.label !== "no report yet");
    expect(columns.reduce((sum, l) => sum + l.count, 0)).toBe(15);

    const json = JSON.parse((await mailroom("campaigns", "status", overlapId, "--json")).output);
    expect(json).toMatchObject({ accepted: 12, bounced: 5, bounced_hard: 2, bounced_soft: 3, awaiting_report: 1 });
  });

  it("rounds the shares of lines that never overlap so that they still add up to 100%", async () => {
    const { partitionShares } = await import("../src/commands/campaign-numbers.ts");
    expect(partitionShares([1, 1, 1, 1, 1, 1], 6)).toEqual([167, 167, 167, 167, 166, 166]);
    expect(partitionShares([1, 1, 1], 3)).toEqual([334, 333, 333]);
    expect(partitionShares([2, 1], 4)).toEqual([500, 250]);
    expect(partitionShares([0, 0], 5)).toEqual([0, 0]);
  });
});
