// Where the database comes from: DATABASE_URL when set, otherwise an embedded PostgreSQL whose
// data lives under the data directory (.data/ by default), created on first start and reused.
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { PostgresServer, PostgresServerError, embeddedBinDir, reachableByOthers } from "./postgres-server.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials, type DatabaseRoles } from "./roles.ts";

export interface Database {
  /** The owner's connection: migrations and the worker. */
  ownerUrl: string;
  /** The authenticator's connection, for GraphQL requests (undefined when not configured). */
  authUrl: string | undefined;
  roles: DatabaseRoles;
  /** Set when Mailroom runs the database itself. */
  embedded: PostgresServer | undefined;
  /** Stops the embedded PostgreSQL (fast shutdown, immediate after `timeoutMs`); nothing for DATABASE_URL. */
  stop(timeoutMs?: number): Promise<void>;
}

interface Credentials {
  superuser: string;
  owner: string;
  authenticator: string;
}

function randomPassword(): string {
  return crypto.randomBytes(24).toString("base64url");
}

async function loadCredentials(file: string, clusterExists: boolean): Promise<Credentials> {
  if (fs.existsSync(file)) return JSON.parse(await fsp.readFile(file, "utf8")) as Credentials;
  if (clusterExists) {
    throw new PostgresServerError(
      `${file} is missing, so the embedded database in ${path.dirname(file)} cannot be opened; restore it, or move the data directory away to start afresh`,
    );
  }
  const credentials = { superuser: randomPassword(), owner: randomPassword(), authenticator: randomPassword() };
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}

export const EMBEDDED_DATABASE_NAME = "mailroom";

/**
 * Opens the database. With `attach`, a command run beside `mailroom start` uses the embedded PostgreSQL
 * that process runs (and leaves it running) instead of refusing to start a second one.
 */
export async function openDatabase(config: Config, log: Log, options: { attach?: boolean } = {}): Promise<Database> {
  if (config.databaseUrl) {
    const name = decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1));
    return {
      ownerUrl: config.databaseUrl,
      authUrl: config.authDatabaseUrl,
      roles: rolesFor(name, process.env),
      embedded: undefined,
      stop: async () => undefined,
    };
  }

  const dbLog = log.child({ component: "embedded-postgres" });
  let dir = path.join(config.dataDir, "pg");
  if (os.userInfo().uid === 0 && !reachableByOthers(config.dataDir)) {
    // As root, PostgreSQL runs as the postgres user, who cannot enter a private directory (such as /root):
    // keep its files in a place it can reach, one per data directory.
    const id = crypto.createHash("sha256").update(config.dataDir).digest("hex").slice(0, 12);
    dir = path.join("/var/lib/mailroom", id, "pg");
    dbLog.warn(
      `the postgres user cannot reach ${config.dataDir} (a parent directory is private), so the embedded database lives in ${dir}; set MAILROOM_DATA_DIR to choose another place`,
    );
  }
  const credentials = await loadCredentials(
    path.join(config.dataDir, "credentials.json"),
    fs.existsSync(path.join(dir, "data", "PG_VERSION")),
  );
  const server = new PostgresServer({
    binDir: config.embeddedPgBinDir ?? (await embeddedBinDir()),
    dir,
    port: config.embeddedPgPort,
    sharedBuffersMb: config.embeddedPgSharedBuffersMb,
    superuserPassword: credentials.superuser,
    log: (message) => dbLog.warn(message),
  });
  const roles = rolesFor(EMBEDDED_DATABASE_NAME);
  const connections = {
    ownerUrl: withCredentials(server.superuserUrl, roles.owner, credentials.owner, roles.database),
    authUrl: withCredentials(server.superuserUrl, roles.authenticator, credentials.authenticator, roles.database),
    roles,
    embedded: server,
  };
  const owner = options.attach ? await server.runningOwner() : undefined;
  if (owner !== undefined) {
    dbLog.info({ dataDir: dir, port: config.embeddedPgPort }, `using the embedded PostgreSQL of the running Mailroom (pid ${owner})`);
    return { ...connections, stop: async () => undefined };
  }
  const started = Date.now();
  const { created } = await server.start();
  try {
    await ensureRoles(server.superuserUrl, roles, credentials);
    await ensureDatabase(server.superuserUrl, roles);
    dbLog.info(
      { dataDir: dir, port: config.embeddedPgPort, created, ms: Date.now() - started },
      created ? "created and started the embedded PostgreSQL" : "started the embedded PostgreSQL",
    );
    return { ...connections, stop: (timeoutMs?: number) => server.stop(timeoutMs) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
