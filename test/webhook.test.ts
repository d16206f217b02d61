// POST /webhooks/acs over real HTTP against a real database: every fixture in its content type,
// redeliveries, authentication, and every error path with the status Event Grid needs to see.
import fs from "node:fs";
import path from "node:path";
import { EventGridDeserializer } from "@azure/eventgrid";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { createFixtureMessage } from "./helpers/fixture-message.ts";
import { runQueuedJobs, startReceiver, TEST_SECRET, type Receiver } from "./helpers/receiver.ts";

const fixtures = path.resolve(import.meta.dirname, "fixtures/eventgrid");
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), "utf8");
const deserializer = new EventGridDeserializer();

let db: TestDatabase;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver(db.pool);
});
afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(
    "truncate app_public.raw_events, app_public.messages, app_public.campaigns, app_public.subscribers, app_public.senders, graphile_worker._private_jobs cascade",
  );
});

async function post(body: string, headers: Record<string, string> = {}, query = `?code=${TEST_SECRET}`) {
  const response = await fetch(`${receiver.url}/webhooks/acs${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", "aeg-event-type": "Notification", ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function queuedJobs(): Promise<number> {
  const { rows } = await db.pool.query(
    `select count(*)::int as n from graphile_worker._private_jobs j
     join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'ingest_events'`,
  );
  return rows[0].n;
}

async function storedEvents() {
  const { rows } = await db.pool.query(
    "select event_id, event_type, event_schema, times_received, delivery_count, problem from app_public.raw_events order by event_id",
  );
  return rows;
}

const deliveries: [string, string, "eventgrid" | "cloudevents"][] = [
  ["eventgrid-delivery-delivered.json", "application/json", "eventgrid"],
  ["eventgrid-delivery-bounced.json", "application/json", "eventgrid"],
  ["eventgrid-engagement-click.json", "application/json", "eventgrid"],
  ["eventgrid-engagement-view.json", "application/json", "eventgrid"],
  ["eventgrid-batch-mixed.json", "application/json; charset=utf-8", "eventgrid"],
  ["cloudevents-delivery-delivered.json", "application/cloudevents+json; charset=utf-8", "cloudevents"],
  ["cloudevents-batch-engagement.json", "application/cloudevents-batch+json", "cloudevents"],
];

describe("deliveries in the documented shapes", () => {
  test.each(deliveries)("%s (%s) is acknowledged, queued as one job and stored", async (file, contentType, schema) => {
    const body = fixture(file);
    // The fixtures are in Azure's shapes: the SDK's deserializer accepts them.
    const parsed =
      schema === "eventgrid"
        ? await deserializer.deserializeEventGridEvents(body)
        : await deserializer.deserializeCloudEvents(body);
    const ids = parsed.map((e) => e.id).sort();

    const response = await post(body, { "content-type": contentType, "aeg-delivery-count": "0" });
    expect(response).toMatchObject({ status: 200, body: { received: ids.length } });
    expect(await queuedJobs()).toBe(1);

    await runQueuedJobs(db.pool);
    const left = await db.pool.query("select attempts, locked_at, locked_by, run_at, now() as now, last_error from graphile_worker._private_jobs");
    expect(left.rows).toEqual([]);
    expect(await queuedJobs()).toBe(0);
    const stored = await storedEvents();
    expect(stored.map((e) => e.event_id)).toEqual(ids);
    expect(stored.every((e) => e.event_schema === schema && e.problem === null && e.times_received === 1)).toBe(true);
  });

  test("the subscription validation handshake answers with the validation code and stores nothing", async () => {
    const body = fixture("eventgrid-subscription-validation.json");
    const code = JSON.parse(body)[0].data.validationCode;
    const response = await post(body, { "aeg-event-type": "SubscriptionValidation" });
    expect(response).toEqual(expect.objectContaining({ status: 200, body: { validationResponse: code } }));
    expect(await queuedJobs()).toBe(0);
  });

  test("the validation handshake is authenticated like any delivery", async () => {
    const body = fixture("eventgrid-subscription-validation.json");
    expect((await post(body, { "aeg-event-type": "SubscriptionValidation" }, "")).status).toBe(401);
  });

  test("CloudEvents abuse protection: OPTIONS answers with WebHook-Allowed-Origin", async () => {
    const response = await fetch(`${receiver.url}/webhooks/acs?code=${TEST_SECRET}`, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
    expect(response.headers.get("webhook-allowed-rate")).toBe("*");
    const anonymous = await fetch(`${receiver.url}/webhooks/acs`, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
    });
    expect(anonymous.status).toBe(401);
  });

  test("SubscriptionDeletion is acknowledged", async () => {
    const response = await post("[]", { "aeg-event-type": "SubscriptionDeletion" });
    expect(response.status).toBe(200);
    expect(await queuedJobs()).toBe(0);
  });

  test("an unknown event type in a valid envelope is accepted and stored", async () => {
    const event = JSON.parse(fixture("eventgrid-delivery-delivered.json"))[0];
    const future = { ...event, id: "future-1", eventType: "Microsoft.Communication.EmailSomethingNewReceived" };
    expect((await post(JSON.stringify([future]))).status).toBe(200);
    await runQueuedJobs(db.pool);
    expect(await storedEvents()).toMatchObject([
      { event_id: "future-1", event_type: "Microsoft.Communication.EmailSomethingNewReceived" },
    ]);
  });
});

describe("attribution of what arrived", () => {
  test("the mixed batch: engagement first, then the delivery report, all attributed to the one message once it exists", async () => {
    expect((await post(fixture("eventgrid-batch-mixed.json"))).status).toBe(200);
    await runQueuedJobs(db.pool);
    const events = async () =>
      (
        await db.pool.query(
          `select r.event_id, me.attributed_by, me.message_id
           from app_public.raw_events r left join app_public.message_events me on me.raw_event_id = r.id
           order by r.event_id`,
        )
      ).rows;
    // Before the message row exists nothing can be attributed, and nothing is guessed.
    expect((await events()).every((e) => e.message_id === null)).toBe(true);

    const messageId = await createFixtureMessage(db.pool);
    const attributed = await events();
    const byId = Object.fromEntries(attributed.map((e) => [e.event_id, e]));
    // The view carries another messageId and is tied to the message by internetMessageId only.
    expect(byId["e1a2b3c4-0003-4000-8000-000000000003"]).toMatchObject({ message_id: messageId, attributed_by: "internet_message_id" });
    // The click has no internetMessageId: the operation id and the recipient tie it.
    expect(byId["e1a2b3c4-0004-4000-8000-000000000004"].message_id).toBe(messageId);
    expect(byId["e1a2b3c4-0004-4000-8000-000000000004"].attributed_by).toMatch(/^operation_id/);
    expect(byId["d1a2b3c4-0001-4000-8000-000000000001"]).toMatchObject({ message_id: messageId, attributed_by: "internet_message_id" });
    // The bounce belongs to another message (another Message-ID, operation id and recipient): it stays unattributed.
    expect(byId["d1a2b3c4-0002-4000-8000-000000000002"].message_id).toBeNull();
    const pending = await db.pool.query(
      "select e.event_id from app_private.pending_events p join app_public.raw_events e on e.id = p.raw_event_id",
    );
    expect(pending.rows).toEqual([{ event_id: "d1a2b3c4-0002-4000-8000-000000000002" }]);
    const message = await db.pool.query(
      "select delivery_status, opens_human + opens_machine as opens, clicks_human + clicks_machine as clicks from app_public.messages where id = $1",
      [messageId],
    );
    expect(message.rows[0]).toEqual({ delivery_status: "Delivered", opens: 1, clicks: 1 });
  });
});

describe("redelivery", () => {
  test("the same events again, with a higher delivery count, are stored once", async () => {
    const body = fixture("eventgrid-batch-mixed.json");
    expect((await post(body, { "aeg-delivery-count": "0" })).status).toBe(200);
    await runQueuedJobs(db.pool);
    expect((await post(body, { "aeg-delivery-count": "3" })).status).toBe(200);
    await runQueuedJobs(db.pool);
    const stored = await storedEvents();
    expect(stored).toHaveLength(JSON.parse(body).length);
    expect(stored.every((e) => e.times_received === 2 && e.delivery_count === 3)).toBe(true);
  });
});

describe("authentication", () => {
  const body = () => fixture("eventgrid-delivery-delivered.json");

  test("a valid secret in the query string or in the x-webhook-key header is accepted", async () => {
    expect((await post(body())).status).toBe(200);
    expect((await post(body(), { "x-webhook-key": TEST_SECRET }, "")).status).toBe(200);
  });

  test("missing or wrong credentials get 401 without saying which part was wrong", async () => {
    const missing = await post(body(), {}, "");
    const wrongQuery = await post(body(), {}, "?code=not-the-secret-at-all");
    const wrongHeader = await post(body(), { "x-webhook-key": "not-the-secret-at-all" }, "");
    for (const r of [missing, wrongQuery, wrongHeader]) {
      expect(r).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    }
    expect(await queuedJobs()).toBe(0);
  });

  test("secret rotation: every secret in WEBHOOK_SECRETS is accepted", async () => {
    const rotating = await startReceiver(db.pool, { secrets: ["old-secret-0123456789", "new-secret-0123456789"] });
    try {
      for (const code of ["old-secret-0123456789", "new-secret-0123456789"]) {
        const r = await fetch(`${rotating.url}/webhooks/acs?code=${code}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: body(),
        });
        expect(r.status).toBe(200);
      }
    } finally {
      await rotating.close();
    }
  });

  test("nothing configured means closed: every delivery gets 401", async () => {
    const closed = await startReceiver(db.pool, { secrets: [] });
    try {
      const r = await fetch(`${closed.url}/webhooks/acs?code=`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(),
      });
      expect(r.status).toBe(401);
    } finally {
      await closed.close();
    }
  });
});

