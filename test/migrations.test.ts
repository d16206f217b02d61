// Migrations from an empty database, and what each role may and may not do afterwards.
import fs from "node:fs";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { applySqlSources, migrateDatabase, projectRoot, sqlSourceFiles } from "../src/db/migrate.ts";
import { rolesFor, withCredentials, type DatabaseRoles } from "../src/db/roles.ts";
import { TEST_PASSWORDS } from "./setup/global-setup.ts";
import { createTestDatabase, dropDatabase, superuserQuery, type TestDatabase } from "./helpers/database.ts";
import { testClient } from "./helpers/pg.ts";

/** Runs `check` on an empty database of its own (the test template is already migrated), then drops it. */
async function withEmptyDatabase(prefix: string, check: (url: string, roles: DatabaseRoles) => Promise<void>): Promise<void> {
  const name = `${prefix}_${Date.now()}`;
  await superuserQuery(`create database ${name} owner mailroom`);
  try {
    await check(withCredentials(inject("superuserUrl"), "mailroom", TEST_PASSWORDS.owner, name), { ...rolesFor("mailroom"), database: name });
  } finally {
    await dropDatabase(name);
  }
}

async function ownerQuery(url: string, sql: string): Promise<pg.QueryResult> {
  const client = testClient({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe(`migrations (PostgreSQL ${inject("pgVersion")})`, () => {
  test("every committed migration applies to an empty database, and applying again changes nothing", async () => {
    await withEmptyDatabase("empty", async (url, roles) => {
      await migrateDatabase(url, roles);
      await migrateDatabase(url, roles);
      // graphile-migrate records each committed file by its number: 000001-what-it-does.sql -> 000001.sql
      const committed = fs
        .readdirSync(path.join(projectRoot, "migrations/committed"))
        .filter((f) => f.endsWith(".sql"))
        .map((f) => `${f.slice(0, 6)}.sql`);
      const applied = await ownerQuery(url, "select filename from graphile_migrate.migrations order by filename");
      expect(applied.rows.map((r) => r.filename)).toEqual(committed.sort());
    });
  });

  test("a database migrated by the series of migrations squashed into the baseline is refused, saying what to do", async () => {
    await withEmptyDatabase("squashed", async (url, roles) => {
      await migrateDatabase(url, roles);
      // What the earlier series left: its own first migration under the same number, with another hash.
      await ownerQuery(
        url,
        "delete from graphile_migrate.migrations where filename <> '000001.sql'; " +
          "update graphile_migrate.migrations set hash = 'sha1:0000000000000000000000000000000000000000' where filename = '000001.sql'",
      );
      await expect(migrateDatabase(url, roles)).rejects.toThrow(/earlier series of Mailroom migrations.*start from an empty database/);
    });
  });
});

describe("migrations/sql: one file for each function, view and trigger", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const files = sqlSourceFiles().map((file) => ({
    file: path.relative(projectRoot, file),
    sql: fs.readFileSync(file, "utf8"),
  }));
  const baseline = fs
    .readdirSync(path.join(projectRoot, "migrations/committed"))
    .map((f) => fs.readFileSync(path.join(projectRoot, "migrations/committed", f), "utf8"))
    .join("\n");
  const definedIn = (pattern: RegExp) => files.filter(({ sql }) => pattern.test(sql)).map(({ file }) => file);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  test("every function, view and trigger of Mailroom's schemas is created by exactly one file, and each file creates one", async () => {
    const { rows } = await db.pool.query(`
      select 'function' as kind, n.nspname || '.' || p.proname as name, null as on_table
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname like 'app\\_%'
      union all
      select 'view', n.nspname || '.' || c.relname, null
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'v' and n.nspname like 'app\\_%'
      union all
      select 'trigger', t.tgname, n.nspname || '.' || c.relname
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and n.nspname like 'app\\_%'`);
    expect(rows.length).toBeGreaterThan(100);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const { kind, name, on_table } of rows) {
      const pattern =
        kind === "trigger"
          ? new RegExp(`create or replace trigger ${escape(name)}\\s[^;]*\\son ${escape(on_table)}\\s`, "i")
          : new RegExp(`create or replace ${kind} ${escape(name)}\\b`, "i");
      const homes = definedIn(pattern);
      homes.forEach((file) => used.add(file));
      const inBaseline = new RegExp(`create ${kind} ${escape(name)}\\(`, "i").test(baseline);
      if (homes.length + (inBaseline ? 1 : 0) !== 1) problems.push(`${kind} ${name}${on_table ? ` on ${on_table}` : ""}: ${homes.join(", ") || "no file"}`);
    }
    for (const { file } of files) if (!used.has(file)) problems.push(`${file} creates nothing that exists`);
    // One file, one object: the file is named after the function or view it creates (a trigger lives with its function).
    for (const { file, sql } of files) {
      const created = [...sql.matchAll(/create or replace (function|view) (\w+)\.(\w+)/gi)].map((m) => m[3]);
      if (created.length !== 1 || `${created[0]}.sql` !== path.basename(file)) problems.push(`${file} creates ${created.join(", ")}`);
    }
    expect(problems).toEqual([]);
  });

  test("applying the files again changes nothing", async () => {
    const definitions = `
      select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as name,
        md5(pg_get_functiondef(p.oid)) || coalesce(array_to_string(p.proacl, ','), '') || coalesce(obj_description(p.oid, 'pg_proc'), '') as definition
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname like 'app\\_%'
      union all
      select c.relname, md5(pg_get_viewdef(c.oid)) || coalesce(array_to_string(c.relacl, ','), '')
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'v' and n.nspname like 'app\\_%'
      union all
      select t.tgname || ' on ' || t.tgrelid::regclass, md5(pg_get_triggerdef(t.oid))
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and n.nspname like 'app\\_%'
      order by 1`;
    const before = (await db.pool.query(definitions)).rows;
    const client = testClient({ connectionString: db.ownerUrl });
    await client.connect();
    try {
      await applySqlSources(client, db.roles, undefined, { always: true });
    } finally {
      await client.end();
    }
    const after = (await db.pool.query(definitions)).rows;
    expect(after).toEqual(before);
    const applied = await db.pool.query("select count(*)::int as n from app_private.applied_sql_sources");
    expect(applied.rows[0].n).toBeGreaterThanOrEqual(1);
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
