// The database and its roles, after graphile/starter: an owner that owns every object, an
// authenticator that can log in but holds no privileges of its own (NOINHERIT), the role that
// GraphQL requests by administrators take, and a read-only role for analysts and DBAs.
import pg from "pg";

export interface DatabaseRoles {
  database: string;
  owner: string;
  authenticator: string;
  admin: string;
  readonly: string;
}

export function rolesFor(database: string, env: Record<string, string | undefined> = {}): DatabaseRoles {
  return {
    database,
    owner: env.DATABASE_OWNER || database,
    authenticator: env.DATABASE_AUTHENTICATOR || `${database}_authenticator`,
    admin: env.DATABASE_ADMIN || `${database}_admin`,
    readonly: env.DATABASE_READONLY || `${database}_readonly`,
  };
}

export interface RolePasswords {
  owner: string;
  authenticator: string;
}

function superuserClient(superuserUrl: string): pg.Client {
  const client = new pg.Client({ connectionString: superuserUrl });
  // A connection lost must not crash the process: the query in flight fails with the same error.
  client.on("error", () => undefined);
  return client;
}

/** Creates whatever of the roles is missing (cluster-wide, so idempotent). Needs a superuser connection. */
export async function ensureRoles(superuserUrl: string, roles: DatabaseRoles, passwords: RolePasswords): Promise<void> {
  const client = superuserClient(superuserUrl);
  await client.connect();
  try {
    const id = (name: string) => client.escapeIdentifier(name);
    const lit = (value: string) => client.escapeLiteral(value);
    const exists = async (name: string) =>
      (await client.query("select 1 from pg_roles where rolname = $1", [name])).rowCount === 1;
    // Cluster-wide objects: two processes may race to create them, so serialise.
    await client.query("select pg_advisory_lock(7361001)"); // listed in app_hidden.advisory_lock_id
    if (!(await exists(roles.owner))) {
      await client.query(`create role ${id(roles.owner)} with login password ${lit(passwords.owner)} createdb`);
    }
    if (!(await exists(roles.authenticator))) {
      await client.query(`create role ${id(roles.authenticator)} with login noinherit password ${lit(passwords.authenticator)}`);
    }
    for (const name of [roles.admin, roles.readonly]) {
      if (!(await exists(name))) await client.query(`create role ${id(name)} nologin`);
    }
    await client.query(`grant ${id(roles.admin)}, ${id(roles.readonly)} to ${id(roles.authenticator)}`);
    // The owner grants these roles privileges in migrations, and uses them in tests.
    await client.query(`grant ${id(roles.admin)}, ${id(roles.readonly)}, ${id(roles.authenticator)} to ${id(roles.owner)}`);
    await client.query("select pg_advisory_unlock(7361001)");
  } finally {
    await client.end();
  }
}

/** Creates the database owned by the owner role if it does not exist yet. */
export async function ensureDatabase(superuserUrl: string, roles: DatabaseRoles, template?: string): Promise<boolean> {
  const client = superuserClient(superuserUrl);
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [roles.database]);
    if (found.rowCount === 1) return false;
    const id = (name: string) => client.escapeIdentifier(name);
    await client.query(
      `create database ${id(roles.database)} owner ${id(roles.owner)}${template ? ` template ${id(template)}` : ""}`,
    );
    await client.query(`revoke all on database ${id(roles.database)} from public`);
    await client.query(`grant connect on database ${id(roles.database)} to ${id(roles.authenticator)}, ${id(roles.readonly)}`);
    await client.query(`grant all on database ${id(roles.database)} to ${id(roles.owner)}`);
    return true;
  } finally {
    await client.end();
  }
}

/** A connection string for the same server and database as `url`, as another user. */
export function withCredentials(url: string, user: string, password: string, database?: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  if (database) u.pathname = `/${database}`;
  return u.toString();
}
