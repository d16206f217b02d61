// Brings a database to the current schema: graphile-worker's own schema first (so that SQL in
// our migrations and functions can call graphile_worker.add_job), then the committed
// graphile-migrate migrations under migrations/committed (tables, types, privileges, data), then
// the functions, views and triggers, one file each under migrations/sql (see docs/schema.md).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import JSON5 from "json5";
import { migrate, watch, type Settings } from "graphile-migrate";
import { runMigrations } from "graphile-worker";
import pg from "pg";
import pino from "pino";
import type { Log } from "../log.ts";
import { graphileLogger, workerLogger } from "../log.ts";
import type { DatabaseRoles } from "./roles.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The .gmrc settings with our connection and role names filled in. `quiet`: graphile-migrate's line per migration
 * at debug level (migrateDatabase says what it did in one line of its own).
 */
export function migrateSettings(
  connectionString: string,
  roles: DatabaseRoles,
  log?: Log,
  options: { quiet?: boolean; observe?: (level: string, message: string) => void } = {},
): Settings {
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
    ...(log || options.observe
      ? { logger: graphileLogger((log ?? pino({ level: "silent" })).child({ component: "migrate" }), { infoAs: options.quiet ? "debug" : "info", observe: options.observe }) }
      : {}),
  };
}

/** What migrateDatabase did: committed migrations run now, files of migrations/sql applied now (0: unchanged). */
export interface MigrationSummary {
  migrations: number;
  sqlFiles: number;
  ms: number;
}

/**
 * Applies graphile-worker's schema and the committed migrations; with `current`, also the work in
 * progress in migrations/current.sql (the test harness does this, so that tests see it before it is
 * committed; CI requires current.sql to be empty).
 *
 * Logs one line at info level when it changed something ("database migrated: 2 migrations and 98 SQL files
 * applied in 0.9 s"), at debug level when the database was up to date; the detail (each migration) at debug level.
 */
export async function migrateDatabase(
  connectionString: string,
  roles: DatabaseRoles,
  log?: Log,
  options: { current?: boolean } = {},
): Promise<MigrationSummary> {
  const started = Date.now();
  await runMigrations({
    connectionString,
    ...(log ? { logger: workerLogger(log.child({ component: "worker-schema" }), { infoAs: "debug" }) } : {}),
  });
  // One connection of our own, for the check before the migrations and the files after them.
  const client = new pg.Client({ connectionString });
  client.on("error", () => {}); // a lost connection fails the query in progress, which reports it
  await client.connect();
  let summary: MigrationSummary;
  try {
    await refuseSquashedHistory(client);
    const migrations = await runCommittedMigrations(connectionString, roles, log, options);
    const sqlFiles = await applySqlSources(client, roles, log, { always: options.current });
    summary = { migrations, sqlFiles, ms: Date.now() - started };
  } finally {
    await client.end();
  }
  if (summary.migrations > 0 || summary.sqlFiles > 0) {
    log?.info(
      summary,
      `database migrated: ${summary.migrations} migration${summary.migrations === 1 ? "" : "s"} and ${summary.sqlFiles} SQL file${summary.sqlFiles === 1 ? "" : "s"} applied in ${(summary.ms / 1000).toFixed(1)} s`,
    );
  } else {
    log?.debug(summary, "database up to date: no migration or SQL file to apply");
  }
  return summary;
}

