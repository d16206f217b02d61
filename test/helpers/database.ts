// A fresh database for one test file, cloned from the migrated template (see test/setup).
import crypto from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { rolesFor, withCredentials, type DatabaseRoles } from "../../src/db/roles.ts";
import { TEST_PASSWORDS } from "../setup/global-setup.ts";

export interface TestDatabase {
  name: string;
  roles: DatabaseRoles;
  superuserUrl: string;
  ownerUrl: string;
  authUrl: string;
  /** A pool connected as the owner. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function superuserQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: inject("superuserUrl") });
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
  const pool = new pg.Pool({ connectionString: ownerUrl, max: 5 });
  return {
    name,
    roles,
    superuserUrl,
    ownerUrl,
    authUrl,
    pool,
    async drop() {
      await pool.end();
      await superuserQuery(`drop database if exists ${name} with (force)`);
    },
  };
}
