// The graphile-worker runner: tasks are the files in tasks/, one per task identifier.
import path from "node:path";
import { parseCronItems, run, type CronItem, type Runner } from "graphile-worker";
import type pg from "pg";
import { projectRoot } from "./db/migrate.ts";
import type { Log } from "./log.ts";
import { workerLogger } from "./log.ts";

export const taskDirectory = path.join(projectRoot, "tasks");

/** cronItems: the recurring jobs (e.g. retention, src/retention.ts); none by default, and no crontab file is read. */
export async function startWorker(pool: pg.Pool, concurrency: number, log: Log, cronItems: CronItem[] = []): Promise<Runner> {
  return run({
    pgPool: pool,
    concurrency,
    taskDirectory,
    noHandleSignals: true,
    pollInterval: 1000,
    parsedCronItems: parseCronItems(cronItems),
    logger: workerLogger(log.child({ component: "worker" })),
  });
}
