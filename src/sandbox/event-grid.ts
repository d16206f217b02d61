// Event Grid push delivery to webhooks, as Azure does it: the endpoint handshake first (a
// SubscriptionValidationEvent for the Event Grid schema, an OPTIONS request for CloudEvents), then
// the events in the subscription's schema with Event Grid's content types and aeg-* headers, in
// batches of up to maxEventsPerBatch, retried on Event Grid's schedule (compressed by the time
// scale), never retried after 400, 401, 403 or 413, and dead-lettered when they cannot be delivered.
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Random } from "./random.ts";
import type { SandboxSettings } from "./settings.ts";
import { Timeline } from "./timeline.ts";

export type EventSchema = "EventGridSchema" | "CloudEventSchemaV1_0";

/** An event as the source (ACS) publishes it; the envelope depends on the subscription's schema. */
export interface PublishedEvent {
  id: string;
  eventType: string;
  subject: string;
  /** ISO time at which the source published the event. */
  eventTime: string;
  dataVersion: string;
  data: Record<string, unknown>;
  /** What the sandbox knows and the event does not say: human, machine-open, scanner-click, delivery-report. */
  origin: string;
  /** The topic (source) as this event spells it, when not the resource's own spelling (Azure's casing varies). */
  topic?: string;
}

export interface SubscriptionOptions {
  /** Webhook URL; may carry a secret such as ?code=SECRET, kept on every delivery. */
  endpoint: string;
  /** Event subscription name (letters, digits, hyphens); default sandbox-N. */
  name?: string;
  /** Default EventGridSchema. */
  schema?: EventSchema;
  /** 1 (default, Azure's: batching off) to 5000. */
  maxEventsPerBatch?: number;
  /** 1 to 1024 (default 64). */
  preferredBatchSizeInKilobytes?: number;
  /** 1 to 30 (default 30). */
  maxDeliveryAttempts?: number;
  /** 1 to 1440 modelled minutes (default 1440); scaled by the time scale. */
  eventTimeToLiveInMinutes?: number;
  /** Only these event types (default all). */
  includedEventTypes?: string[];
  /** Static headers added to every delivery (at most 10), e.g. { "x-webhook-key": "..." }. */
  deliveryHeaders?: Record<string, string>;
}

export interface SubscriptionView {
  name: string;
  endpoint: string;
  schema: EventSchema;
  maxEventsPerBatch: number;
  preferredBatchSizeInKilobytes: number;
  maxDeliveryAttempts: number;
  eventTimeToLiveInMinutes: number;
  includedEventTypes: string[] | null;
  state: "Validating" | "Succeeded";
  queued: number;
  inFlight: number;
  retrying: number;
  delivered: number;
  deadLettered: number;
}

export interface DeliveryRecord {
  subscription: string;
  eventId: string;
  eventType: string;
  /** The aeg-delivery-count of the successful attempt (0 = first try). */
  deliveryCount: number;
  /** A second delivery of an event already delivered (Event Grid is at-least-once). */
  duplicate: boolean;
  deliveredAt: string;
  origin: string;
  event: PublishedEvent;
}

export interface DeadLetter {
  subscription: string;
  deadLetterReason: "MaxDeliveryAttemptsExceeded" | "TimeToLiveExceeded" | "UndeliverableDueToClientError";
  deliveryAttempts: number;
  lastDeliveryOutcome: string;
  lastHttpStatusCode: number | null;
  publishTime: string;
  lastDeliveryAttemptTime: string;
  /** The event in the subscription's schema, as it would have been delivered. */
  event: Record<string, unknown>;
}

export class SubscriptionValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SubscriptionValidationError";
  }
}

interface Pending {
  event: PublishedEvent;
  /** The envelope as JSON while the event is in a batch being delivered (kept small while queued). */
  json: string | undefined;
  attempts: number;
  publishedAt: number;
  duplicate: boolean;
}

