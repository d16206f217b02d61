// The graphile-worker runner, supervised, running the task list it is given (createTaskList, tasks/index.ts).
//
// Crashes and outages only delay work:
// - The database going away never ends the process. The worker's own pool waits for the database when it
//   cannot reach it (PatientPool), so polls, jobs and the recording of their outcomes wait out an outage
//   of any length. Outcomes go through graphile-worker's batched path, which retries a failed write with
//   backoff (the unbatched one rejects a promise nobody handles, which ends the process); if it still gives
//   up, its pool shuts itself down and the supervisor starts a new one once the database answers, after
//   unlocking the jobs the old pool held (it is known to be dead).
// - A worker process that died (kill -9, a lost machine) leaves jobs locked, which graphile-worker itself
//   takes up again only after 4 hours. Every worker pool holds a session advisory lock on its own
//   connection for as long as it lives (app_private.hold_worker_lock); PostgreSQL drops the lock the moment
//   that connection ends. Every worker process looks every 10 s for jobs locked longer than
//   WORKER_RECLAIM_AFTER_SECONDS by a pool whose lock nobody holds, and unlocks them with graphile-worker's
//   force_unlock_workers (app_private.release_jobs_of_dead_workers), so they run again within a minute.
//   A process only does so once its own lock connection has been up for that long, so that after a
//   database restart the live workers have taken their locks again before anyone judges them.
import { EventEmitter } from "node:events";
import { parseCronItems, run, type CronItem, type Runner, type TaskList, type WorkerEvents, type WorkerPool } from "graphile-worker";
import pg from "pg";
import type { Log } from "./log.ts";
import { workerLogger } from "./log.ts";

export interface WorkerOptions {
  /** The tasks by identifier (createTaskList, tasks/index.ts). */
  taskList: TaskList;
  concurrency: number;
  /** Jobs of a dead worker are unlocked once they have been locked this long (ms). */
  reclaimAfterMs: number;
  /** The recurring jobs (e.g. retention, src/retention.ts); no crontab file is read. */
  cronItems?: CronItem[];
}

export interface Worker {
  /** Whether a runner is up (false while it is being restarted after losing the database). */
  running(): boolean;
  /** Lets running jobs finish (graphile-worker releases them if they do not), then stops. */
  stop(): Promise<void>;
  /** Stops at once; running jobs are released for another worker. */
  kill(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Waits for the work at most ms milliseconds; never rejects. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([work.catch(() => undefined), sleep(ms)]);
}

/** Errors of reaching the server (not of a query): worth waiting out. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message ?? "";
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "57P01", "57P02", "57P03"].includes(String(code)) ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(message)
  );
}

/**
 * The worker's pool: while the database cannot be reached, taking a connection waits for it (retrying every
 * second or so) instead of failing. graphile-worker takes a connection for each job, each poll and each
 * outcome it records; waiting there means an outage of any length only delays them, and the outcome of a job
 * that ran while the database went away is recorded when it is back. Connections lost in the middle of a
 * query still fail that query (the job is retried).
 */
class PatientPool extends pg.Pool {
  private closing = false;

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
    if (callback) return super.connect(callback);
    return (async () => {
      for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
        try {
          return await super.connect();
        } catch (error) {
          if (this.closing || !isUnreachable(error)) throw error;
          await sleep(delay);
        }
      }
    })();
  }

  override end(): Promise<void> {
    this.closing = true;
    return super.end();
  }
}

/** The connection that holds the worker pools' liveness locks, reconnected whenever it is lost. */
class LivenessLocks {
  private client: pg.Client | undefined;
  private readonly poolIds = new Set<string>();
  private connectedAt = 0;
  private stopped = false;
  private readonly connection: pg.ClientConfig;
  private readonly log: Log;

  constructor(connection: pg.ClientConfig, log: Log) {
    this.connection = connection;
    this.log = log;
  }

  /** Resolves once the first connection is made (or failed); keeps reconnecting in the background. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      void this.keepConnected(resolve);
    });
  }

  /** How long the connection, and so every lock of this process, has been held without a break (ms). */
  heldFor(): number {
    return this.client ? Date.now() - this.connectedAt : 0;
  }

  hold(poolId: string): void {
    this.poolIds.add(poolId);
    this.client?.query("select app_private.hold_worker_lock($1)", [poolId]).catch(() => undefined);
  }

