// Process lifecycle: open the database (embedded by default), migrate, start the worker and the
// HTTP server, and shut down in the reverse order: stop taking requests, let the worker finish
// or release its jobs, close the pools, and stop the embedded database last.
// What only one mode needs is imported when that mode starts: a worker alone loads no HTTP server, Express or
// GraphQL, and no sandbox when ACS_CONNECTION_STRING is set.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import type { Runner } from "graphile-worker";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { migrateDatabase } from "./db/migrate.ts";
import type { GraphqlApi } from "./graphql/server.ts";
import type { Log } from "./log.ts";
import { startWorker } from "./worker.ts";
import { retentionCronItems } from "./retention.ts";
import { prepareSending, type SendingRuntime } from "./sending/process.ts";

export interface MailroomOptions {
  server: boolean;
  worker: boolean;
  migrate: boolean;
}

export interface Mailroom {
  database: Database;
  pool: pg.Pool;
  runner: Runner | undefined;
  url: string | undefined;
  stop(): Promise<void>;
}

export function createPool(connectionString: string, log: Log, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // A connection lost while idle (database restarted) must not crash the process.
  pool.on("error", (error) => log.warn({ err: error.message }, "idle database connection lost"));
  pool.on("connect", (client) => {
    client.on("error", (error) => log.warn({ err: error.message }, "database connection lost"));
  });
  return pool;
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startMailroom(config: Config, log: Log, options: MailroomOptions): Promise<Mailroom> {
  const started = Date.now();
  const database = await openDatabase(config, log);
  let pool: pg.Pool | undefined;
  let graphqlPool: pg.Pool | undefined;
  let graphql: GraphqlApi | undefined;
  let runner: Runner | undefined;
  let server: http.Server | undefined;
  let shuttingDown = false;
  let workerRunning = false;
  let sending: SendingRuntime | undefined;

  const stop = async () => {
    shuttingDown = true;
    if (server) {
      const s = server;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      if (!(await withTimeout(closed, config.shutdownTimeoutMs))) s.closeAllConnections();
    }
    if (runner) {
      const r = runner;
      // Running jobs finish; if they do not in time, graphile-worker releases them for another worker.
      if (!(await withTimeout(r.stop(), config.shutdownTimeoutMs))) {
        log.warn("worker did not stop in time; its jobs will be released for retry");
        await withTimeout(r.kill?.() ?? Promise.resolve(), 5000);
      }
      workerRunning = false;
    }
    if (graphql) await graphql.release().catch(() => undefined);
    if (graphqlPool) await graphqlPool.end().catch(() => undefined);
    if (sending) await sending.stop().catch(() => undefined);
    if (pool) await pool.end().catch(() => undefined);
    await database.stop();
  };

  try {
    pool = createPool(database.ownerUrl, log, Math.max(10, config.workerConcurrency + 4));
    if (options.migrate) {
      await migrateDatabase(database.ownerUrl, database.roles, log);
    }
    sending = await prepareSending(config, log, options);
    if (options.worker) {
      await sending.queueSendJobs(pool);
      runner = await startWorker(pool, config.workerConcurrency, log, retentionCronItems(config.rawEventRetentionDays));
      workerRunning = true;
      runner.promise.then(
        () => { workerRunning = false; },
        (error: unknown) => {
          workerRunning = false;
          log.error({ err: error }, "worker stopped with an error");
        },
      );
    }
    let url: string | undefined;
    if (options.server) {
      const [{ createHttpApp }, { createWebhookAuthenticator }] = await Promise.all([import("./http/app.ts"), import("./http/webhook-auth.ts")]);
      const authenticator = createWebhookAuthenticator([...config.webhookSecrets, ...sending.webhookSecrets], config.entra);
      if (!authenticator.configured) {
        log.warn("no WEBHOOK_SECRETS and no Entra settings: POST /webhooks/acs refuses every delivery with 401");
      }
      if (database.authUrl) {
        // Grafast reads GRAPHILE_ENV when loaded: extra checks in development, none in production.
        process.env.GRAPHILE_ENV ??= config.production ? "production" : "development";
        const { createGraphqlApi } = await import("./graphql/server.ts");
        graphqlPool = createPool(database.authUrl, log, 20);
        graphql = createGraphqlApi({
          pool: graphqlPool,
          roles: database.roles,
          config: config.graphql,
          production: config.production,
          log: log.child({ component: "graphql" }),
        });
      } else {
        log.warn("AUTH_DATABASE_URL is unset: /graphql is not served (see README, Configuration)");
      }
      const app = createHttpApp({
        pool,
        log,
        graphql,
        webhook: { authenticator, maxBodyBytes: config.webhookMaxBodyBytes },
        unsubscribeSecret: config.sending.unsubscribeSecret,
        workerRunning: options.worker ? () => workerRunning : undefined,
        shuttingDown: () => shuttingDown,
      });
      const s = http.createServer(app);
      server = s;
      if (graphql) await graphql.attachWebsockets(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(config.port, config.host, () => resolve());
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE") {
          throw new Error(`port ${config.port} on ${config.host} is in use; set PORT to a free port`);
        }
        throw error;
      });
      const address = s.address() as AddressInfo;
      url = `http://${config.host}:${address.port}`;
      await sending.serverListening(url);
    }
    log.info({ ms: Date.now() - started, url, worker: options.worker }, "Mailroom is ready");
    return { database, pool, runner, url, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
