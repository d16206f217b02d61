// Migrations from an empty database, and what each role may and may not do afterwards.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { migrateDatabase, projectRoot } from "../src/db/migrate.ts";
import { rolesFor, withCredentials } from "../src/db/roles.ts";
import { TEST_PASSWORDS } from "./setup/global-setup.ts";
import { createTestDatabase, dropDatabase, superuserQuery, type TestDatabase } from "./helpers/database.ts";
import { testClient } from "./helpers/pg.ts";

describe(`migrations (PostgreSQL ${inject("pgVersion")})`, () => {
  test("every committed migration applies to an empty database, and applying again changes nothing", async () => {
    const name = `empty_${Date.now()}`;
    await superuserQuery(`create database ${name} owner mailroom`);
    try {
      const roles = { ...rolesFor("mailroom"), database: name };
      const url = withCredentials(inject("superuserUrl"), "mailroom", TEST_PASSWORDS.owner, name);
      await migrateDatabase(url, roles);
      await migrateDatabase(url, roles);
      // graphile-migrate records each committed file by its number: 000001-what-it-does.sql -> 000001.sql
      const committed = fs
        .readdirSync(path.join(projectRoot, "migrations/committed"))
        .filter((f) => f.endsWith(".sql"))
        .map((f) => `${f.slice(0, 6)}.sql`);
      const client = testClient({ connectionString: url });
      await client.connect();
      const applied = await client.query("select filename from graphile_migrate.migrations order by filename");
      await client.end();
      expect(applied.rows.map((r) => r.filename)).toEqual(committed.sort());
    } finally {
      await dropDatabase(name);
    }
  });
});

describe("roles", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const userTables = `
    select format('%I.%I', n.nspname, c.relname) as name, c.relkind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'v', 'm', 'p', 'f')
      and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`;

  test("the read-only role can write nothing: no INSERT, UPDATE, DELETE or TRUNCATE on any table", async () => {
    const { rows } = await db.pool.query(
      `select name from (${userTables}) t
       where has_table_privilege('mailroom_readonly', name, 'INSERT, UPDATE, DELETE, TRUNCATE')`,
    );
    expect(rows).toEqual([]);
    const all = await db.pool.query(`select count(*)::int as n from (${userTables}) t`);
    expect(all.rows[0].n).toBeGreaterThan(0);
    // And in practice: acting as the role, a write is refused.
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      await client.query("set local role mailroom_readonly");
      await expect(client.query("insert into graphile_worker._private_tasks (identifier) values ('x')")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await client.query("rollback");
      client.release();
    }
  });

  test("the authenticator can read nothing by itself", async () => {
    const { rows } = await db.pool.query(
      `select name from (${userTables}) t where has_table_privilege('mailroom_authenticator', name, 'SELECT')`,
    );
    expect(rows).toEqual([]);
    const client = testClient({ connectionString: db.authUrl });
    await client.connect();
    try {
      await expect(client.query("select * from graphile_worker._private_jobs")).rejects.toThrow(/permission denied/);
      await expect(client.query("select app_private.add_job('x')")).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });

  test("the authenticator may switch to the request roles, and NOINHERIT keeps their privileges off until it does", async () => {
    const { rows } = await db.pool.query(
      "select rolinherit, rolcanlogin from pg_roles where rolname = 'mailroom_authenticator'",
    );
    expect(rows[0]).toEqual({ rolinherit: false, rolcanlogin: true });
    const client = testClient({ connectionString: db.authUrl });
    await client.connect();
    try {
      await client.query("set role mailroom_readonly");
      await client.query("set role mailroom_admin");
      await expect(client.query("set role mailroom")).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });
});
