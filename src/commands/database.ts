// The database of a command-line command: opened (the embedded PostgreSQL is started if it is the one in use),
// migrated, one owner connection for the command, everything stopped afterwards. Only warnings are logged, so
// that the command's own output stays readable.
import pg from "pg";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/database.ts";
import { migrateDatabase } from "../db/migrate.ts";
import type { Log } from "../log.ts";

/** An error to show the user as it is (one line), with its exit code (2 by default: see command.ts). */
export class CommandError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "CommandError";
    this.exitCode = exitCode;
  }
}

export async function withDatabase<T>(config: Config, log: Log, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const quiet = log.child({}, { level: log.levelVal > 40 ? log.level : "warn" });
  const database = await openDatabase(config, quiet, { attach: true });
  try {
    await migrateDatabase(database.ownerUrl, database.roles, quiet);
    const client = new pg.Client({ connectionString: database.ownerUrl, application_name: "mailroom command" });
    // A connection lost must not crash the process: the command's query in flight fails with the same error.
    client.on("error", () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  } finally {
    await database.stop();
  }
}

/** Runs work in one transaction on the client: committed when it returns, rolled back when it throws (the error passes on). */
export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    const result = await work();
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** Runs a command's body: a CommandError is printed as one line and gives exit code 2. */
export async function runCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof CommandError) {
      console.error(error.message);
      return error.exitCode;
    }
    throw error;
  }
}

/** A positive integer id from the command line. */
export function parseId(value: string | undefined, what: string): string {
  if (value === undefined || !/^[1-9][0-9]{0,18}$/.test(value)) {
    throw new CommandError(`${what} must be a positive integer id${value === undefined ? "" : ` (got "${value}")`}`);
  }
  return value;
}
