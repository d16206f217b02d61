// One server for bench/tracking.ts, in a process of its own (started by it, never by hand):
//   node bench/tracking-server.ts '<ServerVariant as JSON>'
// It listens on a free loopback port, tells its parent the port over IPC, and stops on SIGTERM.
//   bare       a bare Express handler: GET /t/c/TOKEN answers 302 to the URL the token carries (read without any
//              check: the same Location Mailroom's redirect gives), nothing else; for experiments, `async` (the answer
//              after an await) and `redirect: "plain"` (below)
//   tracking   Mailroom's application (createHttpApp, with TRACKING_SECRETS) on a pool of its own
//   router     src/http/tracking.ts's router alone (createTrackingRouter) in an Express app: without createHttpApp's
//              other layers (its request timer for the metrics, the routes before it)
//   copy       a bench-local copy of src/http/tracking.ts's click path, to measure alternatives: the DeliveryQueue's
//              options (`writes`: maxConcurrentWrites, `deliveries`: maxDeliveriesPerJob), or no storing at all
//              (`store: false`: everything but the database), `redirect: "plain"` (the 302 with its Location and no
//              body, instead of Express's res.redirect and its content negotiation), in an Express app of its own
// `pool`: connections of the pool (the server's default is 10); `syncCommit: false` turns synchronous_commit off for
// the pool's sessions (a diagnosis of the commit wait only: the answer then no longer waits for the disk).
import http from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import pino from "pino";
import type pg from "pg";
import { createPool } from "../src/app.ts";
import { createHttpApp } from "../src/http/app.ts";
import { DeliveryQueue } from "../src/http/delivery-queue.ts";
import { createTrackingRouter, hitEvent } from "../src/http/tracking.ts";
import { INGEST_TASK } from "../src/http/webhook.ts";
import { createWebhookAuthenticator } from "../src/http/webhook-auth.ts";
import { MAX_TOKEN_CHARS, trackingKeys } from "../src/tracking/token.ts";

export interface ServerVariant {
  kind: "bare" | "tracking" | "router" | "copy";
  databaseUrl?: string;
  secret?: string;
  pool?: number;
  syncCommit?: boolean;
  writes?: number;
  deliveries?: number;
  store?: boolean;
  redirect?: "express" | "plain";
  /** bare: answer after an await. */
  async?: boolean;
}

/** Where a click token redirects, read from its payload without checking it (the bare handler's only work). */
function tokenUrl(token: string): string {
  const payload = Buffer.from(token.slice(0, token.indexOf(".")), "base64url");
  return payload.subarray(24).toString("utf8");
}

/** src/http/tracking.ts's handler for clicks, with the alternatives above. Refusals as there (400, 404, 503). */
function copyRouter(pool: pg.Pool, variant: ServerVariant): express.Router {
  const router = express.Router();
  const queue = new DeliveryQueue(pool, INGEST_TASK, { maxConcurrentWrites: variant.writes, maxDeliveriesPerJob: variant.deliveries });
  const secrets = [variant.secret!];
  router.get("/t/c/:token", async (req: Request, res: Response) => {
    const token = req.params.token as string;
    if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
      res.status(400).send("malformed tracking link\n");
      return;
    }
    const hit = (await trackingKeys(pool, secrets)).verify(token, ["click", "honeypot"]);
    if (!hit) {
      res.status(404).send("not found\n");
      return;
    }
    if (variant.store !== false) {
      const event = hitEvent(hit, { method: req.method, ip: req.ip, userAgent: req.get("user-agent") }, new Date());
      const delivery =
        `{"schema":"eventgrid","receivedAt":${JSON.stringify(event.eventTime)},"deliveryCount":null,` +
        `"subscriptionName":"mailroom-tracking","events":[${JSON.stringify(event)}]}`;
      try {
        await queue.add(delivery);
      } catch {
        res.set("retry-after", "5").status(503).send("temporarily unavailable, please try again\n");
        return;
      }
    }
    res.set("cache-control", "no-store, no-cache, must-revalidate, max-age=0");
    res.set("pragma", "no-cache");
    res.set("expires", "0");
    res.set("referrer-policy", "no-referrer");
    if (variant.redirect === "plain") res.status(302).location(hit.url as string).end();
    else res.redirect(302, hit.url as string);
  });
  return router;
}

const variant = JSON.parse(process.argv[2]!) as ServerVariant;
const log = pino({ level: "warn" });
let pool: pg.Pool | undefined;
let app: express.Express;
if (variant.kind === "bare") {
  app = express();
  if (variant.async) {
    // The same, answered after an await (as any handler that waits for the database answers).
    app.get("/t/c/:token", async (req, res) => {
      await Promise.resolve();
      if (variant.redirect === "plain") res.status(302).location(tokenUrl(req.params.token)).end();
      else res.redirect(302, tokenUrl(req.params.token));
    });
  } else if (variant.redirect === "plain") {
    app.get("/t/c/:token", (req, res) => {
      res.status(302).location(tokenUrl(req.params.token)).end();
    });
  } else {
    app.get("/t/c/:token", (req, res) => {
      res.redirect(302, tokenUrl(req.params.token));
    });
  }
} else {
  let url = variant.databaseUrl!;
  if (variant.syncCommit === false) url += `${url.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c synchronous_commit=off")}`;
  pool = createPool(url, log, variant.pool ?? 10);
  if (variant.kind === "tracking") {
    app = createHttpApp({
      pool,
      log,
      shuttingDown: () => false,
      webhook: { authenticator: createWebhookAuthenticator(["bench-webhook-secret-0123456789"], undefined), maxBodyBytes: 4 * 1024 * 1024 },
      trackingSecrets: [variant.secret!],
    });
  } else {
    app = express();
    app.disable("x-powered-by");
    app.use(
      variant.kind === "router"
        ? createTrackingRouter({ pool, log, secrets: [variant.secret!], shuttingDown: () => false })
        : copyRouter(pool, variant),
    );
  }
}
const server = http.createServer(app);
server.listen(0, "127.0.0.1", () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => {
    void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0));
  });
});
