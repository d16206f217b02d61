// One-click unsubscribe tokens: the message's operation id and an HMAC-SHA256 of it under the unsubscribe
// signing secret, both base64url. A token names exactly one message (hence one subscriber and campaign),
// cannot be made without the secret, and cannot be changed to name another message.
//
// The secret: UNSUBSCRIBE_SECRET when set; otherwise one generated on first use and kept in the database
// (app_private.signing_secrets), so every process and every restart shares it.
import crypto from "node:crypto";
import type pg from "pg";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID's 16 bytes in its text form (lower case, with hyphens). */
export function uuidFromBytes(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function mac(secret: string, operationId: string): Buffer {
  return crypto.createHmac("sha256", secret).update(`unsubscribe:${operationId}`).digest().subarray(0, 20);
}

export function unsubscribeToken(secret: string, operationId: string): string {
  const id = Buffer.from(operationId.replace(/-/g, ""), "hex");
  return `${id.toString("base64url")}.${mac(secret, operationId.toLowerCase()).toString("base64url")}`;
}

/** The operation id a genuine token names, or undefined for anything else. */
export function verifyUnsubscribeToken(secret: string, token: string): string | undefined {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{27})$/.exec(token);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1], "base64url");
  if (bytes.length !== 16) return undefined;
  const operationId = uuidFromBytes(bytes);
  if (!UUID.test(operationId)) return undefined;
  const given = Buffer.from(match[2], "base64url");
  const expected = mac(secret, operationId);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? operationId : undefined;
}

export type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** A secret of app_private.signing_secrets by name, generated and stored on first use. Throws rather than return none. */
export async function storedSigningSecret(query: Query, name: string): Promise<string> {
  const { rows } = await query<{ secret: string | null }>("select app_private.signing_secret($1, $2) as secret", [
    name,
    crypto.randomBytes(32).toString("base64url"),
  ]);
  const secret = rows[0]?.secret;
  if (!secret) throw new Error(`app_private.signing_secret returned no ${name} secret`);
  return secret;
}

/** The database's unsubscribe signing secret, generated and stored on first use. */
export function storedUnsubscribeSecret(query: Query): Promise<string> {
  return storedSigningSecret(query, "unsubscribe");
}

const secrets = new WeakMap<pg.Pool, Promise<string>>();

/** The signing secret for this pool: the configured one, else the database's (cached per pool). */
export function unsubscribeSecret(pool: pg.Pool, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return Promise.resolve(configured);
  let secret = secrets.get(pool);
  if (!secret) {
    secret = storedUnsubscribeSecret((text, values) => pool.query(text, values));
    secret.catch(() => secrets.delete(pool));
    secrets.set(pool, secret);
  }
  return secret;
}
