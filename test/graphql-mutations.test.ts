// Every mutation the API offers, as an admin over HTTP: its success, and the errors it documents.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";

let db: TestDatabase;
let api: GraphqlServer;
let admin: string;

const gql = async (query: string, variables?: Record<string, unknown>) => {
  const response = await api.query(admin, query, variables);
  return response;
};
const ok = async (query: string, variables?: Record<string, unknown>) => {
  const response = await gql(query, variables);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data!;
};

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await apiKey(db, "admin");
  api = await startGraphqlServer(db, { production: true });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe("subscribers", () => {
  test("create, update, delete", async () => {
    const created = await ok(`mutation { createSubscriber(input: { subscriber: { email: " Ada@Example.org ", name: "Ada", attributes: { plan: "pro" } } }) { subscriber { id email name attributes status } } }`);
    const subscriber = created.createSubscriber.subscriber;
    expect(subscriber).toMatchObject({ email: "Ada@Example.org", name: "Ada", attributes: { plan: "pro" }, status: "enabled" });
    const updated = await ok(`mutation($id: BigInt!) { updateSubscriberById(input: { id: $id, subscriberPatch: { name: "Ada L." } }) { subscriber { name } } }`, { id: subscriber.id });
    expect(updated.updateSubscriberById.subscriber.name).toBe("Ada L.");
    const other = await ok(`mutation { createSubscriber(input: { subscriber: { email: "gone@example.org" } }) { subscriber { id } } }`);
    const deleted = await ok(`mutation($id: BigInt!) { deleteSubscriberById(input: { id: $id }) { subscriber { email } } }`, { id: other.createSubscriber.subscriber.id });
    expect(deleted.deleteSubscriberById.subscriber.email).toBe("gone@example.org");
  });

  test("an invalid address and a second subscriber with the same address are refused, clearly", async () => {
    const invalid = await gql(`mutation { createSubscriber(input: { subscriber: { email: "not an address" } }) { subscriber { id } } }`);
    expect(errorOf(invalid)).toBe("email is not a valid address");
    expect(invalid.errors![0]!.extensions!.code).toBe("23514");
    const duplicate = await gql(`mutation { createSubscriber(input: { subscriber: { email: "ADA@example.org" } }) { subscriber { id } } }`);
    expect(errorOf(duplicate)).toBe("a subscriber with this email already exists");
    expect(duplicate.errors![0]!.extensions!.code).toBe("23505");
  });

  test("blocklist and unblocklist; an unknown subscriber is an error", async () => {
    const { rows } = await db.pool.query("select id from app_public.subscribers where lower(email) = 'ada@example.org'");
    const id = String(rows[0].id);
    const blocked = await ok(`mutation($id: BigInt!) { blocklistSubscriber(input: { subscriberId: $id }) { subscriber { id status } } }`, { id });
    expect(blocked.blocklistSubscriber.subscriber).toEqual({ id, status: "blocklisted" });
    const unblocked = await ok(`mutation($id: BigInt!) { unblocklistSubscriber(input: { subscriberId: $id }) { subscriber { status } } }`, { id });
    expect(unblocked.unblocklistSubscriber.subscriber.status).toBe("enabled");
    const unknown = await gql(`mutation { blocklistSubscriber(input: { subscriberId: "999999" }) { subscriber { id } } }`);
    expect(errorOf(unknown)).toBe("subscriber 999999 does not exist");
  });
});

