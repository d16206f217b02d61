// Process lifecycle: open the database (embedded by default), migrate, start the worker and the
// HTTP server, and shut down within SHUTDOWN_TIMEOUT_MS: stop taking requests and let the worker finish
// (both at once), release what is left, close the pools, and stop the embedded database last.
// What only one mode needs is imported when that mode starts: a worker alone loads no HTTP server, Express or
// GraphQL, and no sandbox when ACS_CONNECTION_STRING is set.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/database.ts";
import { migrateDatabase } from "./db/migrate.ts";
import type { GraphqlApi } from "./graphql/server.ts";
import type { Log } from "./log.ts";
import { startWorker, type Worker } from "./worker.ts";
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
  worker: Worker | undefined;
  url: string | undefined;
  /**
   * Stops everything within SHUTDOWN_TIMEOUT_MS (see stop() in startMailroom). Called again, returns the same stop;
   * `now`: cut the wait for requests and jobs short, also when a stop is under way.
   */
  stop(options?: { now?: boolean }): Promise<void>;
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

/** Whether `work` settles (resolved or rejected) within `ms`. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The part of SHUTDOWN_TIMEOUT_MS kept for what follows the wait for requests and jobs: releasing the jobs still
 * running, closing connections and pools, stopping PostgreSQL. A quarter, from 2 to 5 seconds.
 */
export function stopReserveMs(shutdownTimeoutMs: number): number {
  return Math.min(5000, Math.max(2000, Math.round(shutdownTimeoutMs / 4)));
}

/** How long a stop cut short (stop({ now: true })) takes at most from then: release, close, stop PostgreSQL. */
export const HURRIED_STOP_MS = 2000;

/**
 * Binds the HTTP port before anything else happens, so that a port in use stops start-up at once, before the
 * database is created, started or migrated. Until the application is ready the server answers /healthz with 200
 * (the process lives) and everything else with 503 and Retry-After; listen() then swaps in the application.
 */
export async function bindHttpPort(config: Pick<Config, "port" | "host">): Promise<{ server: http.Server; listen(app: http.RequestListener): void }> {
  const starting: http.RequestListener = (req, res) => {
    const alive = req.url === "/healthz" || req.url?.startsWith("/healthz?");
    res.writeHead(alive ? 200 : 503, { "content-type": "application/json; charset=utf-8", ...(alive ? {} : { "retry-after": "1" }) });
    res.end(JSON.stringify(alive ? { status: "ok" } : { status: "starting" }));
  };
  const server = http.createServer(starting);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") {
      throw new HttpPortError(`port ${config.port} on ${config.host} is in use by another program; stop it, or set PORT to a free port (PORT=0 picks one)`);
    }
    if (error.code === "EACCES") {
      throw new HttpPortError(`port ${config.port} on ${config.host} may not be used by this user (ports below 1024 need privileges); set PORT to another port`);
    }
    if (error.code === "EADDRNOTAVAIL") {
      throw new HttpPortError(`HOST ${config.host} is not an address of this machine; set HOST to one (127.0.0.1, 0.0.0.0)`);
    }
    throw error;
  });
  return {
    server,
    listen(app) {
      server.off("request", starting);
      server.on("request", app);
    },
  };
}

/** The HTTP port cannot be listened on (in use, privileged, an address not of this machine): start-up stops before touching the database. */
export class HttpPortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HttpPortError";
  }
}

