// Dashboard sessions: a browser signed in with an API key holds a random token in the cookie mailroom_session; the
// database keeps only its SHA-256 (app_private.dashboard_sessions). Every request checks the session and its key
// in one statement (app_hidden.dashboard_session) and then reads or writes in the same transaction with the same
// database role and settings GraphQL would use for that key: row level security and grants decide, nothing here.
// Forms carry a CSRF token (an HMAC of the session token), and every POST must come from this server's origin.
import crypto from "node:crypto";
import type express from "express";
import type pg from "pg";
import type { DatabaseRoles } from "../db/roles.ts";
import { hashApiKey, type ApiRole } from "../graphql/auth.ts";

export const SESSION_COOKIE = "mailroom_session";

export interface DashboardOptions {
  /** A pool connected as the authenticator (as GraphQL's): sessions are checked by app_hidden functions. */
  pool: pg.Pool;
  roles: DatabaseRoles;
  /** DASHBOARD_SESSION_HOURS: how long a sign-in lasts (at most until its API key expires). */
  sessionHours: number;
  /** PUBLIC_URL: when it is https, the cookie is Secure; its origin is accepted on POSTs besides the request's own. */
  publicUrl?: string;
}

export interface Session {
  /** The cookie's token (never stored): the CSRF token is derived from it. */
  token: string;
  apiKeyId: string;
  keyName: string;
  role: ApiRole;
  expiresAt: Date;
  /** The CSRF token every form of this session carries. */
  csrf: string;
}

/** Why a session cookie was refused, as app_hidden.dashboard_session says (or "unknown"). */
export type SessionRefusal = "unknown" | "ended" | "expired" | "key revoked" | "key expired";

/** The stored form of a session token: SHA-256, hex (the token is 256 random bits, as an API key is). */
export const hashSessionToken = (token: string) => crypto.createHash("sha256").update(token, "utf8").digest("hex");

export const newSessionToken = () => crypto.randomBytes(32).toString("base64url");

/** The CSRF token of a session: HMAC-SHA256 of a fixed label, keyed by the session's token. */
export function csrfToken(sessionToken: string): string {
  return crypto.createHmac("sha256", sessionToken).update("mailroom dashboard csrf").digest("base64url");
}

export function csrfTokenMatches(sessionToken: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const expected = Buffer.from(csrfToken(sessionToken));
  const actual = Buffer.from(given);
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

/** The session token in the request's Cookie header, if any. */
export function sessionCookie(req: express.Request): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) {
      const token = value.join("=");
      return /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
    }
  }
  return undefined;
}

/** Whether the cookie must be Secure: the request came over https, or PUBLIC_URL is https. */
function secure(req: express.Request, options: DashboardOptions): boolean {
  return req.secure || (options.publicUrl?.startsWith("https://") ?? false);
}

export function setSessionCookie(res: express.Response, req: express.Request, options: DashboardOptions, token: string, expiresAt: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  res.append(
    "set-cookie",
    `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure(req, options) ? "; Secure" : ""}`,
  );
}

export function clearSessionCookie(res: express.Response, req: express.Request, options: DashboardOptions): void {
  res.append("set-cookie", `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure(req, options) ? "; Secure" : ""}`);
}

/**
 * Whether a POST comes from a page of this server: its Origin (or, without one, its Referer's origin) is the
 * request's own origin or PUBLIC_URL's. A POST with neither header is refused: browsers send Origin with forms.
 */
export function sameOrigin(req: express.Request, options: DashboardOptions): boolean {
  let origin = req.get("origin");
  if (origin === undefined || origin === "null") {
    const referer = req.get("referer");
    if (!referer) return false;
    try {
      origin = new URL(referer).origin;
    } catch {
      return false;
    }
  }
  const allowed = [`${req.protocol}://${req.get("host")}`];
  if (options.publicUrl) allowed.push(new URL(options.publicUrl).origin);
  return allowed.includes(origin);
}

export type SignIn =
  | { ok: true; token: string; expiresAt: Date; role: ApiRole }
  | { ok: false; message: string };