describe("bulk import", () => {
  test("bad rows are reported and the rest imported, onto a list", async () => {
    const list = await ok(`mutation { createList(input: { list: { name: "Imported", optIn: "single" } }) { list { id } } }`);
    const listId = list.createList.list.id;
    const rows = [
      { email: "grace@example.org", name: "Grace" },
      { email: "no-at-sign.example.org" },
      { email: "" },
      { email: "ADA@example.org", name: "Ada again" },
      { email: "Grace@Example.org" },
      { email: "linus@example.org", attributes: [1, 2] },
      { email: "linus@example.org", attributes: { team: "kernel" } },
    ];
    const data = await ok(
      `mutation($rows: [SubscriberImportRowInput]!, $listId: BigInt) {
        importSubscribers(input: { subscribers: $rows, listId: $listId, membershipStatus: "confirmed" }) {
          rows { rowNumber email subscriberId outcome error addedToList }
        }
      }`,
      { rows, listId },
    );
    const report = data.importSubscribers.rows;
    expect(report.map((r: Record<string, unknown>) => [r.rowNumber, r.outcome, r.error, r.addedToList])).toEqual([
      [1, "created", null, true],
      [2, "rejected", "email is not a valid address", false],
      [3, "rejected", "email is required", false],
      [4, "existing", null, true],
      [5, "rejected", "the same email as row 1", false],
      [6, "rejected", "attributes must be a JSON object", false],
      [7, "created", null, true],
    ]);
    const members = await ok(`query($id: BigInt!) { listById(id: $id) { memberCounts { members confirmed } } }`, { id: listId });
    expect(members.listById.memberCounts).toEqual({ members: "3", confirmed: "3" });
    const ada = await db.pool.query("select name from app_public.subscribers where lower(email) = 'ada@example.org'");
    expect(ada.rows[0].name).toBe("Ada L."); // existing subscribers are left as they are by default
  });

  test("updateExisting replaces name and attributes", async () => {
    const data = await ok(`mutation { importSubscribers(input: { subscribers: [{ email: "ada@example.org", name: "Ada Lovelace" }], updateExisting: true }) { rows { outcome } } }`);
    expect(data.importSubscribers.rows[0].outcome).toBe("updated");
  });

  test("10,000 rows import in one request; 10,001 are refused; an unknown list is an error", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ email: `bulk${i}@example.com` }));
    const data = await ok(`mutation($rows: [SubscriberImportRowInput]!) { importSubscribers(input: { subscribers: $rows }) { rows { outcome } } }`, { rows });
    expect(data.importSubscribers.rows).toHaveLength(10_000);
    expect(data.importSubscribers.rows.every((r: { outcome: string }) => r.outcome === "created")).toBe(true);
    const tooMany = await gql(`mutation($rows: [SubscriberImportRowInput]!) { importSubscribers(input: { subscribers: $rows }) { rows { outcome } } }`, { rows: [...rows, { email: "one-more@example.com" }] });
    expect(errorOf(tooMany)).toBe("at most 10000 subscribers can be imported at once (got 10001)");
    const noList = await gql(`mutation { importSubscribers(input: { subscribers: [{ email: "x@example.com" }], listId: "424242" }) { rows { outcome } } }`);
    expect(errorOf(noList)).toBe("list 424242 does not exist");
  });
});

describe("lists, templates, senders", () => {
  test("lists and memberships", async () => {
    const list = (await ok(`mutation { createList(input: { list: { name: "Weekly", description: "Every Monday" } }) { list { id optIn } } }`)).createList.list;
    expect(list.optIn).toBe("double");
    const sub = (await ok(`mutation { createSubscriber(input: { subscriber: { email: "mary@example.org" } }) { subscriber { id } } }`)).createSubscriber.subscriber;
    const membership = await ok(`mutation($l: BigInt!, $s: BigInt!) { createListMembership(input: { listMembership: { listId: $l, subscriberId: $s } }) { listMembership { status list { name } subscriber { email } } } }`, { l: list.id, s: sub.id });
    expect(membership.createListMembership.listMembership).toEqual({ status: "unconfirmed", list: { name: "Weekly" }, subscriber: { email: "mary@example.org" } });
    const again = await gql(`mutation($l: BigInt!, $s: BigInt!) { createListMembership(input: { listMembership: { listId: $l, subscriberId: $s } }) { listMembership { status } } }`, { l: list.id, s: sub.id });
    expect(errorOf(again)).toBe("the subscriber is already a member of this list");
    const confirmed = await ok(`mutation($l: BigInt!, $s: BigInt!) { updateListMembershipByListIdAndSubscriberId(input: { listId: $l, subscriberId: $s, listMembershipPatch: { status: "confirmed" } }) { listMembership { status confirmedAt } } }`, { l: list.id, s: sub.id });
    expect(confirmed.updateListMembershipByListIdAndSubscriberId.listMembership.confirmedAt).not.toBeNull();
    const removed = await ok(`mutation($l: BigInt!, $s: BigInt!) { deleteListMembershipByListIdAndSubscriberId(input: { listId: $l, subscriberId: $s }) { listMembership { status } } }`, { l: list.id, s: sub.id });
    expect(removed.deleteListMembershipByListIdAndSubscriberId.listMembership.status).toBe("confirmed");
  });

  test("templates", async () => {
    const t = await ok(`mutation { createTemplate(input: { template: { name: "Plain", subject: "Hi {{ subscriber.name }}", textBody: "Hello" } }) { template { id subject } } }`);
    const u = await ok(`mutation($id: BigInt!) { updateTemplateById(input: { id: $id, templatePatch: { htmlBody: "<p>Hello</p>" } }) { template { htmlBody } } }`, { id: t.createTemplate.template.id });
    expect(u.updateTemplateById.template.htmlBody).toBe("<p>Hello</p>");
  });

  test("senders: the connection string is write-only; quota use is readable", async () => {
    const s = await ok(`mutation { createSender(input: { sender: { name: "News", fromAddress: "news@news.example.com" } }) { sender { id sendingDomain perMinuteLimit quotaUse { sentLastMinute remainingLastMinute capacityNow pausedUntil windowOpen } } } }`);
    const sender = s.createSender.sender;
    expect(sender.sendingDomain).toBe("news.example.com");
    expect(sender.quotaUse).toEqual({ sentLastMinute: 0, remainingLastMinute: 30, capacityNow: 30, pausedUntil: null, windowOpen: true });
    await ok(`mutation($id: BigInt!) { setSenderConnectionString(input: { senderId: $id, connectionString: "endpoint=https://x.communication.azure.com/;accesskey=c2VjcmV0" }) { clientMutationId } }`, { id: sender.id });
    const stored = await db.pool.query("select connection_string from app_private.sender_secrets where sender_id = $1", [sender.id]);
    expect(stored.rows[0].connection_string).toMatch(/^endpoint=/);
    const dup = await gql(`mutation { createSender(input: { sender: { name: "Again", fromAddress: "NEWS@news.example.com" } }) { sender { id } } }`);
    expect(errorOf(dup)).toBe("a sender with this from_address already exists");
    const badZone = await gql(`mutation { createSender(input: { sender: { name: "Z", fromAddress: "z@news.example.com", sendWindowStart: "09:00", sendWindowEnd: "17:00", sendWindowTimeZone: "Mars/Olympus" } }) { sender { id } } }`);
    expect(errorOf(badZone)).toBe('unknown time zone "Mars/Olympus"');
  });
});

