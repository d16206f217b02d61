// The Express application: health and readiness now; the webhook receiver, GraphQL and the
// unsubscribe endpoint mount here.
import express from "express";
import type pg from "pg";
import type { Log } from "../log.ts";
import { createDashboardRouter, type DashboardOptions } from "../dashboard/index.ts";
import { createOptInRouter, type OptInOptions } from "./opt-in.ts";
import { createTrackingRouter } from "./tracking.ts";
import { createUnsubscribeRouter } from "./unsubscribe.ts";
import { createWebhookRouter } from "./webhook.ts";
import type { WebhookAuthenticator } from "./webhook-auth.ts";
import type { GraphqlApi } from "../graphql/server.ts";
import { httpRequestDuration, metricsText, routeLabel } from "../metrics.ts";
import { defaultWebhookMaxBytesInFlight } from "../config.ts";

export interface HttpDependencies {
  pool: pg.Pool;
  log: Log;
  /** Whether this process's worker is running (undefined when the process runs no worker). */
  workerRunning?: () => boolean;
  /** Set while the process shuts down: readiness turns 503 so load balancers stop sending. */
  shuttingDown: () => boolean;
  /** maxBytesInFlight: see WEBHOOK_MAX_BYTES_IN_FLIGHT (default: defaultWebhookMaxBytesInFlight(maxBodyBytes)). */
  webhook: { authenticator: WebhookAuthenticator; maxBodyBytes: number; maxBytesInFlight?: number };
  /** UNSUBSCRIBE_SECRET; undefined: the secret generated and kept in the database. */
  unsubscribeSecret?: string;
  /** TRACKING_SECRETS; undefined: the secret generated and kept in the database. */
  trackingSecrets?: string[];
  /** TRUST_PROXY: Express's "trust proxy" (which X-Forwarded-For hops to believe for the client's address). */
  trustProxy?: boolean | number | string;
  /** The GraphQL API at /graphql (absent when the process has no authenticator connection). */
  graphql?: GraphqlApi;
  /** Double opt-in confirmation and the public subscribe form (src/http/opt-in.ts). */
  optIn?: OptInOptions;
  /** The dashboard's sessions and reads (src/dashboard), through the authenticator's pool; absent: GET / only. */
  dashboard?: DashboardOptions;
}

export async function databaseAnswers(pool: pg.Pool, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    });
    await Promise.race([pool.query("select 1"), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function createHttpApp(deps: HttpDependencies): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", deps.trustProxy ?? false);

  // Mailroom's own open pixel and click redirect (/t/o/TOKEN, /t/c/TOKEN): first, as they must answer fast; they
  // are counted by mailroom_tracking_hits_total rather than by the request histogram.
  app.use(createTrackingRouter({ pool: deps.pool, log: deps.log, secrets: deps.trackingSecrets, shuttingDown: deps.shuttingDown }));

  app.use((req, res, next) => {
    const end = httpRequestDuration.startTimer({ method: req.method, route: routeLabel(req.path) });
    res.on("finish", () => end({ status: String(res.statusCode) }));
    next();
  });

  // Prometheus: this process's counters and the numbers PostgreSQL holds for all processes.
  app.get("/metrics", async (_req, res) => {
    res.type("text/plain; version=0.0.4").send(await metricsText(deps.pool));
  });

  // Liveness: the process answers. Never touches the database.
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  // Readiness: the database answers and, where this process runs one, the worker runs.
  app.get("/readyz", async (_req, res) => {
    const database = await databaseAnswers(deps.pool);
    const worker = deps.workerRunning === undefined ? "not in this process" : deps.workerRunning() ? "ok" : "stopped";
    const ready = database && worker !== "stopped" && !deps.shuttingDown();
    res.status(ready ? 200 : 503).json({
      status: ready ? "ready" : "not ready",
      database: database ? "ok" : "unreachable",
      worker,
      ...(deps.shuttingDown() ? { shutdown: "in progress" } : {}),
    });
  });

  app.use(
    createWebhookRouter({
      pool: deps.pool,
      log: deps.log,
      authenticator: deps.webhook.authenticator,
      maxBodyBytes: deps.webhook.maxBodyBytes,
      maxBytesInFlight: deps.webhook.maxBytesInFlight ?? defaultWebhookMaxBytesInFlight(deps.webhook.maxBodyBytes),
      shuttingDown: deps.shuttingDown,
    }),
  );

  deps.graphql?.mount(app);

  // One-click unsubscribe (RFC 8058): the List-Unsubscribe URL of every message.
  app.use(createUnsubscribeRouter({ pool: deps.pool, log: deps.log, secret: deps.unsubscribeSecret }));

  // Double opt-in: confirmation links and the public subscribe form.
  app.use(createOptInRouter({ pool: deps.pool, log: deps.log, options: deps.optIn }));

  // GET /: what runs here and the dashboard's sign-in; the dashboard's pages (src/dashboard).
  app.use(createDashboardRouter(deps));

  // Anything unexpected: a 500 without internals (Event Grid retries a 500).
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    deps.log.error({ err: error }, "request failed");
    if (!res.headersSent) res.status(500).json({ error: "internal error" });
  });

  return app;
}
