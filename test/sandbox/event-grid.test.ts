// The sandbox's Event Grid side, seen from a webhook: handshakes first, envelopes that
// @azure/eventgrid's EventGridDeserializer accepts, headers, batching, retries and dead letters.
import fs from "node:fs";
import path from "node:path";
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { EventGridDeserializer } from "@azure/eventgrid";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  EMAIL_DELIVERY_REPORT,
  EMAIL_ENGAGEMENT,
  startSandbox,
  type Sandbox,
  type SandboxSettings,
} from "../../src/sandbox/index.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const FIXTURES = path.join(import.meta.dirname, "../fixtures/eventgrid");
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Record<string, unknown>[];
/** Engagement events in the shapes Microsoft publishes (test/fixtures/sandbox/README.md). */
const SAMPLES = path.join(import.meta.dirname, "../fixtures/sandbox");
const sample = (name: string) => {
  const parsed = JSON.parse(fs.readFileSync(path.join(SAMPLES, name), "utf8")) as Record<string, unknown> | Record<string, unknown>[];
  return (Array.isArray(parsed) ? parsed[0] : parsed) as { data: Record<string, unknown>; topic?: string; source?: string };
};
const PUBLISHED_ENGAGEMENT = [
  sample("eventgrid-engagement-view-docs.json"),
  sample("eventgrid-engagement-click-specs.json"),
  sample("cloudevents-engagement-click-specs.json"),
];
const TIMESTAMP_KEYS = ["userActionTimestamp", "userActionTimeStamp"];
/** The data keys of an engagement event, its timestamp's spelling set aside (both spellings are published). */
const shapeKeys = (data: Record<string, unknown>) =>
  Object.keys(data)
    .map((k) => (TIMESTAMP_KEYS.includes(k) ? "userActionTimestamp" : k))
    .sort();
const PUBLISHED_KEY_SETS = PUBLISHED_ENGAGEMENT.map((e) => shapeKeys(e.data).join(","));

// Every modelled second is half a real millisecond: delivery reports arrive within ~150 ms, the first
// retries after ~5 ms, a 503's minimum retry delay (30 s) after ~15 ms.
const FAST: Partial<SandboxSettings> = {
  timeScale: 0.0005,
  quotaPerMinute: null,
  quotaPerHour: null,
  duplicateShare: 0,
  seed: 11,
};
const ENGAGED: Partial<SandboxSettings> = {
  statusMix: { Delivered: 1, Expanded: 0, Bounced: 0, Suppressed: 0, FilteredSpam: 0, Quarantined: 0, Failed: 0 },
  viewProbability: 1,
  clickProbability: 1,
  machineOpenProbability: 0,
  scannerClickProbability: 0,
};

const HTML = '<p>Hi</p><a href="https://shop.example.com/sale?utm_source=mailroom">sale</a> <a href="https://shop.example.com/faq">faq</a>';

function message(to: string[], messageId?: string): EmailMessage {
  return {
    senderAddress: "news@news.example.com",
    content: { subject: "News", html: HTML },
    recipients: { to: to.map((address) => ({ address })) },
    ...(messageId ? { headers: { "Message-ID": messageId } } : {}),
  };
}

let sandbox: Sandbox | undefined;
let receiver: Receiver | undefined;
const deserializer = new EventGridDeserializer();

async function setUp(settings: Partial<SandboxSettings>): Promise<{ sandbox: Sandbox; receiver: Receiver; client: EmailClient }> {
  sandbox = await startSandbox({ settings: { ...FAST, ...settings } });
  receiver = await startReceiver();
  return { sandbox, receiver, client: new EmailClient(sandbox.connectionString, { allowInsecureConnection: true }) };
}

afterEach(async () => {
  await sandbox?.stop();
  await receiver?.close();
  sandbox = undefined;
  receiver = undefined;
});