  release(poolId: string): void {
    this.poolIds.delete(poolId);
    this.client?.query("select app_private.release_worker_lock($1)", [poolId]).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private async keepConnected(firstAttempt: () => void): Promise<void> {
    let lost = false;
    while (!this.stopped) {
      const client = new pg.Client({ ...this.connection, keepAlive: true });
      const ended = new Promise<void>((resolve) => {
        client.on("error", (error) => this.log.warn({ err: error.message }, "worker liveness connection lost"));
        client.on("end", () => resolve());
      });
      try {
        await client.connect();
        for (const poolId of this.poolIds) await client.query("select app_private.hold_worker_lock($1)", [poolId]);
        this.client = client;
        this.connectedAt = Date.now();
        if (lost) this.log.info("worker liveness connection back");
        firstAttempt();
        await ended;
      } catch (error) {
        this.log.debug({ err: (error as Error).message }, "cannot hold the worker liveness locks yet");
        await client.end().catch(() => undefined);
        firstAttempt();
      }
      this.client = undefined;
      lost = true;
      // Short, fixed: the other workers judge this one dead if its locks stay away for reclaimAfterMs.
      if (!this.stopped) await sleep(1000);
    }
  }
}

/** `connection`: where the worker's own pool connects (its size is the concurrency and a few more). */
export async function startWorker(connection: pg.ClientConfig, log: Log, options: WorkerOptions): Promise<Worker> {
  const workerLog = log.child({ component: "worker" });
  const pool = new PatientPool({ ...connection, max: options.concurrency + 3, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  pool.on("error", (error) => workerLog.warn({ err: error.message }, "idle database connection lost"));
  pool.on("connect", (client) => client.on("error", (error) => workerLog.warn({ err: error.message }, "database connection lost")));
  const liveness = new LivenessLocks(connection, workerLog);
  await liveness.start();
  let current: Runner | undefined;
  let currentPoolId: string | undefined;
  let currentPool: WorkerPool | undefined;
  let stopping = false;

  const startRunner = async (): Promise<Runner> => {
    const events = new EventEmitter() as WorkerEvents;
    events.on("pool:create", ({ workerPool }) => {
      currentPool = workerPool;
      currentPoolId = workerPool.id;
      liveness.hold(workerPool.id);
    });
    return run({
      pgPool: pool,
      concurrency: options.concurrency,
      taskList: options.taskList,
      noHandleSignals: true,
      pollInterval: 1000,
      parsedCronItems: parseCronItems(options.cronItems ?? []),
      logger: workerLogger(workerLog),
      events,
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
  };

  // Unlocks the jobs of dead pools: this process's own (known dead) or any other process's (lock not held).
  const sweep = async () => {
    if (liveness.heldFor() < options.reclaimAfterMs) return;
    try {
      const { rows } = await pool.query<{ pools: string[] }>(
        "select app_private.release_jobs_of_dead_workers(now() - make_interval(secs => $1)) as pools",
        [options.reclaimAfterMs / 1000],
      );
      if (rows[0].pools.length > 0) {
        workerLog.warn({ pools: rows[0].pools }, "unlocked the jobs of worker pools that are gone; they run again");
      }
    } catch (error) {
      workerLog.debug({ err: (error as Error).message }, "cannot look for the jobs of dead workers now");
    }
  };
  const sweeper = setInterval(() => void sweep(), 10_000);
  sweeper.unref();

  const supervise = async (runner: Runner) => {
    for (;;) {
      try {
        await runner.promise;
      } catch (error) {
        workerLog.error({ err: (error as Error).message }, "the worker pool stopped with an error");
      }
      const deadPoolId = currentPoolId;
      current = undefined;
      if (stopping) return;
      workerLog.warn("the worker pool stopped unexpectedly; starting a new one when the database answers");
      for (let delay = 1000; !stopping; delay = Math.min(delay * 2, 30_000)) {
        try {
          if (deadPoolId) {
            await pool.query("select graphile_worker.force_unlock_workers($1::text[])", [[deadPoolId]]);
            liveness.release(deadPoolId);
          }
          runner = await startRunner();
          current = runner;
          workerLog.info("worker pool started again");
          break;
        } catch (error) {
          workerLog.warn({ err: (error as Error).message, retryInMs: delay }, "cannot start the worker pool yet");
          await sleep(delay);
        }
      }
      if (stopping || !current) return;
    }
  };

  const first = await startRunner();
  current = first;
  const supervision = supervise(first);

  const finish = async (how: (runner: Runner) => Promise<void>) => {
    stopping = true;
    clearInterval(sweeper);
    if (current) await how(current);
    await supervision;
    await liveness.stop();
    await pool.end().catch(() => undefined);
  };
  return {
    running: () => current !== undefined,
    stop: () => finish((runner) => runner.stop()),
    kill: async () => {
      // The running jobs are failed with a message (so they run again at once elsewhere), then nothing waits
      // for the database any more: whatever waits for a connection gives up. graphile-worker's runner.kill()
      // does nothing once stop() has begun, so the pool is shut down forcefully itself.
      stopping = true;
      clearInterval(sweeper);
      if (currentPool) await withTimeout(Promise.resolve(currentPool.forcefulShutdown("Mailroom is stopping")), 3000);
      void pool.end().catch(() => undefined);
      await withTimeout(supervision, 1000);
      await liveness.stop();
    },
  };
}