async function runCommittedMigrations(
  connectionString: string,
  roles: DatabaseRoles,
  log: Log | undefined,
  options: { current?: boolean },
): Promise<number> {
  // The migrations this process runs, counted as graphile-migrate reports each one (another process starting at the
  // same time may run them instead).
  let ran = 0;
  const observe = (_level: string, message: string) => {
    if (/\bRunning migration '/.test(message)) ran += 1;
  };
  // graphile-migrate refuses to run while another process migrates (a try-lock): wait for it instead,
  // so that several processes may start at once.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(migrateSettings(connectionString, roles, log, { quiet: true, observe }));
      break;
    } catch (error) {
      if (!/Failed to get exclusive lock/.test(String(error)) || attempt >= 60) throw error;
      log?.info("another process is migrating the database; waiting for it");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (options.current) await watch(migrateSettings(connectionString, roles, log, { quiet: true }), true);
  // graphile-migrate keeps its pool open for 200 ms after use and exits the process if that pool
  // sees an error (a database dropped or restarted right after migrating): outlive it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return ran;
}

/**
 * The migrations were squashed into one baseline (000001) before any release: a database migrated by
 * the earlier series cannot be upgraded, and graphile-migrate would only report a hash mismatch.
 */
async function refuseSquashedHistory(client: pg.Client): Promise<void> {
  const { rows: table } = await client.query("select to_regclass('graphile_migrate.migrations') is not null as migrated");
  if (!table[0].migrated) return; // an empty database
  const baseline = fs.readdirSync(path.join(projectRoot, "migrations/committed")).find((f) => f.startsWith("000001"));
  const hash = baseline && /^--! Hash: (\S+)/m.exec(fs.readFileSync(path.join(projectRoot, "migrations/committed", baseline), "utf8"))?.[1];
  const { rows } = await client.query("select hash from graphile_migrate.migrations where filename = '000001.sql'");
  if (rows.length > 0 && hash && rows[0].hash !== hash) {
    throw new Error(
      "this database was created by an earlier series of Mailroom migrations, since squashed into one baseline; " +
        "it cannot be upgraded: start from an empty database (with the embedded server, delete the data directory, .data by default)",
    );
  }
}

/** The files under migrations/sql, in the order they are applied: by path (the domain folders are numbered). */
export function sqlSourceFiles(): string[] {
  const root = path.join(projectRoot, "migrations/sql");
  return fs
    .readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .map((file) => path.join(root, file));
}

// Taken while the sources are applied, so that processes starting together apply them one at a time
// (app_hidden.advisory_lock_id lists every advisory lock; this one is taken before that function exists).
const SQL_SOURCES_LOCK = 7361002;

/**
 * Applies every file under migrations/sql (idempotent `create or replace` statements) in one
 * transaction, unless the same files were already applied after the same last migration (recorded in
 * app_private.applied_sql_sources): replacing a trigger locks its table, which a running system
 * should not see at every start. `always` applies them regardless (after migrations/current.sql).
 * Returns how many files it applied: 0 when they were applied already.
 */
export async function applySqlSources(
  client: pg.Client,
  roles: DatabaseRoles,
  log?: Log,
  options: { always?: boolean } = {},
): Promise<number> {
  // The migrations' placeholders, and the two graphile-migrate fills in by itself.
  const placeholders: Record<string, string> = {
    ...migrateSettings("", roles).placeholders,
    ":DATABASE_OWNER": roles.owner,
    ":DATABASE_NAME": roles.database,
  };
  const files = sqlSourceFiles().map((file) => ({ file: path.relative(projectRoot, file), text: fs.readFileSync(file, "utf8") }));
  // The files as written identify what was applied; the role names filled in are the database's own.
  const hash = crypto.createHash("sha256");
  for (const { file, text } of files) hash.update(`${file}\0${text}\0`);
  const sha256 = hash.digest("hex");
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock($1)", [SQL_SOURCES_LOCK]);
    const { rows } = await client.query(
      `select coalesce((select max(filename) from graphile_migrate.migrations), '') as migration,
         exists (select 1 from app_private.applied_sql_sources as a
                 where a.sha256 = $1 and a.migration = (select max(filename) from graphile_migrate.migrations)) as applied`,
      [sha256],
    );
    if (rows[0].applied && !options.always) {
      await client.query("rollback");
      return 0;
    }
    await client.query("set local check_function_bodies = off");
    for (const { file, text } of files) {
      const sql = text.replace(/:DATABASE_[A-Z]+\b/g, (name) => {
        if (!(name in placeholders)) throw new Error(`${file}: unknown placeholder ${name}`);
        return placeholders[name];
      });
      try {
        await client.query(sql);
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
      }
    }
    await client.query(
      `insert into app_private.applied_sql_sources (sha256, migration) values ($1, $2)
       on conflict (sha256, migration) do update set applied_at = now()`,
      [sha256, rows[0].migration],
    );
    await client.query("commit");
    log?.debug({ files: files.length }, "applied the functions, views and triggers of migrations/sql");
    return files.length;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
}
