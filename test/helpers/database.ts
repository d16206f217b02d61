// A fresh database for one test file, cloned from the migrated template (see test/setup).
import crypto from "node:crypto";
import type pg from "pg";
import { inject } from "vitest";
import { rolesFor, withCredentials, type DatabaseRoles } from "../../src/db/roles.ts";
import { TEST_PASSWORDS } from "../setup/global-setup.ts";
import { endPool, testClient, testPool } from "./pg.ts";

export interface TestDatabase {
  name: string;
  roles: DatabaseRoles;
  superuserUrl: string;
  ownerUrl: string;
  authUrl: string;
  /** A pool connected as the owner. */
  pool: pg.Pool;
  /** Ends the pool, waits for its connections to close, then drops the database (with force: whatever else is still connected is cut off). */
  drop(): Promise<void>;
}

export async function superuserQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = testClient({ connectionString: inject("superuserUrl") });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const superuserUrl = inject("superuserUrl");
  const name = `test_${crypto.randomBytes(6).toString("hex")}`;
  await superuserQuery(`create database ${name} template ${inject("templateDatabase")} owner mailroom`);
  await superuserQuery(`grant connect on database ${name} to mailroom_authenticator, mailroom_readonly`);
  const roles = { ...rolesFor("mailroom"), database: name };
  const ownerUrl = withCredentials(superuserUrl, roles.owner, TEST_PASSWORDS.owner, name);
  const authUrl = withCredentials(superuserUrl, roles.authenticator, TEST_PASSWORDS.authenticator, name);
  const pool = testPool({ connectionString: ownerUrl, max: 5 });
  return {
    name,
    roles,
    superuserUrl,
    ownerUrl,
    authUrl,
    pool,
    async drop() {
      await endPool(pool);
      await dropDatabase(name);
    },
  };
}

/**
 * drop database ... with (force). The drop waits up to 5 s for the connections it terminates to go away and
 * fails with 55006 (object_in_use) if one has not (a busy machine): try again.
 */
export async function dropDatabase(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await superuserQuery(`drop database if exists ${name} with (force)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "55006" || attempt >= 5) throw error;
    }
  }
}

/**
 * The environment of a `mailroom` process on a test database: its URL and its role names (a command migrates first,
 * and applies again any SQL file that changed since the template was made, granting to these roles).
 */
export function commandEnvironment(db: Pick<TestDatabase, "ownerUrl" | "roles">): Record<string, string> {
  return {
    DATABASE_URL: db.ownerUrl,
    DATABASE_AUTHENTICATOR: db.roles.authenticator,
    DATABASE_ADMIN: db.roles.admin,
    DATABASE_READONLY: db.roles.readonly,
  };
}