export async function startMailroom(config: Config, log: Log, options: MailroomOptions): Promise<Mailroom> {
  const started = Date.now();
  // The HTTP port first: a port in use is reported within a second, before initdb and the migrations.
  const httpPort = options.server ? await bindHttpPort(config) : undefined;
  let database: Database;
  try {
    database = await openDatabase(config, log);
  } catch (error) {
    await new Promise((resolve) => (httpPort ? httpPort.server.close(resolve) : resolve(undefined)));
    throw error;
  }
  let pool: pg.Pool | undefined;
  let graphqlPool: pg.Pool | undefined;
  let graphql: GraphqlApi | undefined;
  let worker: Worker | undefined;
  // Listening from the start (bindHttpPort), so that a stop closes it whatever the point start-up reached.
  const server: http.Server | undefined = httpPort?.server;
  let shuttingDown = false;
  let sending: SendingRuntime | undefined;

  // One deadline for the whole stop, SHUTDOWN_TIMEOUT_MS from the first call. Until stopReserveMs() before it, the
  // HTTP server and the worker wait together for their open requests and running jobs (readiness says 503 from
  // the start). Then open connections are closed, jobs still running are released for another worker (their
  // queries are abandoned), the pools are closed, and PostgreSQL gets the time left for its fast shutdown, then
  // immediate. stop({ now: true }) ends the waiting at once and brings the deadline forward (HURRIED_STOP_MS).
  let stopping: Promise<void> | undefined;
  let deadline = Infinity; // everything stopped, PostgreSQL included
  let waitEnd = Infinity; // the end of the wait for requests and jobs
  let releaseEnd = Infinity; // jobs released, pools closed; PostgreSQL stops in what is left
  let hurry: () => void = () => undefined;
  const hurried = new Promise<false>((resolve) => {
    hurry = () => resolve(false);
  });
  const reserve = stopReserveMs(config.shutdownTimeoutMs);
  const until = (time: number) => Math.max(0, time - Date.now());

  const stopAll = async () => {
    shuttingDown = true;
    // While requests and jobs finish, the embedded PostgreSQL writes its dirty pages: its shutdown is quicker then.
    const checkpoint = database.embedded?.checkpoint();
    // Whether the work finishes before the waiting ends (stopReserveMs() before the deadline, or a hurry).
    const finishes = (work: Promise<unknown>) => Promise.race([withTimeout(work, until(waitEnd)), hurried]);
    const drainHttp = async (s: http.Server) => {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      // Idle keep-alive connections now, and each one as its request is answered.
      s.closeIdleConnections();
      const idle = setInterval(() => s.closeIdleConnections(), 100);
      try {
        if (!(await finishes(closed))) {
          log.warn("requests still open at the shutdown deadline: closing their connections");
          s.closeAllConnections();
        }
      } finally {
        clearInterval(idle);
      }
    };
    const drainJobs = async (w: Worker) => {
      if (await finishes(w.stop())) return;
      log.warn("worker did not stop in time; its jobs will be released for retry");
      if (!(await withTimeout(w.kill(), until(releaseEnd)))) {
        log.warn("running jobs not released in time: they stay locked until a worker finds them abandoned");
      }
    };
    await Promise.all([server && drainHttp(server), worker && drainJobs(worker)]);
    // A pool that does not end within a second holds a query the worker abandoned; PostgreSQL's stop ends it.
    const closing = Promise.all([
      (async () => {
        await graphql?.release().catch(() => undefined);
        await graphqlPool?.end();
      })(),
      sending?.stop(),
      pool?.end(),
    ]);
    await withTimeout(closing, Math.min(1000, until(releaseEnd)));
    if (checkpoint) await withTimeout(checkpoint, until(releaseEnd));
    await database.stop(until(deadline));
  };

  const stop = (stopOptions: { now?: boolean } = {}): Promise<void> => {
    if (!stopping) {
      deadline = Date.now() + config.shutdownTimeoutMs;
      waitEnd = deadline - reserve;
      releaseEnd = deadline - reserve / 2;
      stopping = stopAll();
    }
    if (stopOptions.now) {
      const now = Date.now();
      waitEnd = now;
      releaseEnd = Math.min(releaseEnd, now + HURRIED_STOP_MS / 2);
      deadline = Math.min(deadline, now + HURRIED_STOP_MS);
      hurry();
    }
    return stopping;
  };

  try {
    pool = createPool(database.ownerUrl, log, Math.max(10, config.workerConcurrency + 4));
    if (options.migrate) {
      await migrateDatabase(database.ownerUrl, database.roles, log);
    }
    if (options.worker && config.acsConnectionString === undefined) {
      // A demo stopped mid-campaign resumes with the demo's sandbox settings, whether started again as the demo or not.
      const { resumeDemoSettings } = await import("./demo.ts");
      await resumeDemoSettings(pool, process.env, log);
    }
    sending = await prepareSending(config, log, options);
    if (options.worker) {
      await sending.queueSendJobs(pool);
      const { createTaskList } = await import("../tasks/index.ts");
      worker = await startWorker({ connectionString: database.ownerUrl }, log, {
        taskList: createTaskList(sending.settings),
        concurrency: config.workerConcurrency,
        reclaimAfterMs: config.workerReclaimAfterMs,
        cronItems: retentionCronItems(config.rawEventRetentionDays, config.trackingIpRetentionDays),
      });
    }
    let url: string | undefined;
    if (options.server) {
      const [{ createHttpApp }, { createWebhookAuthenticator }, { optInOptions }] = await Promise.all([import("./http/app.ts"), import("./http/webhook-auth.ts"), import("./http/opt-in.ts")]);
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
          preview: { pool, settings: sending.settings },
        });
      } else {
        log.warn("AUTH_DATABASE_URL is unset: /graphql is not served (see README, Configuration)");
      }
      const app = createHttpApp({
        pool,
        log,
        graphql,
        webhook: { authenticator, maxBodyBytes: config.webhookMaxBodyBytes, maxBytesInFlight: config.webhookMaxBytesInFlight },
        unsubscribeSecret: config.sending.unsubscribeSecret,
        trackingSecrets: config.sending.trackingSecrets,
        trustProxy: config.trustProxy,
        optIn: optInOptions(config),
        dashboard: graphqlPool && { pool: graphqlPool, roles: database.roles, sessionHours: config.dashboardSessionHours, publicUrl: config.sending.publicUrl },
        workerRunning: options.worker ? () => worker?.running() ?? false : undefined,
        shuttingDown: () => shuttingDown,
      });
      const s = httpPort!.server;
      if (graphql) await graphql.attachWebsockets(s);
      httpPort!.listen(app);
      const address = s.address() as AddressInfo;
      url = `http://${config.host}:${address.port}`;
      await sending.serverListening(url);
    }
    log.info({ ms: Date.now() - started, url, worker: options.worker }, "Mailroom is ready");
    return { database, pool, worker, url, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
