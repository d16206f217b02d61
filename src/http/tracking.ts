// Mailroom's own engagement tracking: GET or HEAD
//   /t/o/TOKEN   the open pixel: a 1x1 GIF, never cached
//   /t/c/TOKEN   a click: 302 to the link's URL (a honeypot token: 200, an empty page)
// The token (src/tracking/token.ts) is checked with the keys alone; anything that is not a genuine token of this
// deployment is answered 404 (a path that cannot be a token: 400) and stores nothing, and never redirects.
//
// A hit is answered once it is stored: it becomes an event (Mailroom.EmailEngagementTracked, in Event Grid's shape,
// with what only this endpoint sees: the client's address, the method, the honeypot) in a graphile-worker job, the
// same path as Event Grid's deliveries (hits arriving together share one transaction: delivery-queue.ts). The
// ingest_events task stores it in raw_events, where the attribution trigger attributes it by the token's operation id.
// When the database cannot take it, the answer is 503 with Retry-After: nothing answered is lost.
import crypto from "node:crypto";
import express, { type Request, type Response } from "express";
import type pg from "pg";
import type { Log } from "../log.ts";
import { trackingHits } from "../metrics.ts";
import { MAX_TOKEN_CHARS, PREVIEW_OPERATION_ID, trackingKeys, type HitKind, type TrackedHit } from "../tracking/token.ts";
import { DeliveryQueue, deliveryJson } from "./delivery-queue.ts";
import { INGEST_TASK } from "./webhook.ts";

export const TRACKING_EVENT_TYPE = "Mailroom.EmailEngagementTracked";
export const TRACKING_SOURCE = "mailroom";

export interface TrackingDependencies {
  pool: pg.Pool;
  log: Log;
  /** TRACKING_SECRETS; undefined: the secret kept in the database. */
  secrets: string[] | undefined;
  shuttingDown: () => boolean;
}

/** The smallest transparent GIF (43 bytes). */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");
const PATH = /^\/t\/([oc])\/([^/]*)$/;
const MAX_USER_AGENT = 1000;

/** The event a hit becomes, in Event Grid's schema, as the ingest_events task reads it. */
export function hitEvent(hit: TrackedHit, request: { method: string; ip: string | undefined; userAgent: string | undefined }, at: Date): Record<string, unknown> {
  const time = at.toISOString();
  return {
    id: crypto.randomUUID(),
    topic: TRACKING_SOURCE,
    subject: `messages/${hit.operationId}`,
    eventType: TRACKING_EVENT_TYPE,
    eventTime: time,
    dataVersion: "1.0",
    metadataVersion: "1",
    data: {
      messageId: hit.operationId,
      engagementType: hit.kind === "open" ? "view" : "click",
      engagementContext: hit.url ?? "",
      link: hit.link,
      honeypot: hit.kind === "honeypot",
      httpMethod: request.method,
      ipAddress: request.ip ?? null,
      userAgent: request.userAgent?.slice(0, MAX_USER_AGENT) ?? "",
      userActionTimeStamp: time,
    },
  };
}

function plain(res: Response, status: number, text: string): void {
  res.status(status).set("cache-control", "no-store").type("text/plain").send(text);
}

export function createTrackingRouter(deps: TrackingDependencies): express.Router {
  const router = express.Router();
  const log = deps.log.child({ component: "tracking" });
  // One transaction at a time: hits arriving meanwhile wait and go together into the next one. Each commit costs
  // about as much PostgreSQL CPU whatever it holds, so fewer, fuller commits answer more hits (bench/RESULTS.md,
  // "Click tracking": 15.7 hits a commit instead of 5.1 with four writers, 1.45 times the redirects a second).
  const queue = new DeliveryQueue(deps.pool, INGEST_TASK, { maxConcurrentWrites: 1 });
  const keys = () => trackingKeys(deps.pool, deps.secrets);
  keys().catch(() => undefined); // read at start, not at the first hit (a failure is retried then)
  let failures = 0;
  let failureWarned = 0;

  router.use("/t", async (req: Request, res: Response, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.set("allow", "GET, HEAD");
      plain(res, 405, "method not allowed\n");
      return;
    }
    const match = PATH.exec(`/t${req.path}`);
    if (!match) return next();
    const [, path, token] = match as unknown as [string, "o" | "c", string];
    if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
      trackingHits.inc({ outcome: "malformed" });
      plain(res, 400, "malformed tracking link\n");
      return;
    }
    let hit: TrackedHit | undefined;
    try {
      const expected: HitKind[] = path === "o" ? ["open"] : ["click", "honeypot"];
      hit = (await keys()).verify(token, expected);
    } catch (error) {
      next(error);
      return;
    }
    if (!hit) {
      trackingHits.inc({ outcome: "refused" });
      plain(res, 404, "not found\n");
      return;
    }
    if (deps.shuttingDown()) {
      res.set("retry-after", "5");
      plain(res, 503, "temporarily unavailable, please try again\n");
      return;
    }
    if (hit.operationId === PREVIEW_OPERATION_ID) {
      // A preview's link: answered, never stored (it is no message's).
      trackingHits.inc({ outcome: "preview" });
      answer(res, hit);
      return;
    }
    const event = hitEvent(hit, { method: req.method, ip: req.ip, userAgent: req.get("user-agent") }, new Date());
    const delivery = deliveryJson({
      schema: "eventgrid",
      receivedAt: event.eventTime as string,
      deliveryCount: null,
      subscriptionName: "mailroom-tracking",
      eventsJson: `[${JSON.stringify(event)}]`,
    });
    try {
      await queue.add(delivery);
    } catch (error) {
      failures++;
      if (Date.now() - failureWarned >= 10_000) {
        log.warn({ err: (error as Error).message, refused: failures }, "could not store tracking hits (database unreachable?); answering 503");
        failureWarned = Date.now();
        failures = 0;
      }
      trackingHits.inc({ outcome: "unavailable" });
      res.set("retry-after", "5");
      plain(res, 503, "temporarily unavailable, please try again\n");
      return;
    }
    trackingHits.inc({ outcome: hit.kind });
    answer(res, hit);
  });

  return router;
}

/** The answer to a genuine hit: the pixel, the redirect, or an empty page for the honeypot; never cached. */
function answer(res: Response, hit: TrackedHit): void {
  res.set("cache-control", "no-store, no-cache, must-revalidate, max-age=0");
  res.set("pragma", "no-cache");
  res.set("expires", "0");
  res.set("referrer-policy", "no-referrer");
  if (hit.kind === "open") {
    res.status(200).type("image/gif").send(PIXEL);
  } else if (hit.kind === "click") {
    // Only the Location header (res.redirect also negotiates and writes an HTML body: a tenth of the cost).
    res.status(302).location(hit.url as string).end();
  } else {
    res.status(200).type("text/plain").send("");
  }
}