type EventGridEnvelope = { id: string; eventType: string; subject: string; data: Record<string, unknown> };
const bodies = (r: Receiver) => r.notifications().flatMap((n) => JSON.parse(n.body) as EventGridEnvelope[]);

describe("Event Grid schema", () => {
  test("the handshake comes first; every delivery is an array that EventGridDeserializer accepts, with Event Grid's headers", async () => {
    const { sandbox, receiver, client } = await setUp(ENGAGED);
    const subscription = await sandbox.subscribe({ endpoint: receiver.url, name: "mailroom-events" });
    expect(subscription.state).toBe("Succeeded");

    const poller = await client.beginSend(message(["ada@example.org", "bob@example.org"], "<n1@news.example.com>"));
    const { id: operationId } = await poller.pollUntilDone();
    await sandbox.whenIdle();

    const [handshake, ...rest] = receiver.requests;
    expect(handshake.method).toBe("POST");
    expect(handshake.headers["aeg-event-type"]).toBe("SubscriptionValidation");
    const [validation] = await deserializer.deserializeEventGridEvents(handshake.body);
    expect(validation.eventType).toBe("Microsoft.EventGrid.SubscriptionValidationEvent");
    expect(rest.every((r) => r.headers["aeg-event-type"] === "Notification")).toBe(true);

    // 2 delivery reports, 2 views, 2 clicks.
    expect(rest).toHaveLength(6);
    for (const request of rest) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/webhooks/acs?code=test-secret");
      expect(request.headers["content-type"]).toMatch(/^application\/json(;|$)/);
      expect(request.headers["aeg-subscription-name"]).toBe("MAILROOM-EVENTS");
      expect(request.headers["aeg-delivery-count"]).toBe("0");
      expect(request.headers["aeg-data-version"]).toBe("1.0");
      expect(request.headers["aeg-metadata-version"]).toBe("1");
      const events = await deserializer.deserializeEventGridEvents(request.body);
      expect(events).toHaveLength(1);
      // Delivery reports spell the topic as the resource does; engagement events in several casings.
      if (events[0].eventType === EMAIL_DELIVERY_REPORT) expect(events[0].topic).toBe(sandbox.topic);
      expect(events[0].topic?.toLowerCase()).toBe(sandbox.topic.toLowerCase());
      expect(events[0].eventTime).toBeInstanceOf(Date);
    }

    const events = bodies(receiver);
    const reports = events.filter((e) => e.eventType === EMAIL_DELIVERY_REPORT);
    expect(reports.map((e) => e.data.recipient).sort()).toEqual(["ada@example.org", "bob@example.org"]);
    for (const report of reports) {
      expect(report.subject).toBe(`sender/news@news.example.com/message/${operationId}`);
      expect(report.data).toMatchObject({
        sender: "news@news.example.com",
        messageId: operationId,
        internetMessageId: "<n1@news.example.com>",
        status: "Delivered",
        deliveryStatusDetails: { statusMessage: "No error.", recipientMailServerHostName: "mx.example.org" },
      });
      expect(report.data.deliveryAttemptTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    }
    // The same keys as Azure's delivery report.
    const azureReport = fixture("eventgrid-delivery-delivered.json")[0];
    expect(Object.keys(reports[0]).sort()).toEqual(Object.keys(azureReport).sort());
    expect(Object.keys(reports[0].data).sort()).toEqual(Object.keys(azureReport.data as object).sort());

    const engagement = events.filter((e) => e.eventType === EMAIL_ENGAGEMENT);
    expect(engagement.map((e) => String(e.data.engagementType).toLowerCase()).sort()).toEqual(["click", "click", "view", "view"]);
    for (const click of engagement.filter((e) => String(e.data.engagementType).toLowerCase() === "click")) {
      expect(["https://shop.example.com/sale?utm_source=mailroom", "https://shop.example.com/faq"]).toContain(
        click.data.engagementContext,
      );
    }
    const view = engagement.find((e) => String(e.data.engagementType).toLowerCase() === "view") as EventGridEnvelope;
    for (const event of engagement) {
      // No engagement event carries recipient: none of Microsoft's samples does.
      expect(event.data).not.toHaveProperty("recipient");
      // Default: a messageId of its own (as reported from production), so always the internetMessageId.
      expect(event.data.messageId).not.toBe(operationId);
      expect(event.data.internetMessageId).toBe("<n1@news.example.com>");
      // The keys of Microsoft's sample that carries internetMessageId (the REST specification's).
      expect(shapeKeys(event.data)).toEqual(shapeKeys(sample("eventgrid-engagement-click-specs.json").data));
    }
    expect(view.subject).toBe(`sender/news@news.example.com/message/${view.data.messageId}`);

    // The sandbox's own records agree with what the webhook received.
    expect(sandbox.deliveries().map((d) => d.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    expect(sandbox.deliveries().find((d) => d.eventId === view.id)?.origin).toBe("human-view");
  });

  test("engagement messageId equal to the operation id, without internetMessageId, when so configured", async () => {
    const { sandbox, receiver, client } = await setUp({
      ...ENGAGED,
      engagementMessageId: "operation-id",
      engagementInternetMessageId: 0,
    });
    await sandbox.subscribe({ endpoint: receiver.url });
    const { id: operationId } = await (await client.beginSend(message(["ada@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    const engagement = bodies(receiver).filter((e) => e.eventType === EMAIL_ENGAGEMENT);
    expect(engagement.length).toBe(2);
    for (const event of engagement) {
      expect(event.data.messageId).toBe(operationId);
      expect(event.data).not.toHaveProperty("internetMessageId");
    }
  });

  test("no engagement for a message sent with engagement tracking disabled, or without HTML", async () => {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, machineOpenProbability: 1, scannerClickProbability: 1 });
    await sandbox.subscribe({ endpoint: receiver.url });
    await (await client.beginSend({ ...message(["a@example.org"]), disableUserEngagementTracking: true })).pollUntilDone();
    await (
      await client.beginSend({ ...message(["b@example.org"]), content: { subject: "Plain", plainText: "https://shop.example.com/sale" } })
    ).pollUntilDone();
    await sandbox.whenIdle();
    expect(bodies(receiver).map((e) => e.eventType)).toEqual([EMAIL_DELIVERY_REPORT, EMAIL_DELIVERY_REPORT]);
    expect(sandbox.emails().map((e) => e.userEngagementTrackingDisabled)).toEqual([true, false]);
  });

  test("engagement usually arrives before the delivery report; statuses follow the recipient's name", async () => {
    // Views 5 to 10 modelled seconds after sending, reports 200 to 300: far apart even on a busy machine.
    const { sandbox, receiver, client } = await setUp({
      ...ENGAGED,
      clickProbability: 0,
      engagementDelaySeconds: [5, 10],
      deliveryDelaySeconds: [200, 300],
    });
    await sandbox.subscribe({ endpoint: receiver.url });
    await (await client.beginSend(message(["bounced@example.org", "suppressed+1@example.org", "ada@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    const events = bodies(receiver);
    const statuses = Object.fromEntries(
      events.filter((e) => e.eventType === EMAIL_DELIVERY_REPORT).map((e) => [e.data.recipient, e.data.status]),
    );
    expect(statuses).toEqual({ "bounced@example.org": "Bounced", "suppressed+1@example.org": "Suppressed", "ada@example.org": "Delivered" });
    const bounce = events.find((e) => e.data.status === "Bounced") as EventGridEnvelope;
    expect((bounce.data.deliveryStatusDetails as { statusMessage: string }).statusMessage).toMatch(/^5\d\d 5\.\d+\.\d+ /);
    // Only the delivered recipient engages (one view; engagement events name no recipient); its view
    // (seconds) comes before its report (minutes).
    const order = events.filter((e) => e.eventType === EMAIL_ENGAGEMENT || e.data.recipient === "ada@example.org").map((e) => e.eventType);
    expect(order).toEqual([EMAIL_ENGAGEMENT, EMAIL_DELIVERY_REPORT]);
  });

  test("includedEventTypes filters, and delivery headers come on the handshake and every delivery", async () => {
    const { sandbox, receiver, client } = await setUp(ENGAGED);
    await sandbox.subscribe({
      endpoint: receiver.url.replace(/\?.*$/, ""),
      includedEventTypes: [EMAIL_DELIVERY_REPORT],
      deliveryHeaders: { "x-webhook-key": "0123456789abcdef" },
    });
    await (await client.beginSend(message(["a@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    expect(bodies(receiver).map((e) => e.eventType)).toEqual([EMAIL_DELIVERY_REPORT]);
    expect(receiver.requests).toHaveLength(2);
    for (const request of receiver.requests) expect(request.headers["x-webhook-key"]).toBe("0123456789abcdef");
  });

  test("batches hold up to maxEventsPerBatch events", async () => {
    // Everything due at once and one request at a time: the queue fills while a batch is in flight.
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, timeScale: 0, deliveryConcurrency: 1 });
    await sandbox.subscribe({ endpoint: receiver.url, maxEventsPerBatch: 4 });
    const to = Array.from({ length: 10 }, (_, i) => `r${i}@example.org`);
    await (await client.beginSend(message(to))).pollUntilDone();
    await sandbox.whenIdle();
    const sizes = receiver.notifications().map((n) => (JSON.parse(n.body) as unknown[]).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(30);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    for (const n of receiver.notifications()) await deserializer.deserializeEventGridEvents(n.body);
  });

  test("a webhook that fails the handshake gets no subscription and no events", async () => {
    const { sandbox, receiver, client } = await setUp(ENGAGED);
    const refusing = await startReceiver();
    const plain = await import("node:http");
    const server = plain.createServer((_req, res) => res.writeHead(403).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(sandbox.subscribe({ endpoint: `http://127.0.0.1:${port}/webhooks/acs` })).rejects.toThrow(/HTTP 403/);
      expect(sandbox.subscriptions()).toHaveLength(0);
      await (await client.beginSend(message(["ada@example.org"]))).pollUntilDone();
      await sandbox.whenIdle();
      expect(sandbox.deliveries()).toHaveLength(0);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await refusing.close();
      server.closeAllConnections();
      server.close();
    }
  });

  test("a webhook that answers 200 without the code is validated by a GET of the validationUrl", async () => {
    const { sandbox } = await setUp(ENGAGED);
    const plain = await import("node:http");
    const server = plain.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(200).end();
        if (req.headers["aeg-event-type"] === "SubscriptionValidation") {
          const [event] = JSON.parse(body) as { data: { validationUrl: string } }[];
          void fetch(event.data.validationUrl);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const view = await sandbox.subscribe({ endpoint: `http://127.0.0.1:${port}/hook` });
      expect(view.state).toBe("Succeeded");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("engagement events in the shapes Microsoft publishes", () => {
  const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d+))?\+00:00$/;
  const recipients = Array.from({ length: 30 }, (_, i) => `r${i}@example.org`);

  /** The spelling of every engagement event of one send to 30 recipients (each views and clicks). */
  async function engagementOf(settings: Partial<SandboxSettings>) {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, ...settings });
    await sandbox.subscribe({ endpoint: receiver.url, maxEventsPerBatch: 100 });
    const { id: operationId } = await (await client.beginSend(message(recipients, "<mix@news.example.com>"))).pollUntilDone();
    await sandbox.whenIdle();
    const events = bodies(receiver);
    await deserializer.deserializeEventGridEvents(JSON.stringify(events));
    const acceptedAt = Date.parse(sandbox.emails()[0].acceptedAt);
    return {
      operationId,
      acceptedAt,
      events,
      engagement: events.filter((e) => e.eventType === EMAIL_ENGAGEMENT),
      timeScale: sandbox.settings().timeScale,
    };
  }
  const spelling = (e: EventGridEnvelope & { topic?: string }) => {
    const key = TIMESTAMP_KEYS.find((k) => k in e.data) as string;
    const digits = TIMESTAMP.exec(String(e.data[key]))?.[1]?.length ?? 0;
    return `${key} ${digits} ${e.topic} ${String(e.data.engagementType)} ${"internetMessageId" in e.data}`;
  };

  test("a mix: no recipient, internetMessageId on some, both timestamp spellings, 0/3/6/7 digits, topics in several casings", async () => {
    const { operationId, acceptedAt, events, engagement, timeScale } = await engagementOf({
      engagementMessageId: "operation-id",
      engagementInternetMessageId: 0.5,
    });
    expect(engagement).toHaveLength(60);
    const withId = engagement.filter((e) => "internetMessageId" in e.data);
    expect(withId.length).toBeGreaterThan(0);
    expect(withId.length).toBeLessThan(60);
    for (const event of engagement) {
      expect(event.data).not.toHaveProperty("recipient");
      expect(PUBLISHED_KEY_SETS).toContain(shapeKeys(event.data).join(","));
      // Attributable either way: messageId is the send's operation id, internetMessageId when present its Message-ID.
      expect(event.data.messageId).toBe(operationId);
      expect(event.subject).toBe(`sender/news@news.example.com/message/${operationId}`);
      if ("internetMessageId" in event.data) expect(event.data.internetMessageId).toBe("<mix@news.example.com>");
      const key = TIMESTAMP_KEYS.find((k) => k in event.data) as string;
      const timestamp = String(event.data[key]);
      expect(timestamp).toMatch(TIMESTAMP);
      // On the sandbox's one clock: the modelled delay (at most about 150 s) times timeScale, after the acceptance
      // (less a second: a timestamp without fraction digits is cut to the second).
      const at = Date.parse(timestamp);
      expect(at).toBeGreaterThanOrEqual(acceptedAt - 1000);
      expect(at).toBeLessThan(acceptedAt + 200_000 * timeScale + 1000);
      expect(["view", "View", "click", "Click"]).toContain(event.data.engagementType);
    }
    const keys = new Set(engagement.map((e) => TIMESTAMP_KEYS.find((k) => k in e.data)));
    expect(keys).toEqual(new Set(TIMESTAMP_KEYS));
    const digits = new Set(engagement.map((e) => TIMESTAMP.exec(String(e.data.userActionTimestamp ?? e.data.userActionTimeStamp))?.[1]?.length ?? 0));
    expect(digits).toEqual(new Set([0, 3, 6, 7]));
    const topics = new Set(engagement.map((e) => (e as { topic?: string }).topic));
    expect(topics.size).toBeGreaterThan(1);
    for (const topic of topics) expect(topic?.toLowerCase()).toBe(sandbox?.topic.toLowerCase());
    expect([...topics].some((t) => t?.includes("/providers/microsoft.communication/communicationservices/"))).toBe(true);
    expect([...topics].some((t) => t?.includes("/providers/Microsoft.Communication/communicationServices/"))).toBe(true);
    expect(new Set(engagement.map((e) => e.data.engagementType))).toEqual(new Set(["view", "View", "click", "Click"]));

    // Delivery reports keep their shape: recipient, internetMessageId, the resource's own topic spelling.
    const azureReport = fixture("eventgrid-delivery-delivered.json")[0];
    for (const report of events.filter((e) => e.eventType === EMAIL_DELIVERY_REPORT)) {
      expect(Object.keys(report.data).sort()).toEqual(Object.keys(azureReport.data as object).sort());
      expect(report.data).toMatchObject({ messageId: operationId, internetMessageId: "<mix@news.example.com>" });
      expect((report as { topic?: string }).topic).toBe(sandbox?.topic);
    }
  });

  test("engagementMessageId distinct: every engagement event carries internetMessageId, whatever the share", async () => {
    const { operationId, engagement } = await engagementOf({ engagementMessageId: "distinct", engagementInternetMessageId: 0 });
    expect(engagement).toHaveLength(60);
    for (const event of engagement) {
      expect(event.data.messageId).not.toBe(operationId);
      expect(event.data.internetMessageId).toBe("<mix@news.example.com>");
      expect(event.data).not.toHaveProperty("recipient");
    }
  });

  test("the same seed spells the same events the same way", async () => {
    const settings = { engagementMessageId: "operation-id", engagementInternetMessageId: 0.5, seed: 99 } as const;
    const first = (await engagementOf(settings)).engagement.map(spelling).sort();
    await sandbox?.stop();
    await receiver?.close();
    const second = (await engagementOf(settings)).engagement.map(spelling).sort();
    expect(second).toEqual(first);
    const other = (await (async () => {
      await sandbox?.stop();
      await receiver?.close();
      return engagementOf({ ...settings, seed: 100 });
    })()).engagement.map(spelling).sort();
    expect(other).not.toEqual(first);
  });
});

describe("CloudEvents schema", () => {
  test("OPTIONS handshake first; single events as application/cloudevents+json, batches as cloudevents-batch+json", async () => {
    const { sandbox, receiver, client } = await setUp(ENGAGED);
    await sandbox.subscribe({ endpoint: receiver.url, schema: "CloudEventSchemaV1_0", name: "single" });
    await (await client.beginSend(message(["ada@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();

    const [handshake, ...rest] = receiver.requests;
    expect(handshake.method).toBe("OPTIONS");
    expect(handshake.headers["webhook-request-origin"]).toBe("eventgrid.azure.net");
    expect(rest).toHaveLength(3);
    for (const request of rest) {
      expect(request.headers["content-type"]).toMatch(/^application\/cloudevents\+json(;|$)/);
      expect(request.headers["aeg-event-type"]).toBe("Notification");
      const body = JSON.parse(request.body) as Record<string, unknown>;
      expect(Array.isArray(body)).toBe(false);
      const [event] = await deserializer.deserializeCloudEvents(request.body);
      if (event.type === EMAIL_DELIVERY_REPORT) expect(event.source).toBe(sandbox.topic);
      expect(event.source.toLowerCase()).toBe(sandbox.topic.toLowerCase());
      expect(body.specversion).toBe("1.0");
      expect([EMAIL_DELIVERY_REPORT, EMAIL_ENGAGEMENT]).toContain(event.type);
      expect(Object.keys(body).sort()).toEqual(Object.keys(fixture("cloudevents-delivery-delivered.json")).sort());
    }

    sandbox.unsubscribe("single");
    receiver.requests.length = 0;
    await sandbox.subscribe({ endpoint: receiver.url, schema: "CloudEventSchemaV1_0", name: "batched", maxEventsPerBatch: 50 });
    await (await client.beginSend(message(["ada@example.org", "bob@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    const notifications = receiver.notifications();
    expect(notifications.length).toBeGreaterThan(0);
    let total = 0;
    for (const request of notifications) {
      expect(request.headers["content-type"]).toMatch(/^application\/cloudevents-batch\+json(;|$)/);
      expect(Array.isArray(JSON.parse(request.body))).toBe(true);
      total += (await deserializer.deserializeCloudEvents(request.body)).length;
    }
    expect(total).toBe(6);
  });

  test("a webhook that does not allow the origin fails the handshake", async () => {
    const { sandbox, receiver } = await setUp(ENGAGED);
    const plain = await import("node:http");
    const server = plain.createServer((_req, res) => res.writeHead(200, { "WebHook-Allowed-Origin": "example.com" }).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      await expect(
        sandbox.subscribe({ endpoint: `http://127.0.0.1:${port}/`, schema: "CloudEventSchemaV1_0" }),
      ).rejects.toThrow(/WebHook-Allowed-Origin/);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("retries and dead letters", () => {
  test("a webhook answering 503 and then 200 gets every event, retried with a higher aeg-delivery-count", async () => {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, viewProbability: 0, clickProbability: 0 });
    await sandbox.subscribe({ endpoint: receiver.url });
    receiver.answer = (_request, index) => (index < 3 ? { status: 503 } : { status: 200 });
    await (await client.beginSend(message(["a@example.org", "b@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();

    const notifications = receiver.notifications();
    const delivered = notifications.slice(3).flatMap((n) => JSON.parse(n.body) as EventGridEnvelope[]);
    expect(new Set(delivered.map((e) => e.data.recipient))).toEqual(new Set(["a@example.org", "b@example.org"]));
    // The failed attempts were for the same events, which came again with a higher delivery count.
    const failedIds = notifications.slice(0, 3).flatMap((n) => (JSON.parse(n.body) as EventGridEnvelope[]).map((e) => e.id));
    for (const id of failedIds) expect(delivered.map((e) => e.id)).toContain(id);
    expect(notifications.slice(3).some((n) => Number(n.headers["aeg-delivery-count"]) >= 1)).toBe(true);
    expect(sandbox.deadLetters()).toHaveLength(0);
    expect(sandbox.stats().events).toMatchObject({ delivered: 2, deadLettered: 0, failedAttempts: 3 });
  });

  test.each([400, 401, 403, 413])("a webhook answering %i gets each event once, and it is dead-lettered", async (status) => {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, viewProbability: 0, clickProbability: 0 });
    await sandbox.subscribe({ endpoint: receiver.url, name: "strict" });
    receiver.answer = () => ({ status });
    await (await client.beginSend(message(["a@example.org", "b@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    // Give a retry, were there one, time to happen (10 s modelled = 5 ms real).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.notifications()).toHaveLength(2);
    const deadLetters = sandbox.deadLetters();
    expect(deadLetters).toHaveLength(2);
    for (const deadLetter of deadLetters) {
      expect(deadLetter).toMatchObject({
        subscription: "strict",
        deadLetterReason: "UndeliverableDueToClientError",
        deliveryAttempts: 1,
        lastHttpStatusCode: status,
      });
      await deserializer.deserializeEventGridEvents(JSON.stringify([deadLetter.event]));
    }
    expect(sandbox.deliveries()).toHaveLength(0);
  });

  test("events still failing after maxDeliveryAttempts are dead-lettered with MaxDeliveryAttemptsExceeded", async () => {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, viewProbability: 0, clickProbability: 0 });
    await sandbox.subscribe({ endpoint: receiver.url, maxDeliveryAttempts: 3 });
    receiver.answer = () => ({ status: 500 });
    await (await client.beginSend(message(["a@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    expect(receiver.notifications().map((n) => n.headers["aeg-delivery-count"])).toEqual(["0", "1", "2"]);
    expect(sandbox.deadLetters()).toMatchObject([
      { deadLetterReason: "MaxDeliveryAttemptsExceeded", deliveryAttempts: 3, lastDeliveryOutcome: "GenericError", lastHttpStatusCode: 500 },
    ]);
  });

  test("duplicates: with duplicateShare 1 every event is delivered twice with the same id", async () => {
    const { sandbox, receiver, client } = await setUp({ ...ENGAGED, clickProbability: 0, duplicateShare: 1 });
    await sandbox.subscribe({ endpoint: receiver.url });
    await (await client.beginSend(message(["a@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    const ids = bodies(receiver).map((e) => e.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(2);
    expect(sandbox.stats().events).toMatchObject({ delivered: 4, duplicates: 2 });
  });
});

describe("machine engagement", () => {
  test("machine opens and scanner clicks come seconds after delivery, with their user agents", async () => {
    const { sandbox, receiver, client } = await setUp({
      ...ENGAGED,
      viewProbability: 0,
      clickProbability: 0,
      machineOpenProbability: 1,
      scannerClickProbability: 1,
    });
    await sandbox.subscribe({ endpoint: receiver.url });
    await (await client.beginSend(message(["a@example.org"]))).pollUntilDone();
    await sandbox.whenIdle();
    const origins = sandbox.deliveries().map((d) => d.origin).sort();
    expect(origins).toEqual(["delivery-report", "machine-open", "scanner-click", "scanner-click"]);
    const scannerClicks = sandbox.deliveries().filter((d) => d.origin === "scanner-click");
    expect(scannerClicks.map((d) => d.event.data.engagementContext).sort()).toEqual([
      "https://shop.example.com/faq",
      "https://shop.example.com/sale?utm_source=mailroom",
    ]);
    const email = sandbox.emails()[0];
    for (const click of scannerClicks) {
      const timestamp = click.event.data.userActionTimestamp ?? click.event.data.userActionTimeStamp;
      // Modelled: 1 to 8 s after the delivery attempt (itself 0.5 to 5 s after sending), times timeScale, on the one
      // clock (less a second: a timestamp without fraction digits is cut to the second).
      const at = Date.parse(String(timestamp));
      expect(at).toBeGreaterThanOrEqual(Date.parse(email.acceptedAt) - 1000);
      expect(at).toBeLessThan(Date.parse(email.acceptedAt) + 15_000 * sandbox.settings().timeScale + 1000);
    }
    expect(receiver.notifications().length).toBe(4);
  });
});

describe("control API", () => {
  let shared: Sandbox;
  beforeAll(async () => {
    shared = await startSandbox({ settings: FAST });
  });
  afterAll(async () => {
    await shared.stop();
  });

  test("inspects emails, changes settings (refusing bad values), subscribes and resets", async () => {
    const client = new EmailClient(shared.connectionString, { allowInsecureConnection: true });
    const { id } = await (await client.beginSend(message(["ada@example.org"]))).pollUntilDone();

    const summary = (await (await fetch(shared.controlUrl)).json()) as { stats: { emails: { accepted: number } } };
    expect(summary.stats.emails.accepted).toBe(1);
    const emails = (await (await fetch(`${shared.controlUrl}/emails`)).json()) as { operationId: string }[];
    expect(emails.map((e) => e.operationId)).toEqual([id]);
    expect((await fetch(`${shared.controlUrl}/emails/${id}`)).status).toBe(200);

    const patch = (body: unknown) =>
      fetch(`${shared.controlUrl}/settings`, { method: "PATCH", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    const changed = await patch({ quotaPerMinute: 5, timeScale: 0.5 });
    expect(changed.status).toBe(200);
    expect(shared.settings()).toMatchObject({ quotaPerMinute: 5, timeScale: 0.5 });
    const refused = await patch({ faultShare: 2 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/faultShare=2; expected a number from 0 to 1/);
    expect((await patch({ nonsense: 1 })).status).toBe(400);

    const receiver = await startReceiver();
    try {
      const created = await fetch(`${shared.controlUrl}/subscriptions`, {
        method: "POST",
        body: JSON.stringify({ endpoint: receiver.url, name: "from-control-api" }),
      });
      expect(created.status).toBe(201);
      expect(shared.subscriptions().map((s) => s.name)).toEqual(["from-control-api"]);
      expect((await fetch(`${shared.controlUrl}/subscriptions/from-control-api`, { method: "DELETE" })).status).toBe(204);
    } finally {
      await receiver.close();
    }

    expect((await fetch(`${shared.controlUrl}/reset`, { method: "POST" })).status).toBe(204);
    expect(shared.emails()).toHaveLength(0);
    expect((await (await fetch(`${shared.controlUrl}/events/scheduled`)).json()) as unknown[]).toEqual([]);
  });
});
