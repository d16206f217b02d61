// A campaign's numbers through GraphQL: equal to the SQL rollup, to the rollup computed from the raw
// events, and to the recompute; the messages with their events; and the live numbers subscription,
// pushed through LISTEN/NOTIFY as events arrive.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";

let db: TestDatabase;
let api: GraphqlServer;
let analyst: string;
let admin: string;
let campaignId: string;

const ROLLUP_FIELDS = `recipients queued sending accepted sendFailed cancelled skipped delivered expanded bouncedHard
  bouncedSoft suppressed filteredSpam quarantined deliveryFailed unknownStatus uniqueOpensHuman uniqueOpens opensHuman
  opens uniqueClicksHuman uniqueClicks clicksHuman clicks unsubscribes complaints opensHumanAzure opensHumanMailroom
  clicksHumanAzure clicksHumanMailroom`;

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

interface Message {
  id: string;
  internet_message_id: string;
  operation_id: string;
  recipient: string;
}

let eventNumber = 0;
function delivery(m: Message, status: string, statusMessage = "No error.") {
  eventNumber += 1;
  return {
    id: `d-${eventNumber}`,
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
    eventTime: new Date().toISOString(),
    dataVersion: "1.0",
    metadataVersion: "1",
    data: {
      sender: "news@news.example.com",
      recipient: m.recipient,
      messageId: m.operation_id,
      internetMessageId: m.internet_message_id,
      status,
      deliveryStatusDetails: { statusMessage },
      deliveryAttemptTimestamp: new Date().toISOString(),
    },
  };
}
function engagement(m: Message, kind: "view" | "click", userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", url = "") {
  eventNumber += 1;
  return {
    id: `e-${eventNumber}`,
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: `sender/news@news.example.com/message/${m.operation_id}`,
    eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    eventTime: new Date().toISOString(),
    dataVersion: "1.0",
    metadataVersion: "1",
    data: {
      sender: "news@news.example.com",
      recipient: m.recipient,
      messageId: m.operation_id,
      internetMessageId: m.internet_message_id,
      engagementType: kind,
      engagementContext: url,
      userAgent,
      userActionTimestamp: new Date(Date.now() + 60_000).toISOString(),
    },
  };
}
async function ingest(events: unknown[]) {
  await db.pool.query("select app_private.ingest_events($1)", [
    JSON.stringify({ schema: "eventgrid", receivedAt: new Date().toISOString(), deliveryCount: 0, events }),
  ]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  analyst = await apiKey(db, "analyst");
  admin = await apiKey(db, "admin");
  api = await startGraphqlServer(db);
  const { rows } = await db.pool.query(`
    with sender as (insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com') returning id),
    list as (insert into app_public.lists (name, opt_in) values ('Everyone', 'single') returning id),
    subs as (insert into app_public.subscribers (email) select 'r' || i || '@example.org' from generate_series(1, 40) as i returning id),
    members as (insert into app_public.list_memberships (list_id, subscriber_id, status) select list.id, subs.id, 'confirmed' from list, subs),
    campaign as (insert into app_public.campaigns (name, sender_id, subject, text_body) select 'Autumn', id, 'Autumn news', 'Hello' from sender returning id),
    targets as (insert into app_public.campaign_lists (campaign_id, list_id) select campaign.id, list.id from campaign, list)
    select id from campaign`);
  campaignId = String(rows[0].id);
  await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
  // What the sending worker would record: 36 accepted by ACS, 4 refused.
  await db.pool.query(`update app_public.messages set send_status = 'accepted', accepted_at = now() - interval '1 hour'
    where campaign_id = $1 and id in (select id from app_public.messages where campaign_id = $1 order by id limit 36)`, [campaignId]);
  await db.pool.query(`update app_public.messages set send_status = 'failed', send_status_reason = 'InvalidRecipient'
    where campaign_id = $1 and send_status = 'queued'`, [campaignId]);
  const messages = (await db.pool.query<Message>(
    "select id, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1 and send_status = 'accepted' order by id", [campaignId])).rows;
  const events: unknown[] = [];
  messages.forEach((m, i) => {
    if (i < 30) events.push(delivery(m, "Delivered"));
    else if (i < 33) events.push(delivery(m, "Bounced", "550 5.1.1 mailbox unknown"));
    else if (i < 35) events.push(delivery(m, "Failed", "451 4.7.1 try later"));
    else events.push(delivery(m, "Suppressed"));
    if (i < 12) events.push(engagement(m, "view"));
    if (i < 4) events.push(engagement(m, "view"), engagement(m, "click", undefined, "https://example.com/offer"));
    if (i >= 12 && i < 16) events.push(engagement(m, "view", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 GoogleImageProxy"));
  });
  // Engagement first, delivery reports after: the order must not matter.
  await ingest(events.filter((e) => (e as { id: string }).id.startsWith("e-")));
  await ingest(events.filter((e) => (e as { id: string }).id.startsWith("d-")));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe("a campaign's numbers", () => {
  test("through GraphQL equal the SQL rollup, the rollup from the events and the recompute", async () => {
    const sql = (await db.pool.query("select * from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0];
    const expected = Object.fromEntries(Object.entries(sql).filter(([k]) => k !== "campaign_id").map(([k, v]) => [camel(k), String(v)]));
    expect(expected).toMatchObject({ recipients: "40", accepted: "36", sendFailed: "4", delivered: "30", bouncedHard: "3", suppressed: "1" });
    expect(Number(expected.uniqueOpensHuman)).toBeGreaterThan(0);

    const read = await api.query(analyst, `query($id: BigInt!) {
      campaignById(id: $id) { name status rollup { ${ROLLUP_FIELDS} } stats { openRate clickRate delivered } }
      campaignRollupFromEvents(campaignId: $id) { ${ROLLUP_FIELDS} }
    }`, { id: campaignId });
    expect(read.errors).toBeUndefined();
    expect(read.data!.campaignById.rollup).toEqual(expected);
    expect(read.data!.campaignRollupFromEvents).toEqual(expected);
    const rates = read.data!.campaignById.stats;
    expect(Number(rates.openRate)).toBeCloseTo(Number(expected.uniqueOpensHuman) / 30, 4);
    expect(Number(rates.clickRate)).toBeCloseTo(Number(expected.uniqueClicksHuman) / 30, 4);

    const recompute = await api.query(admin, `mutation($id: BigInt!) { recomputeCampaignRollup(input: { campaignId: $id }) { rollup { ${ROLLUP_FIELDS} } } }`, { id: campaignId });
    expect(recompute.errors).toBeUndefined();
    expect(recompute.data!.recomputeCampaignRollup.rollup).toEqual(expected);
    const denied = await api.query(analyst, `mutation($id: BigInt!) { recomputeCampaignRollup(input: { campaignId: $id }) { rollup { recipients } } }`, { id: campaignId });
    expect(denied.errors![0]!.message).toMatch(/permission denied/);
  });

  test("the first page of its messages with their events, human and machine", async () => {
    const page = await api.query(analyst, `query($id: BigInt!) {
      campaignById(id: $id) {
        messages(first: 20, orderBy: ID_ASC) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { recipient sendStatus deliveryStatus deliveryStatusMessage bounceType opensHuman opensMachine clicksHuman
            events(orderBy: OCCURRED_AT_ASC) { nodes { kind status engagementType url machineReason attributedBy rawEvent { eventId eventType } } } }
        }
        hourlyEngagement { nodes { hour opensHuman opens clicksHuman clicks } }
        linkClicks { nodes { url clicksHuman } }
      }
    }`, { id: campaignId });
    expect(page.errors).toBeUndefined();
    const messages = page.data!.campaignById.messages;
    expect(messages.totalCount).toBe(40);
    expect(messages.nodes).toHaveLength(20);
    expect(messages.pageInfo.hasNextPage).toBe(true);
    const first = messages.nodes[0];
    expect(first).toMatchObject({ sendStatus: "accepted", deliveryStatus: "Delivered", opensHuman: 2, clicksHuman: 1 });
    expect(first.events.nodes.map((e: { kind: string }) => e.kind).sort()).toEqual(["delivery_report", "engagement", "engagement", "engagement"]);
    expect(first.events.nodes.every((e: { attributedBy: string; rawEvent: { eventId: string } }) => e.attributedBy === "internet_message_id" && e.rawEvent.eventId)).toBe(true);
    const proxied = messages.nodes[12];
    expect(proxied).toMatchObject({ opensHuman: 0, opensMachine: 1 });
    expect(proxied.events.nodes.find((e: { kind: string }) => e.kind === "engagement").machineReason).toBeTruthy();
    expect(page.data!.campaignById.linkClicks.nodes.reduce((n: number, l: { clicksHuman: string }) => n + Number(l.clicksHuman), 0)).toBe(4);
    expect(page.data!.campaignById.hourlyEngagement.nodes.length).toBeGreaterThan(0);

    const next = await api.query(analyst, `query($id: BigInt!, $after: Cursor) { campaignById(id: $id) { messages(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage } } } }`,
      { id: campaignId, after: messages.pageInfo.endCursor });
    expect(next.data!.campaignById.messages.nodes).toHaveLength(20);
    expect(next.data!.campaignById.messages.pageInfo.hasNextPage).toBe(false);
  });

  test("filters and sorts campaigns, and reads a subscriber's messages, memberships and bounces", async () => {
    const campaigns = await api.query(analyst, `{ allCampaigns(condition: { status: "finished" }, orderBy: CREATED_AT_DESC, first: 10) { totalCount nodes { name rollup { delivered } } } }`);
    expect(campaigns.data!.allCampaigns).toEqual({ totalCount: 1, nodes: [{ name: "Autumn", rollup: { delivered: "30" } }] });
    const bounced = (await db.pool.query("select subscriber_id from app_public.bounces where bounce_type = 'hard' order by id limit 1")).rows[0].subscriber_id;
    const subscriber = await api.query(analyst, `query($id: BigInt!) { subscriberById(id: $id) { email status
      memberships { nodes { status list { name } } } messages { nodes { deliveryStatus bounceType campaign { name } } }
      bounces { nodes { bounceType status detail } } unsubscribes { totalCount } } }`, { id: String(bounced) });
    expect(subscriber.errors).toBeUndefined();
    expect(subscriber.data!.subscriberById).toMatchObject({
      status: "blocklisted", // the hard bounce policy blocklists at once
      memberships: { nodes: [{ status: "confirmed", list: { name: "Everyone" } }] },
      messages: { nodes: [{ deliveryStatus: "Bounced", bounceType: "hard", campaign: { name: "Autumn" } }] },
      bounces: { nodes: [{ bounceType: "hard", status: "Bounced" }] },
      unsubscribes: { totalCount: 0 },
    });
    const lists = await api.query(analyst, `{ allLists { nodes { name memberCounts { members confirmed } } } allBounces(orderBy: ID_ASC) { totalCount nodes { bounceType campaign { name } } } }`);
    expect(lists.data!.allLists.nodes).toEqual([{ name: "Everyone", memberCounts: { members: "40", confirmed: "40" } }]);
    expect(lists.errors).toBeUndefined();
    expect(lists.data!.allBounces.nodes.filter((b: { bounceType: string }) => b.bounceType === "hard")).toHaveLength(3);
  });

  test("unattributed events are listed", async () => {
    await ingest([engagement({ id: "0", operation_id: "00000000-0000-4000-8000-000000000000", internet_message_id: "<00000000-0000-4000-8000-000000000000@news.example.com>", recipient: "nobody@example.org" }, "view")]);
    const response = await api.query(analyst, `{ allUnattributedEvents { totalCount nodes { eventType recipient operationId } } }`);
    expect(response.data!.allUnattributedEvents).toEqual({
      totalCount: 1,
      nodes: [{ eventType: "Microsoft.Communication.EmailEngagementTrackingReportReceived", recipient: "nobody@example.org", operationId: "00000000-0000-4000-8000-000000000000" }],
    });
  });
});

describe("live numbers", () => {
  test("the subscription sends the new numbers when events arrive (LISTEN/NOTIFY)", async () => {
    const client = api.wsClient(analyst);
    const received: Record<string, string>[] = [];
    const errors: unknown[] = [];
    const unsubscribe = client.subscribe<{ campaignNumbers: Record<string, string> }>(
      { query: `subscription($id: BigInt!) { campaignNumbers(campaignId: $id) { delivered opens uniqueOpensHuman } }`, variables: { id: campaignId } },
      {
        next: (value) => received.push(value.data!.campaignNumbers),
        error: (e) => errors.push(e),
        complete: () => undefined,
      },
    );
    const until = async (condition: () => boolean, what: string, poke?: () => Promise<unknown>) => {
      const deadline = Date.now() + 30_000;
      while (!condition() && errors.length === 0) {
        if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
        await poke?.();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // The subscription is live once the server LISTENs, which the client is not told: notify its channel
    // (the numbers unchanged) until the first update arrives; then change the numbers.
    await until(() => received.length > 0, "the first update", () =>
      db.pool.query("select pg_notify($1, json_build_object('campaignId', $2::bigint)::text)", [`mailroom:campaign_rollup:${campaignId}`, campaignId]),
    );
    const before = (await db.pool.query("select opens from app_public.campaign_rollups where campaign_id = $1", [campaignId])).rows[0].opens;
    const m = (await db.pool.query<Message>("select id, internet_message_id, operation_id, recipient from app_public.messages where campaign_id = $1 order by id desc limit 1", [campaignId])).rows[0]!;
    await ingest([engagement(m, "view")]);
    await until(() => received.at(-1)!.opens === String(Number(before) + 1), "the update with the new numbers");
    unsubscribe();
    expect(errors).toEqual([]);
    expect(received.at(-1)!.opens).toBe(String(Number(before) + 1));
  });
});
