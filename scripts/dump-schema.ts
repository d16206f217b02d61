// Writes migrations/schema.sql: the schema after all committed migrations, dumped by pg_dump from a
// throwaway server, so that every schema change shows in review. pg_dump cannot dump a newer
// server than itself, so server and pg_dump come from one bin directory (SCHEMA_DUMP_PG_BIN,
// default PostgreSQL 15's, present on these machines).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/db/migrate.ts";
import { withCredentials } from "../src/db/roles.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";

const binDir = process.env.SCHEMA_DUMP_PG_BIN || "/usr/lib/postgresql/15/bin";
if (!fs.existsSync(path.join(binDir, "pg_dump"))) {
  console.error(`pg_dump not found in ${binDir}; set SCHEMA_DUMP_PG_BIN to a PostgreSQL bin directory`);
  process.exit(2);
}
const database = await startThrowawayDatabase({ binDir, fast: true });
try {
  const dump = execFileSync(
    path.join(binDir, "pg_dump"),
    ["--schema-only", "--no-owner", "--exclude-schema=graphile_migrate", "--exclude-schema=graphile_worker",
      withCredentials(database.superuserUrl, "postgres", database.server.options.superuserPassword, database.roles.database)],
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
  await database.stop();
}