describe("bad input gets a clear, final answer", () => {
  const event = () => JSON.parse(fixture("eventgrid-delivery-delivered.json"))[0];

  test.each([
    ["malformed JSON", "[{", "application/json", /malformed JSON/],
    ["an object where the Event Grid schema has an array", JSON.stringify({ id: "x" }), "application/json", /JSON array/],
    ["an empty batch", "[]", "application/json", /no events/],
    ["an event that is not an object", "[42]", "application/json", /event 0 is not a JSON object/],
    ["an event without an id", JSON.stringify([{ eventType: "x", subject: "s" }]), "application/json", /event 0 lacks id/],
    ["a CloudEvent without specversion", JSON.stringify({ id: "1", type: "t", source: "s" }), "application/cloudevents+json", /lacks specversion/],
    ["a CloudEvents batch that is not an array", JSON.stringify({ id: "1" }), "application/cloudevents-batch+json", /JSON array/],
    ["an unsupported content type", "id=1", "application/x-www-form-urlencoded", /unsupported content type/],
  ])("%s: 400 with the reason", async (_name, body, contentType, reason) => {
    const r = await post(body, { "content-type": contentType });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(reason);
    expect(await queuedJobs()).toBe(0);
  });

  test("one event over 1 MB: 413", async () => {
    const big = { ...event(), data: { ...event().data, padding: "x".repeat(1024 * 1024) } };
    const r = await post(JSON.stringify([big]));
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/larger than 1 MB/);
  });

  test("a request over the configured maximum: 413, while a batch just under it is accepted", async () => {
    const small = await startReceiver(db.pool, { maxBodyBytes: 2 * 1024 * 1024 });
    try {
      const events = (count: number) =>
        JSON.stringify(Array.from({ length: count }, (_, i) => ({ ...event(), id: `big-${i}`, data: { ...event().data, padding: "y".repeat(1000) } })));
      const send = (body: string) =>
        fetch(`${small.url}/webhooks/acs?code=${TEST_SECRET}`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect((await send(events(3000))).status).toBe(413);
      expect((await send(events(1000))).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  test("the default maximum fits the largest request Event Grid sends: a batch filled to 1024 KB with one event of 1 MB on top", async () => {
    // A batch is filled up to the preferred size (at most 1024 KB) and goes over it only by an event
    // larger than that, which travels alone; here the batcher is assumed to overshoot by a whole event.
    const events: object[] = [];
    let bytes = 2;
    while (bytes < 1024 * 1024) {
      const e = { ...event(), id: `full-${events.length}` };
      events.push(e);
      bytes += JSON.stringify(e).length + 1;
    }
    const big = { ...event(), id: "full-big", data: { ...event().data, padding: "z".repeat(1024 * 1024 - 1000) } };
    events.push(big);
    expect(JSON.stringify(big).length).toBeLessThanOrEqual(1024 * 1024);
    const body = JSON.stringify(events);
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024 - 2048);
    const r = await post(body);
    expect(r).toMatchObject({ status: 200, body: { received: events.length } });
    await runQueuedJobs(db.pool);
    expect((await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n).toBe(events.length);
  });

  test("the default maximum also fits 5,000 events of typical size (3.9 MB) in one request", async () => {
    const batch = Array.from({ length: 5000 }, (_, i) => ({ ...event(), id: `batch-${i}` }));
    const r = await post(JSON.stringify(batch));
    expect(r).toMatchObject({ status: 200, body: { received: 5000 } });
    await runQueuedJobs(db.pool);
    expect((await db.pool.query("select count(*)::int as n from app_public.raw_events")).rows[0].n).toBe(5000);
  });

  test("over the default maximum (4 MB): 413", async () => {
    const r = await post(JSON.stringify([{ ...event(), data: { padding: "q".repeat(4 * 1024 * 1024) } }]));
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/larger than 4194304 bytes \(WEBHOOK_MAX_BODY_BYTES\)/);
  });

  test("while shutting down: 503 with Retry-After, so Event Grid retries", async () => {
    const stopping = await startReceiver(db.pool, { shuttingDown: () => true });
    try {
      const r = await fetch(`${stopping.url}/webhooks/acs?code=${TEST_SECRET}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: fixture("eventgrid-delivery-delivered.json"),
      });
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("10");
    } finally {
      await stopping.close();
    }
  });
});
