// Writes migrations/schema.sql: the schema after all committed migrations, dumped by pg_dump from a
// throwaway server, so that every schema change shows in review. pg_dump cannot dump a newer
// server than itself, so server and pg_dump come from one bin directory (SCHEMA_DUMP_PG_BIN,
// default PostgreSQL 15's, present on these machines).
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PostgresServer } from "../src/db/postgres-server.ts";
import { migrateDatabase, projectRoot } from "../src/db/migrate.ts";
import { ensureDatabase, ensureRoles, rolesFor, withCredentials } from "../src/db/roles.ts";

const binDir = process.env.SCHEMA_DUMP_PG_BIN || "/usr/lib/postgresql/15/bin";
if (!fs.existsSync(path.join(binDir, "pg_dump"))) {
  console.error(`pg_dump not found in ${binDir}; set SCHEMA_DUMP_PG_BIN to a PostgreSQL bin directory`);
  process.exit(2);
}
const port: number = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-schema-"));
fs.chmodSync(dir, 0o755);
const server = new PostgresServer({ binDir, dir, port, superuserPassword: crypto.randomBytes(12).toString("hex"), fast: true });
await server.start();
try {
  const roles = rolesFor("mailroom");
  const passwords = { owner: "schema-dump", authenticator: "schema-dump" };
  await ensureRoles(server.superuserUrl, roles, passwords);
  await ensureDatabase(server.superuserUrl, roles);
  await migrateDatabase(withCredentials(server.superuserUrl, roles.owner, passwords.owner, roles.database), roles);
  const dump = execFileSync(
    path.join(binDir, "pg_dump"),
    ["--schema-only", "--no-owner", "--exclude-schema=graphile_migrate", "--exclude-schema=graphile_worker",
      withCredentials(server.superuserUrl, "postgres", server.options.superuserPassword, roles.database)],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const stable = dump
    .split("\n")
    .filter((line) => !/^-- Dumped (from|by)/.test(line) && !/^\\(un)?restrict /.test(line))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n");
  fs.writeFileSync(path.join(projectRoot, "migrations/schema.sql"), stable);
  console.log("wrote migrations/schema.sql");
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
