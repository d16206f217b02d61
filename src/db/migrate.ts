// Brings a database to the current schema: graphile-worker's own schema first (so that SQL in
// our migrations and functions can call graphile_worker.add_job), then the committed
// graphile-migrate migrations under migrations/committed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import JSON5 from "json5";
import { migrate, watch, type Settings } from "graphile-migrate";
import { runMigrations } from "graphile-worker";
import type { Log } from "../log.ts";
import { graphileLogger, workerLogger } from "../log.ts";
import type { DatabaseRoles } from "./roles.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The .gmrc settings with our connection and role names filled in. */
export function migrateSettings(connectionString: string, roles: DatabaseRoles, log?: Log): Settings {
  const gmrc = JSON5.parse(fs.readFileSync(path.join(projectRoot, ".gmrc"), "utf8")) as Settings;
  return {
    ...gmrc,
    connectionString,
    migrationsFolder: path.join(projectRoot, "migrations"),
    placeholders: {
      ":DATABASE_AUTHENTICATOR": roles.authenticator,
      ":DATABASE_ADMIN": roles.admin,
      ":DATABASE_READONLY": roles.readonly,
    },
    ...(log ? { logger: graphileLogger(log.child({ component: "migrate" })) } : {}),
  };
}

/**
 * Applies graphile-worker's schema and the committed migrations; with `current`, also the work in
 * progress in migrations/current.sql (the test harness does this, so that tests see it before it is
 * committed; CI requires current.sql to be empty).
 */
export async function migrateDatabase(
  connectionString: string,
  roles: DatabaseRoles,
  log?: Log,
  options: { current?: boolean } = {},
): Promise<void> {
  await runMigrations({ connectionString, ...(log ? { logger: workerLogger(log.child({ component: "worker-schema" })) } : {}) });
  // graphile-migrate refuses to run while another process migrates (a try-lock): wait for it instead,
  // so that several processes may start at once.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(migrateSettings(connectionString, roles, log));
      break;
    } catch (error) {
      if (!/Failed to get exclusive lock/.test(String(error)) || attempt >= 60) throw error;
      log?.info("another process is migrating the database; waiting for it");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (options.current) await watch(migrateSettings(connectionString, roles, log), true);
  // graphile-migrate keeps its pool open for 200 ms after use and exits the process if that pool
  // sees an error (a database dropped or restarted right after migrating): outlive it.
  await new Promise((resolve) => setTimeout(resolve, 300));
}
