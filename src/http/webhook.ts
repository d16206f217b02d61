// POST /webhooks/acs: Azure Event Grid deliveries (Event Grid schema and CloudEvents 1.0).
// The receiver stays thin: authenticate, check the envelope, store the delivery in a
// graphile-worker job in PostgreSQL (deliveries arriving together share one job: see
// delivery-queue.ts), answer 200. Everything else happens in the ingest_events task.
//
// Status codes follow what Event Grid does with them: 400, 401, 403 and 413 are never retried
// (the events are dropped or dead-lettered), so they are answered only when a retry can never
// help; anything transient (database unreachable, pool exhausted, shutting down, more request bytes
// in memory than WEBHOOK_MAX_BYTES_IN_FLIGHT allows: see request-body.ts) is a 503.
import express, { type Request, type Response } from "express";
import type pg from "pg";
import type { Log } from "../log.ts";
import { webhookDeliveries, webhookEventsReceived } from "../metrics.ts";
import { DeliveryQueue, deliveryJson, isContentError } from "./delivery-queue.ts";
import { arrayElementTexts, mayHoldUnstorable, unstorableProblem, usableKey, type UnstorableEvent } from "./unstorable-events.ts";
import { BytesInFlight, readBody } from "./request-body.ts";
import { TransientAuthError, type WebhookAuthenticator } from "./webhook-auth.ts";

export const INGEST_TASK = "ingest_events";
/** Event Grid never delivers a single event larger than this. */
export const MAX_EVENT_BYTES = 1024 * 1024;
const VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent";

export interface WebhookDependencies {
  pool: pg.Pool;
  log: Log;
  authenticator: WebhookAuthenticator;
  maxBodyBytes: number;
  /** Request body bytes all requests together may hold in memory (at least maxBodyBytes). */
  maxBytesInFlight: number;
  shuttingDown: () => boolean;
}

type EventSchema = "eventgrid" | "cloudevents";

/** A reason the request can never succeed, answered with 400 (or 413). */
class RejectedDelivery extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Delivery {
  schema: EventSchema;
  events: Record<string, unknown>[];
  /** The events as received, as JSON text of an array (no re-serialisation of what arrived). */
  eventsJson: string;
  /** Events PostgreSQL cannot hold as jsonb, set aside with their text (see unstorable-events.ts). */
  unstorable: UnstorableEvent[];
}

