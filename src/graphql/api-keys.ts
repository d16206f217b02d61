// API keys for the GraphQL API, managed by the owner from the command line (`mailroom api-keys ...`).
// The key itself is shown once, at creation; the database keeps its SHA-256 only.
import type pg from "pg";
import { API_ROLES, generateApiKey, hashApiKey, type ApiRole } from "./auth.ts";

export interface ApiKeyRow {
  id: string;
  name: string;
  role: ApiRole;
  keyPrefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** The owner's pool, or one connection of it (a command's). */
type Queryable = pg.Pool | pg.ClientBase;

export class ApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiKeyError";
  }
}

/** "30d", "12h", "90m" or an ISO 8601 time, as an absolute time after `now`. */
export function parseExpiry(value: string, now = new Date()): Date {
  const relative = /^(\d+)([dhm])$/.exec(value.trim());
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as "d" | "h" | "m"];
    return new Date(now.getTime() + Number(relative[1]) * unit);
  }
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime())) {
    throw new ApiKeyError(`--expires ${JSON.stringify(value)}: expected a duration such as 90d, 12h or 30m, or an ISO 8601 time`);
  }
  if (at <= now) throw new ApiKeyError(`--expires ${value}: the time is in the past`);
  return at;
}

export async function createApiKey(
  pool: Queryable,
  options: { name: string; role: string; expiresAt?: Date },
): Promise<{ key: string; row: ApiKeyRow }> {
  if (!(API_ROLES as readonly string[]).includes(options.role)) {
    throw new ApiKeyError(`--role ${JSON.stringify(options.role)}: expected admin (read and write) or analyst (read only)`);
  }
  if (options.name.trim() === "") throw new ApiKeyError("--name is required: say who or what the key is for");
  const key = generateApiKey();
  const { rows } = await pool.query(
    `insert into app_private.api_keys (name, role, key_hash, key_prefix, expires_at)
     values ($1, $2, $3, $4, $5)
     returning id, name, role, key_prefix, created_at, expires_at, revoked_at`,
    [options.name.trim(), options.role, hashApiKey(key), key.slice(0, 10), options.expiresAt ?? null],
  );
  return { key, row: toRow(rows[0]) };
}

export async function listApiKeys(pool: Queryable): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query(
    "select id, name, role, key_prefix, created_at, expires_at, revoked_at from app_private.api_keys order by id",
  );
  return rows.map(toRow);
}

/** Revokes the key at once: the next request with it is refused. False when it was revoked already. */
export async function revokeApiKey(pool: Queryable, id: string): Promise<boolean> {
  if (!/^\d+$/.test(id)) throw new ApiKeyError(`${JSON.stringify(id)} is not an API key id (see mailroom api-keys list)`);
  const { rows } = await pool.query(
    `with previous as (select id, revoked_at from app_private.api_keys where id = $1 for update)
     update app_private.api_keys as k set revoked_at = coalesce(k.revoked_at, now())
     from previous where k.id = previous.id
     returning previous.revoked_at is null as newly_revoked`,
    [id],
  );
  if (rows.length === 0) throw new ApiKeyError(`there is no API key ${id} (see mailroom api-keys list)`);
  return rows[0].newly_revoked as boolean;
}

function toRow(row: Record<string, unknown>): ApiKeyRow {
  return {
    id: String(row.id),
    name: row.name as string,
    role: row.role as ApiRole,
    keyPrefix: row.key_prefix as string,
    createdAt: row.created_at as Date,
    expiresAt: (row.expires_at as Date | null) ?? null,
    revokedAt: (row.revoked_at as Date | null) ?? null,
  };
}