describe("campaigns", () => {
  let senderId: string;
  let listId: string;

  beforeAll(async () => {
    senderId = (await ok(`mutation { createSender(input: { sender: { name: "Campaigns", fromAddress: "hello@mail.example.com" } }) { sender { id } } }`)).createSender.sender.id;
    listId = (await ok(`mutation { createList(input: { list: { name: "Customers", optIn: "single" } }) { list { id } } }`)).createList.list.id;
    await ok(`mutation($l: BigInt) { importSubscribers(input: { subscribers: [{ email: "c1@example.net" }, { email: "c2@example.net" }, { email: "c3@example.net" }], listId: $l }) { rows { outcome } } }`, { l: listId });
  });

  const createCampaign = async (name: string, withSender = true) =>
    (await ok(`mutation($name: String!, $s: BigInt) { createCampaign(input: { campaign: { name: $name, senderId: $s, subject: "News for {{ subscriber.email }}", textBody: "Hello" } }) { campaign { id status } } }`, { name, s: withSender ? senderId : null })).createCampaign.campaign;
  const addList = (campaignId: string, l: string) =>
    ok(`mutation($c: BigInt!, $l: BigInt!) { createCampaignList(input: { campaignList: { campaignId: $c, listId: $l } }) { campaignList { list { name } } } }`, { c: campaignId, l });
  const lifecycle = (mutation: string, campaignId: string, extra = "") =>
    gql(`mutation($id: BigInt) { ${mutation}(input: { campaignId: $id ${extra} }) { campaign { id status scheduledAt } } }`, { id: campaignId });

  test("start: no sender, no lists, no recipients (an empty campaign), then success, then a second start", async () => {
    const noSender = await createCampaign("No sender", false);
    expect(errorOf(await lifecycle("startCampaign", noSender.id))).toBe(`campaign ${noSender.id} has no sender`);

    const campaign = await createCampaign("Launch");
    expect(errorOf(await lifecycle("startCampaign", campaign.id))).toBe(`campaign ${campaign.id} has no lists`);

    const emptyList = (await ok(`mutation { createList(input: { list: { name: "Empty" } }) { list { id } } }`)).createList.list.id;
    const empty = await createCampaign("Empty");
    await addList(empty.id, emptyList);
    const none = await lifecycle("startCampaign", empty.id);
    expect(errorOf(none)).toBe(`campaign ${empty.id} has no recipients`);
    expect(none.errors![0]!.extensions!.hint).toMatch(/no confirmed/);

    await addList(campaign.id, listId);
    const started = await lifecycle("startCampaign", campaign.id);
    expect(started.errors).toBeUndefined();
    expect(started.data!.startCampaign.campaign.status).toBe("running");
    const numbers = await ok(`query($id: BigInt!) { campaignById(id: $id) { rollup { recipients queued } messages { totalCount } } }`, { id: campaign.id });
    expect(numbers.campaignById).toEqual({ rollup: { recipients: "3", queued: "3" }, messages: { totalCount: 3 } });

    expect(errorOf(await lifecycle("startCampaign", campaign.id))).toBe(`campaign ${campaign.id} has already been started (it is running)`);
    const lateList = await gql(`mutation($c: BigInt!, $l: BigInt!) { createCampaignList(input: { campaignList: { campaignId: $c, listId: $l } }) { campaignList { listId } } }`, { c: campaign.id, l: emptyList });
    expect(errorOf(lateList)).toBe(`the lists of campaign ${campaign.id} can no longer be changed`);
  });

  test("pause, resume, cancel and their errors", async () => {
    const campaign = await createCampaign("Pausable");
    await addList(campaign.id, listId);
    expect(errorOf(await lifecycle("pauseCampaign", campaign.id))).toBe(`campaign ${campaign.id} is draft; only a running campaign can be paused`);
    expect((await lifecycle("startCampaign", campaign.id)).data!.startCampaign.campaign.status).toBe("running");
    expect((await lifecycle("pauseCampaign", campaign.id)).data!.pauseCampaign.campaign.status).toBe("paused");
    expect(errorOf(await lifecycle("pauseCampaign", campaign.id))).toBe(`campaign ${campaign.id} is paused; only a running campaign can be paused`);
    expect((await lifecycle("resumeCampaign", campaign.id)).data!.resumeCampaign.campaign.status).toBe("running");
    expect(errorOf(await lifecycle("resumeCampaign", campaign.id))).toBe(`campaign ${campaign.id} is running; only a paused campaign can be resumed`);
    expect((await lifecycle("cancelCampaign", campaign.id)).data!.cancelCampaign.campaign.status).toBe("cancelled");
    expect(errorOf(await lifecycle("cancelCampaign", campaign.id))).toBe(`campaign ${campaign.id} is already cancelled`);
    const rollup = await ok(`query($id: BigInt!) { campaignById(id: $id) { rollup { cancelled queued } } }`, { id: campaign.id });
    expect(rollup.campaignById.rollup).toEqual({ cancelled: "3", queued: "0" });
  });

  test("schedule (not in the past), unschedule, edit and delete a draft", async () => {
    const campaign = await createCampaign("Later");
    await addList(campaign.id, listId);
    const past = await lifecycle("scheduleCampaign", campaign.id, `, startAt: "2020-01-01T00:00:00Z"`);
    expect(errorOf(past)).toMatch(/^a campaign must be scheduled in the future/);
    const at = new Date(Date.now() + 86_400_000).toISOString();
    const scheduled = await lifecycle("scheduleCampaign", campaign.id, `, startAt: "${at}"`);
    expect(scheduled.errors).toBeUndefined();
    expect(scheduled.data!.scheduleCampaign.campaign.status).toBe("scheduled");
    expect(new Date(scheduled.data!.scheduleCampaign.campaign.scheduledAt).toISOString()).toBe(at);
    expect((await lifecycle("unscheduleCampaign", campaign.id)).data!.unscheduleCampaign.campaign.status).toBe("draft");
    expect(errorOf(await lifecycle("unscheduleCampaign", campaign.id))).toBe(`campaign ${campaign.id} is draft, not scheduled`);
    const edited = await ok(`mutation($id: BigInt!) { updateCampaignById(input: { id: $id, campaignPatch: { subject: "Later news" } }) { campaign { subject } } }`, { id: campaign.id });
    expect(edited.updateCampaignById.campaign.subject).toBe("Later news");
    const deleted = await ok(`mutation($id: BigInt!) { deleteCampaignById(input: { id: $id }) { campaign { name } } }`, { id: campaign.id });
    expect(deleted.deleteCampaignById.campaign.name).toBe("Later");
  });

  test("a started campaign cannot be edited", async () => {
    const { rows } = await db.pool.query("select id from app_public.campaigns where name = 'Launch'");
    const edit = await gql(`mutation($id: BigInt!) { updateCampaignById(input: { id: $id, campaignPatch: { subject: "Changed" } }) { campaign { id } } }`, { id: String(rows[0].id) });
    expect(errorOf(edit)).toBe(`campaign ${rows[0].id} is running and can no longer be edited`);
  });

  test("record a complaint, once per message", async () => {
    const { rows } = await db.pool.query("select m.id from app_public.messages as m join app_public.campaigns as c on c.id = m.campaign_id where c.name = 'Launch' limit 1");
    const first = await ok(`mutation($id: BigInt) { recordComplaint(input: { messageId: $id, detail: "abuse report" }) { recorded } }`, { id: String(rows[0].id) });
    expect(first.recordComplaint.recorded).toBe(true);
    const second = await ok(`mutation($id: BigInt) { recordComplaint(input: { messageId: $id }) { recorded } }`, { id: String(rows[0].id) });
    expect(second.recordComplaint.recorded).toBe(false);
    const unknown = await gql(`mutation { recordComplaint(input: { messageId: "999999" }) { recorded } }`);
    expect(errorOf(unknown)).toBe("message 999999 does not exist");
  });
});