function mediaType(req: Request): string {
  return (req.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

/** Parses and checks the envelope. Fields inside `data` are the ingest task's business, not ours. */
export function parseDelivery(contentType: string, body: string): Delivery {
  const known = ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json", ""];
  if (!known.includes(contentType)) {
    throw new RejectedDelivery(
      400,
      `unsupported content type ${contentType}; expected application/json, application/cloudevents+json or application/cloudevents-batch+json`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new RejectedDelivery(400, `malformed JSON: ${(error as Error).message}`);
  }
  let schema: EventSchema;
  let events: unknown[];
  let eventsJson = body;
  if (contentType === "application/cloudevents+json") {
    if (!isObject(parsed)) throw new RejectedDelivery(400, "application/cloudevents+json must carry one event object");
    schema = "cloudevents";
    events = [parsed];
    eventsJson = `[${body}]`;
  } else if (contentType === "application/cloudevents-batch+json") {
    if (!Array.isArray(parsed)) throw new RejectedDelivery(400, "application/cloudevents-batch+json must carry a JSON array of events");
    schema = "cloudevents";
    events = parsed;
  } else {
    if (!Array.isArray(parsed)) throw new RejectedDelivery(400, "the Event Grid schema is a JSON array of events");
    events = parsed;
    schema = events.length > 0 && isObject(events[0]) && "specversion" in events[0] ? "cloudevents" : "eventgrid";
  }
  if (events.length === 0) throw new RejectedDelivery(400, "the delivery holds no events");
  events.forEach((event, i) => {
    if (!isObject(event)) throw new RejectedDelivery(400, `event ${i} is not a JSON object`);
    const required = schema === "eventgrid" ? ["id", "eventType"] : ["id", "type", "source", "specversion"];
    const missing = required.filter((field) => !nonEmptyString(event[field]));
    if (missing.length > 0) throw new RejectedDelivery(400, `event ${i} lacks ${missing.join(", ")}`);
  });
  const checked = events as Record<string, unknown>[];
  const single = contentType === "application/cloudevents+json";
  const suspect = mayHoldUnstorable(body, checked);
  const texts = body.length > MAX_EVENT_BYTES || suspect ? (single ? [body.trim()] : arrayElementTexts(body)) : undefined;
  if (body.length > MAX_EVENT_BYTES) {
    // Only big requests need the per-event check; Event Grid never sends an event over 1 MB.
    texts!.forEach((text, i) => {
      if (Buffer.byteLength(text) > MAX_EVENT_BYTES) throw new RejectedDelivery(413, `event ${i} is larger than 1 MB`);
    });
  }
  const unstorable: UnstorableEvent[] = [];
  if (texts && suspect) {
    const storable: string[] = [];
    texts.forEach((text, i) => {
      const problem = unstorableProblem(text, checked[i]);
      if (problem === null) {
        storable.push(text);
        return;
      }
      const event = checked[i];
      const source = schema === "cloudevents" ? (event.source ?? event.topic) : (event.topic ?? event.source);
      unstorable.push({ id: usableKey(event.id), source: usableKey(source), problem, text });
    });
    eventsJson = `[${storable.join(",")}]`;
  }
  return { schema, events: checked, eventsJson, unstorable };
}

function headerInteger(req: Request, name: string): number | null {
  const value = Number(req.get(name));
  return Number.isInteger(value) && value >= 0 ? value : null;
}

export function createWebhookRouter(deps: WebhookDependencies): express.Router {
  const router = express.Router();
  const log = deps.log.child({ component: "webhook" });
  const queue = new DeliveryQueue(deps.pool, INGEST_TASK);
  const bodyLimits = { maxBytes: deps.maxBodyBytes, budget: new BytesInFlight(deps.maxBytesInFlight) };
  let overBudgetRefusals = 0; // since the last warning, written at most every 10 s
  let overBudgetWarned = 0;
  let queueFailures = 0; // likewise, for deliveries the database could not take
  let queueFailureWarned = 0;

  const unavailable = (res: Response, reason: string) => {
    res.set("Retry-After", "10").status(503).json({ error: reason });
  };

  // CloudEvents abuse protection (the handshake of CloudEvents subscriptions), authenticated like any delivery.
  router.options("/webhooks/acs", async (req, res) => {
    try {
      if (!(await deps.authenticator.authenticate(req))) {
        res.status(401).json({ error: "unauthorized" });
        return;
      }
    } catch (error) {
      unavailable(res, (error as Error).message);
      return;
    }
    const origin = req.get("webhook-request-origin");
    res.set("Allow", "POST, OPTIONS");
    if (origin) {
      res.set("WebHook-Allowed-Origin", origin);
      res.set("WebHook-Allowed-Rate", "*");
    }
    res.status(200).end();
  });

  router.post("/webhooks/acs", async (req, res, next) => {
    res.on("finish", () => webhookDeliveries.inc({ status: String(res.statusCode) }));
    if (deps.shuttingDown()) {
      unavailable(res, "shutting down");
      return;
    }
    try {
      if (!(await deps.authenticator.authenticate(req))) {
        res.status(401).json({ error: "unauthorized" });
        return;
      }
    } catch (error) {
      if (error instanceof TransientAuthError) {
        log.warn({ err: error.message }, "cannot check the bearer token now");
        unavailable(res, "cannot verify credentials right now");
        return;
      }
      next(error);
      return;
    }
    readBody(req, res, bodyLimits, (refusal, body) => {
      if (refusal) {
        if (refusal.status === 503) {
          overBudgetRefusals++;
          if (Date.now() - overBudgetWarned >= 10_000) {
            log.warn(
              { refused: overBudgetRefusals, maxBytesInFlight: deps.maxBytesInFlight },
              "request bytes in flight at WEBHOOK_MAX_BYTES_IN_FLIGHT: answering 503 so Event Grid retries",
            );
            overBudgetWarned = Date.now();
            overBudgetRefusals = 0;
          }
          unavailable(res, refusal.reason);
        } else {
          res.status(refusal.status).json({ error: refusal.reason });
        }
        return;
      }
      req.body = body;
      receive(req, res).catch(next);
    });
  });

  async function receive(req: Request, res: Response) {
    const eventType = (req.get("aeg-event-type") ?? "").toLowerCase();
    if (eventType === "subscriptiondeletion") {
      log.warn({ subscription: req.get("aeg-subscription-name") }, "Event Grid says the subscription was deleted");
      res.status(200).json({ acknowledged: true });
      return;
    }
    let delivery: Delivery;
    try {
      delivery = parseDelivery(mediaType(req), typeof req.body === "string" ? req.body : "");
    } catch (error) {
      if (error instanceof RejectedDelivery) {
        log.warn({ status: error.status, reason: error.message }, "delivery rejected");
        res.status(error.status).json({ error: error.message });
        return;
      }
      throw error;
    }

    const validation = delivery.events.find((e) => e.eventType === VALIDATION_EVENT);
    if (validation) {
      const data = isObject(validation.data) ? validation.data : {};
      if (!nonEmptyString(data.validationCode)) {
        res.status(400).json({ error: "SubscriptionValidationEvent without data.validationCode" });
        return;
      }
      log.info(
        { topic: validation.topic, validationUrl: data.validationUrl },
        "answering the Event Grid subscription validation (or open validationUrl within 5 minutes to validate by hand)",
      );
      res.status(200).json({ validationResponse: data.validationCode });
      return;
    }

    const payload = deliveryJson({
      schema: delivery.schema,
      receivedAt: new Date().toISOString(),
      deliveryCount: headerInteger(req, "aeg-delivery-count"),
      subscriptionName: req.get("aeg-subscription-name") ?? null,
      eventsJson: delivery.eventsJson,
      unstorable: delivery.unstorable,
    });
    try {
      await queue.add(payload);
    } catch (error) {
      if (isContentError(error)) {
        log.warn({ err: (error as Error).message, events: delivery.events.length }, "delivery rejected: PostgreSQL cannot store it");
        res.status(400).json({ error: `the delivery cannot be stored: ${(error as Error).message}` });
        return;
      }
      queueFailures++;
      if (Date.now() - queueFailureWarned >= 10_000) {
        log.warn(
          { err: (error as Error).message, refused: queueFailures },
          "could not queue deliveries (database unreachable?); answering 503 so Event Grid retries",
        );
        queueFailureWarned = Date.now();
        queueFailures = 0;
      }
      unavailable(res, "temporarily unable to store events");
      return;
    }
    webhookEventsReceived.inc({ schema: delivery.schema }, delivery.events.length);
    res.status(200).json({ received: delivery.events.length });
  }

  return router;
}
