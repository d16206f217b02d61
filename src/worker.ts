// The graphile-worker runner: tasks are the files in tasks/, one per task identifier.
import path from "node:path";
import { run, type Runner } from "graphile-worker";
import type pg from "pg";
import { projectRoot } from "./db/migrate.ts";
import type { Log } from "./log.ts";
import { workerLogger } from "./log.ts";

export const taskDirectory = path.join(projectRoot, "tasks");

export async function startWorker(pool: pg.Pool, concurrency: number, log: Log): Promise<Runner> {
  return run({
    pgPool: pool,
    concurrency,
    taskDirectory,
    noHandleSignals: true,
    pollInterval: 1000,
    crontab: "",
    logger: workerLogger(log.child({ component: "worker" })),
  });
}