interface Subscription {
  name: string;
  endpoint: URL;
  schema: EventSchema;
  maxEventsPerBatch: number;
  preferredBatchBytes: number;
  maxDeliveryAttempts: number;
  eventTimeToLiveInMinutes: number;
  includedEventTypes: Set<string> | null;
  deliveryHeaders: Record<string, string>;
  state: "Validating" | "Succeeded";
  agent: http.Agent;
  queue: Pending[];
  head: number;
  inFlight: number;
  retrying: number;
  delivered: number;
  deadLettered: number;
  removed: boolean;
}

/** Event Grid's retry schedule in seconds, then every 12 hours. */
const RETRY_SCHEDULE_SECONDS = [10, 30, 60, 300, 600, 1800, 3600, 10800, 21600];
const NO_RETRY_STATUSES = new Set([400, 401, 403, 413]);
const VALIDATION_ORIGIN = "eventgrid.azure.net";

function outcomeOf(status: number | null, timedOut: boolean): string {
  if (timedOut) return "TimedOut";
  switch (status) {
    case null:
      return "GenericError";
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 408:
      return "TimedOut";
    case 413:
      return "RequestEntityTooLarge";
    case 503:
      return "Busy";
    default:
      return "GenericError";
  }
}

/** Modelled seconds before the next attempt after `attempts` failed ones, with Event Grid's minimums per status. */
export function retryDelaySeconds(attempts: number, status: number | null): number {
  const scheduled = RETRY_SCHEDULE_SECONDS[attempts - 1] ?? 43_200;
  const minimum = status === 503 ? 30 : status === 408 ? 120 : status === 404 ? 300 : 0;
  return Math.max(scheduled, minimum);
}

interface WebhookResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

class DeliveryTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** One HTTP request to a webhook over a keep-alive agent (Node's http: cheaper than fetch per event). */
function webhookRequest(
  url: URL,
  agent: http.Agent,
  options: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<WebhookResponse> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? https.request : http.request;
    const headers = options.body === undefined ? options.headers : { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) };
    const req = send(url, { method: options.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(options.timeoutMs, () => req.destroy(new DeliveryTimeout(options.timeoutMs)));
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface EventGridOptions {
  topic: string;
  baseUrl: () => string;
  settings: () => SandboxSettings;
  random: Random;
  onError?: (message: string) => void;
}

export class EventGrid {
  private subscriptions = new Map<string, Subscription>();
  private deliveries: DeliveryRecord[] = [];
  private deadLetters: DeadLetter[] = [];
  private pendingValidations = new Map<string, () => void>();
  private retries: Timeline<{ subscription: Subscription; pending: Pending }>;
  private counter = 0;
  private readonly options: EventGridOptions;
  totals = { published: 0, delivered: 0, duplicates: 0, deadLettered: 0, failedAttempts: 0 };

  constructor(options: EventGridOptions) {
    this.options = options;
    this.retries = new Timeline(({ subscription, pending }) => {
      subscription.retrying--;
      if (subscription.removed) return;
      this.enqueue(subscription, pending);
    });
  }

  /** Creates a subscription after the endpoint passes the handshake; rejects if it does not. */
  async subscribe(options: SubscriptionOptions): Promise<SubscriptionView> {
    const subscription = this.check(options);
    if (this.subscriptions.has(subscription.name)) {
      throw new SubscriptionValidationError(`An event subscription named ${subscription.name} exists already.`);
    }
    this.subscriptions.set(subscription.name, subscription);
    try {
      if (subscription.schema === "EventGridSchema") await this.validateEventGridEndpoint(subscription);
      else await this.validateCloudEventsEndpoint(subscription);
    } catch (error) {
      this.subscriptions.delete(subscription.name);
      subscription.removed = true;
      subscription.agent.destroy();
      throw error;
    }
    subscription.state = "Succeeded";
    return this.view(subscription);
  }

  unsubscribe(name: string): boolean {
    const subscription = this.subscriptions.get(name);
    if (!subscription) return false;
    subscription.removed = true;
    subscription.agent.destroy();
    this.subscriptions.delete(name);
    return true;
  }

  listSubscriptions(): SubscriptionView[] {
    return [...this.subscriptions.values()].map((s) => this.view(s));
  }

  /** Called by GET {validationUrl}: the asynchronous (manual) validation of an Event Grid schema endpoint. */
  confirmValidation(code: string): boolean {
    const confirm = this.pendingValidations.get(code);
    if (!confirm) return false;
    confirm();
    return true;
  }

  /** Hands an event to every active subscription that wants its type. */
  publish(event: PublishedEvent, duplicate = false): void {
    if (!duplicate) this.totals.published++;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.state !== "Succeeded") continue;
      if (subscription.includedEventTypes && !subscription.includedEventTypes.has(event.eventType)) continue;
      const pending: Pending = {
        event,
        json: undefined,
        attempts: 0,
        publishedAt: Date.now(),
        duplicate,
      };
      this.enqueue(subscription, pending);
    }
  }

  /** Events waiting in queues, in flight or waiting for a retry. */
  pendingCount(): number {
    let n = 0;
    for (const s of this.subscriptions.values()) n += s.queue.length - s.head + s.inFlight + s.retrying;
    return n;
  }

  /** The newest delivered events (at most retainedDeliveries), oldest first. */
  listDeliveries(): DeliveryRecord[] {
    return this.deliveries.slice(-this.options.settings().retainedDeliveries || Infinity);
  }

  /** The newest dead letters (at most retainedDeadLetters), oldest first. */
  listDeadLetters(): DeadLetter[] {
    return this.deadLetters.slice(-this.options.settings().retainedDeadLetters || Infinity);
  }

  /** Forgets queued events, retries, deliveries and dead letters; subscriptions stay. */
  reset(): void {
    this.retries.clear();
    for (const s of this.subscriptions.values()) {
      s.queue = [];
      s.head = 0;
      s.retrying = 0;
      s.delivered = 0;
      s.deadLettered = 0;
    }
    this.deliveries = [];
    this.deadLetters = [];
    this.totals = { published: 0, delivered: 0, duplicates: 0, deadLettered: 0, failedAttempts: 0 };
  }

  stop(): void {
    this.retries.stop();
    for (const s of this.subscriptions.values()) {
      s.removed = true;
      s.agent.destroy();
    }
    this.subscriptions.clear();
  }

  private check(options: SubscriptionOptions): Subscription {
    let endpoint: URL;
    try {
      endpoint = new URL(options.endpoint);
    } catch {
      throw new SubscriptionValidationError(`The endpoint ${JSON.stringify(options.endpoint)} is not a URL.`);
    }
    if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
      throw new SubscriptionValidationError("The endpoint must be an http or https URL.");
    }
    const name = options.name ?? `sandbox-${++this.counter}`;
    if (!/^[A-Za-z0-9-]{3,64}$/.test(name)) {
      throw new SubscriptionValidationError("A subscription name has 3 to 64 letters, digits or hyphens.");
    }
    const schema = options.schema ?? "EventGridSchema";
    if (schema !== "EventGridSchema" && schema !== "CloudEventSchemaV1_0") {
      throw new SubscriptionValidationError("The schema is EventGridSchema or CloudEventSchemaV1_0.");
    }
    const integer = (label: string, value: number | undefined, fallback: number, min: number, max: number) => {
      const v = value ?? fallback;
      if (!Number.isInteger(v) || v < min || v > max) {
        throw new SubscriptionValidationError(`${label} is an integer from ${min} to ${max}.`);
      }
      return v;
    };
    const headers = options.deliveryHeaders ?? {};
    if (Object.keys(headers).length > 10) throw new SubscriptionValidationError("At most 10 delivery headers.");
    return {
      name,
      endpoint,
      schema,
      maxEventsPerBatch: integer("maxEventsPerBatch", options.maxEventsPerBatch, 1, 1, 5000),
      preferredBatchBytes: integer("preferredBatchSizeInKilobytes", options.preferredBatchSizeInKilobytes, 64, 1, 1024) * 1024,
      maxDeliveryAttempts: integer("maxDeliveryAttempts", options.maxDeliveryAttempts, 30, 1, 30),
      eventTimeToLiveInMinutes: integer("eventTimeToLiveInMinutes", options.eventTimeToLiveInMinutes, 1440, 1, 1440),
      includedEventTypes: options.includedEventTypes ? new Set(options.includedEventTypes) : null,
      deliveryHeaders: headers,
      state: "Validating",
      agent: endpoint.protocol === "https:" ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true }),
      queue: [],
      head: 0,
      inFlight: 0,
      retrying: 0,
      delivered: 0,
      deadLettered: 0,
      removed: false,
    };
  }

  private view(s: Subscription): SubscriptionView {
    return {
      name: s.name,
      endpoint: s.endpoint.href,
      schema: s.schema,
      maxEventsPerBatch: s.maxEventsPerBatch,
      preferredBatchSizeInKilobytes: s.preferredBatchBytes / 1024,
      maxDeliveryAttempts: s.maxDeliveryAttempts,
      eventTimeToLiveInMinutes: s.eventTimeToLiveInMinutes,
      includedEventTypes: s.includedEventTypes ? [...s.includedEventTypes] : null,
      state: s.state,
      queued: s.queue.length - s.head,
      inFlight: s.inFlight,
      retrying: s.retrying,
      delivered: s.delivered,
      deadLettered: s.deadLettered,
    };
  }

  private envelope(subscription: Subscription, event: PublishedEvent): Record<string, unknown> {
    if (subscription.schema === "CloudEventSchemaV1_0") {
      return {
        specversion: "1.0",
        type: event.eventType,
        source: event.topic ?? this.options.topic,
        id: event.id,
        time: event.eventTime,
        subject: event.subject,
        datacontenttype: "application/json",
        data: event.data,
      };
    }
    return {
      id: event.id,
      topic: event.topic ?? this.options.topic,
      subject: event.subject,
      data: event.data,
      eventType: event.eventType,
      dataVersion: event.dataVersion,
      metadataVersion: "1",
      eventTime: event.eventTime,
    };
  }

  private headers(subscription: Subscription, eventType: string, deliveryCount: number, dataVersion: string) {
    return {
      ...subscription.deliveryHeaders,
      "aeg-event-type": eventType,
      "aeg-subscription-name": subscription.name.toUpperCase(),
      "aeg-delivery-count": String(deliveryCount),
      "aeg-data-version": dataVersion,
      "aeg-metadata-version": "1",
    };
  }

  private async validateEventGridEndpoint(subscription: Subscription): Promise<void> {
    const code = crypto.randomUUID().toUpperCase();
    const validationUrl = new URL(`eventsubscriptions/${subscription.name}/validate`, this.options.baseUrl());
    validationUrl.search = new URLSearchParams({
      id: code,
      t: new Date().toISOString(),
      apiVersion: "2025-02-15",
      token: crypto.randomBytes(24).toString("base64url"),
    }).toString();
    const validationEvent = {
      id: crypto.randomUUID(),
      topic: this.options.topic,
      subject: "",
      data: { validationCode: code, validationUrl: validationUrl.href },
      eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
      eventTime: new Date().toISOString(),
      metadataVersion: "1",
      dataVersion: "1",
    };
    const confirmedManually = new Promise<void>((resolve) => this.pendingValidations.set(code, resolve));
    try {
      let response: WebhookResponse;
      try {
        response = await webhookRequest(subscription.endpoint, subscription.agent, {
          method: "POST",
          headers: {
            "content-type": "application/json; charset=utf-8",
            ...this.headers(subscription, "SubscriptionValidation", 0, "1"),
          },
          body: JSON.stringify([validationEvent]),
          timeoutMs: this.options.settings().deliveryTimeoutMs,
        });
      } catch (error) {
        throw new SubscriptionValidationError(
          `Webhook validation handshake failed for ${redacted(subscription.endpoint)}: ${(error as Error).message}`,
        );
      }
      const text = response.body;
      if (response.status !== 200) {
        throw new SubscriptionValidationError(
          `Webhook validation handshake failed for ${redacted(subscription.endpoint)}: HTTP ${response.status}; expected 200 with {"validationResponse": code}.`,
        );
      }
      let answered: unknown;
      try {
        answered = (JSON.parse(text) as { validationResponse?: unknown }).validationResponse;
      } catch {
        answered = undefined;
      }
      if (answered === code) return;
      // No code in the answer: wait for a GET of the validation URL (manual validation), 5 modelled minutes.
      const waitMs = Math.max(1000, 300_000 * this.options.settings().timeScale);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"expired">((resolve) => {
        timer = setTimeout(() => resolve("expired"), waitMs);
      });
      const outcome = await Promise.race([confirmedManually, expired]);
      clearTimeout(timer);
      if (outcome === "expired") {
        throw new SubscriptionValidationError(
          `Webhook validation handshake failed for ${redacted(subscription.endpoint)}: the answer did not carry the validation code and the validation URL was not called.`,
        );
      }
    } finally {
      this.pendingValidations.delete(code);
    }
  }

  private async validateCloudEventsEndpoint(subscription: Subscription): Promise<void> {
    let response: WebhookResponse;
    try {
      response = await webhookRequest(subscription.endpoint, subscription.agent, {
        method: "OPTIONS",
        headers: { ...subscription.deliveryHeaders, "WebHook-Request-Origin": VALIDATION_ORIGIN },
        timeoutMs: this.options.settings().deliveryTimeoutMs,
      });
    } catch (error) {
      throw new SubscriptionValidationError(
        `CloudEvents validation handshake failed for ${redacted(subscription.endpoint)}: ${(error as Error).message}`,
      );
    }
    const allowedHeader = response.headers["webhook-allowed-origin"];
    const allowed = Array.isArray(allowedHeader) ? allowedHeader[0] : allowedHeader;
    if (response.status !== 200 || (allowed !== "*" && allowed?.toLowerCase() !== VALIDATION_ORIGIN)) {
      throw new SubscriptionValidationError(
        `CloudEvents validation handshake failed for ${redacted(subscription.endpoint)}: HTTP ${response.status}, WebHook-Allowed-Origin ${JSON.stringify(allowed)}; expected 200 with WebHook-Allowed-Origin ${VALIDATION_ORIGIN} or *.`,
      );
    }
  }

  private enqueue(subscription: Subscription, pending: Pending): void {
    subscription.queue.push(pending);
    this.pump(subscription);
  }

  private pump(subscription: Subscription): void {
    const concurrency = this.options.settings().deliveryConcurrency;
    while (!subscription.removed && subscription.inFlight < concurrency && subscription.head < subscription.queue.length) {
      const batch = this.takeBatch(subscription);
      subscription.inFlight++;
      void this.deliver(subscription, batch)
        .catch((error: unknown) => this.options.onError?.(`event delivery: ${(error as Error).message}`))
        .finally(() => {
          subscription.inFlight--;
          this.pump(subscription);
        });
    }
  }

  private takeBatch(subscription: Subscription): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (subscription.head < subscription.queue.length && batch.length < subscription.maxEventsPerBatch) {
      const next = subscription.queue[subscription.head];
      const json = next.json ?? JSON.stringify(this.envelope(subscription, next.event));
      if (batch.length > 0 && bytes + json.length > subscription.preferredBatchBytes) break;
      next.json = json;
      batch.push(next);
      bytes += json.length + 1;
      subscription.head++;
    }
    if (subscription.head === subscription.queue.length) {
      subscription.queue = [];
      subscription.head = 0;
    } else if (subscription.head > 1024 && subscription.head * 2 > subscription.queue.length) {
      subscription.queue = subscription.queue.slice(subscription.head);
      subscription.head = 0;
    }
    return batch;
  }

  private async deliver(subscription: Subscription, batch: Pending[]): Promise<void> {
    const cloudEvents = subscription.schema === "CloudEventSchemaV1_0";
    const single = cloudEvents && subscription.maxEventsPerBatch === 1;
    const contentType = !cloudEvents
      ? "application/json; charset=utf-8"
      : single
        ? "application/cloudevents+json; charset=utf-8"
        : "application/cloudevents-batch+json; charset=utf-8";
    const body = single ? (batch[0].json as string) : `[${batch.map((p) => p.json).join(",")}]`;
    for (const pending of batch) pending.json = undefined;
    const first = batch[0];
    let status: number | null = null;
    let timedOut = false;
    try {
      const response = await webhookRequest(subscription.endpoint, subscription.agent, {
        method: "POST",
        headers: {
          "content-type": contentType,
          ...this.headers(subscription, "Notification", first.attempts, first.event.dataVersion),
        },
        body,
        timeoutMs: this.options.settings().deliveryTimeoutMs,
      });
      status = response.status;
    } catch (error) {
      timedOut = (error as Error).name === "TimeoutError";
    }
    if (subscription.removed) return;
    const now = Date.now();

    if (status !== null && status >= 200 && status <= 204) {
      for (const pending of batch) this.delivered(subscription, pending, now);
      return;
    }

    this.totals.failedAttempts++;
    const settings = this.options.settings();
    for (const pending of batch) {
      pending.attempts++;
      if (status !== null && NO_RETRY_STATUSES.has(status)) {
        this.deadLetter(subscription, pending, "UndeliverableDueToClientError", status, timedOut, now);
        continue;
      }
      if (pending.attempts >= subscription.maxDeliveryAttempts) {
        this.deadLetter(subscription, pending, "MaxDeliveryAttemptsExceeded", status, timedOut, now);
        continue;
      }
      const jitter = this.options.random.between(0.9, 1.1);
      const delayMs = retryDelaySeconds(pending.attempts, timedOut ? 408 : status) * 1000 * jitter * settings.timeScale;
      const ttlMs = subscription.eventTimeToLiveInMinutes * 60_000 * settings.timeScale;
      if (now + delayMs > pending.publishedAt + ttlMs) {
        this.deadLetter(subscription, pending, "TimeToLiveExceeded", status, timedOut, now);
        continue;
      }
      subscription.retrying++;
      this.retries.add(now + delayMs, { subscription, pending });
    }
  }

  private delivered(subscription: Subscription, pending: Pending, now: number): void {
    subscription.delivered++;
    this.totals.delivered++;
    if (pending.duplicate) this.totals.duplicates++;
    const settings = this.options.settings();
    this.remember(this.deliveries, settings.retainedDeliveries, {
      subscription: subscription.name,
      eventId: pending.event.id,
      eventType: pending.event.eventType,
      deliveryCount: pending.attempts,
      duplicate: pending.duplicate,
      deliveredAt: new Date(now).toISOString(),
      origin: pending.event.origin,
      event: pending.event,
    });
    // At-least-once: now and then the same event comes again, seconds later.
    if (!pending.duplicate && this.options.random.chance(settings.duplicateShare)) {
      const again: Pending = { ...pending, attempts: 0, publishedAt: now, duplicate: true };
      subscription.retrying++;
      this.retries.add(now + this.options.random.between(5_000, 60_000) * settings.timeScale, { subscription, pending: again });
    }
  }

  private deadLetter(
    subscription: Subscription,
    pending: Pending,
    reason: DeadLetter["deadLetterReason"],
    status: number | null,
    timedOut: boolean,
    now: number,
  ): void {
    subscription.deadLettered++;
    this.totals.deadLettered++;
    this.remember(this.deadLetters, this.options.settings().retainedDeadLetters, {
      subscription: subscription.name,
      deadLetterReason: reason,
      deliveryAttempts: pending.attempts,
      lastDeliveryOutcome: outcomeOf(status, timedOut),
      lastHttpStatusCode: status,
      publishTime: new Date(pending.publishedAt).toISOString(),
      lastDeliveryAttemptTime: new Date(now).toISOString(),
      event: this.envelope(subscription, pending.event),
    });
  }

  private remember<T>(list: T[], limit: number, item: T): void {
    if (limit <= 0) return;
    list.push(item);
    // Trim in chunks so keeping the newest `limit` costs O(1) per item on average.
    if (list.length > limit + Math.max(16, limit >> 3)) list.splice(0, list.length - limit);
  }
}

function redacted(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()]) copy.searchParams.set(key, "***");
  copy.password = "";
  return copy.href;
}