/** Checks an API key and, when it is valid, opens a session for it (app_hidden.start_dashboard_session). */
export async function signIn(options: DashboardOptions, apiKey: string): Promise<SignIn> {
  const key = apiKey.trim();
  if (key === "") return { ok: false, message: "Enter an API key (mailroom api-keys create makes one)." };
  const token = newSessionToken();
  const { rows } = await options.pool.query(
    "select state, role, expires_at from app_hidden.start_dashboard_session($1, $2, $3)",
    [hashApiKey(key), hashSessionToken(token), options.sessionHours],
  );
  const found = rows[0] as { state: string; role: ApiRole; expires_at: Date | null } | undefined;
  if (!found) return { ok: false, message: "This API key is not known here." };
  if (found.state === "revoked") return { ok: false, message: "This API key has been revoked." };
  if (found.state === "expired") return { ok: false, message: "This API key has expired." };
  return { ok: true, token, expiresAt: found.expires_at!, role: found.role };
}

/** Signs out: the session ends in the database, so the cookie is refused from now on even if sent again. */
export async function signOut(options: DashboardOptions, token: string): Promise<boolean> {
  const { rows } = await options.pool.query("select app_hidden.end_dashboard_session($1) as ended", [hashSessionToken(token)]);
  return rows[0].ended as boolean;
}

/** The database settings of a request by this session: GraphQL's for the same API key (src/graphql/auth.ts). */
export function sessionSettings(session: Pick<Session, "role" | "apiKeyId">, roles: DatabaseRoles): [string, string][] {
  return [
    ["role", session.role === "admin" ? roles.admin : roles.readonly],
    ["mailroom.auth_method", "api_key"],
    ["mailroom.api_key_id", session.apiKeyId],
    ["mailroom.api_role", session.role],
  ];
}

export type SessionWork<T> = (client: pg.PoolClient, session: Session) => Promise<T>;

export type SessionResult<T> = { ok: true; value: T; session: Session } | { ok: false; refusal: SessionRefusal };

/**
 * Runs `work` for the session of `token` in one transaction on the authenticator's pool: the session and its key
 * are checked first (as the authenticator), then the key's role and claims are set for the transaction
 * (set_config(..., true), as PostGraphile does) and `work` reads or writes as that role. Committed when `work`
 * succeeds, rolled back when it throws (the error is thrown on).
 */
export async function withSession<T>(options: DashboardOptions, token: string, work: SessionWork<T>): Promise<SessionResult<T>> {
  const client = await options.pool.connect();
  let broken = false;
  try {
    await client.query("begin");
    const { rows } = await client.query(
      "select state, api_key_id, key_name, role, expires_at from app_hidden.dashboard_session($1)",
      [hashSessionToken(token)],
    );
    const found = rows[0] as { state: string; api_key_id: string; key_name: string; role: ApiRole; expires_at: Date } | undefined;
    if (!found || found.state !== "valid") {
      await client.query("commit");
      return { ok: false, refusal: (found?.state as SessionRefusal | undefined) ?? "unknown" };
    }
    const session: Session = {
      token,
      apiKeyId: String(found.api_key_id),
      keyName: found.key_name,
      role: found.role,
      expiresAt: found.expires_at,
      csrf: csrfToken(token),
    };
    await client.query("select set_config(s->>0, s->>1, true) from json_array_elements($1::json) as s", [
      JSON.stringify(sessionSettings(session, options.roles)),
    ]);
    const value = await work(client, session);
    await client.query("commit");
    return { ok: true, value, session };
  } catch (error) {
    await client.query("rollback").catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

export function refusalMessage(refusal: SessionRefusal): string {
  switch (refusal) {
    case "ended":
      return "You signed out of this session. Sign in again.";
    case "expired":
      return "Your session has expired. Sign in again.";
    case "key revoked":
      return "The API key of this session has been revoked.";
    case "key expired":
      return "The API key of this session has expired.";
    default:
      return "Sign in with an API key.";
  }
}
