// Who is calling the GraphQL API. A request carries `Authorization: Bearer <credential>`, either an API
// key (mrk_..., created with `mailroom api-key create`) or, when GRAPHQL_JWT_* is configured, a JWT from
// the OIDC issuer. Either becomes Postgres settings: `role` (the admin or read-only role) and the
// caller's claims. Row level security and grants decide what that role may do; nothing here does.
import crypto from "node:crypto";
import type pg from "pg";
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { GraphqlJwtConfig } from "../config.ts";
import type { DatabaseRoles } from "../db/roles.ts";
import type { Log } from "../log.ts";
import { ApiKeyCache } from "./api-key-cache.ts";

export type ApiRole = "admin" | "analyst";
export const API_ROLES: readonly ApiRole[] = ["admin", "analyst"];

export const API_KEY_PREFIX = "mrk_";

/** A new API key: the prefix and 32 random bytes, base64url. Shown once; only its hash is stored. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + crypto.randomBytes(32).toString("base64url");
}

/** The stored form of a key: SHA-256, hex. Keys are 256 random bits, so a fast hash is enough. */
export function hashApiKey(key: string): string {
  return crypto.createHash("sha256").update(key, "utf8").digest("hex");
}

export type Authentication =
  | { ok: true; role: ApiRole; pgSettings: Record<string, string> }
  | { ok: false; status: 401 | 503; message: string };

export interface GraphqlAuthenticator {
  /** `authorization` is the Authorization header (or the websocket connection parameter of that name). */
  authenticate(authorization: string | undefined): Promise<Authentication>;
  /** Stops listening for key changes (when API key checks are cached). */
  release(): Promise<void>;
}

export interface GraphqlAuthenticatorOptions {
  /** A pool connected as the authenticator: API keys are checked by app_hidden.authenticate_api_key. */
  pool: pg.Pool;
  roles: DatabaseRoles;
  jwt: GraphqlJwtConfig | undefined;
  /** GRAPHQL_API_KEY_CACHE_SECONDS: how long a successful key check is remembered; 0: not at all. */
  apiKeyCacheSeconds?: number;
  log?: Log;
}

function refuse(message: string, status: 401 | 503 = 401): Authentication {
  return { ok: false, status, message };
}

/** The role a token's role claim grants: admin wins when the claim names both. */
export function roleFromClaims(payload: JWTPayload, jwt: GraphqlJwtConfig): ApiRole | undefined {
  const claim = payload[jwt.roleClaim];
  const values = Array.isArray(claim) ? claim.filter((v): v is string => typeof v === "string") : typeof claim === "string" ? [claim] : [];
  if (values.some((v) => jwt.adminValues.includes(v))) return "admin";
  if (values.some((v) => jwt.analystValues.includes(v))) return "analyst";
  return undefined;
}

/** Scalar claims as jwt.claims.<name> settings (readable in SQL with current_setting('jwt.claims.sub', true)). */
function claimSettings(payload: JWTPayload): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      settings[`jwt.claims.${name}`] = String(value);
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      settings[`jwt.claims.${name}`] = value.join(",");
    }
  }
  return settings;
}

export function createGraphqlAuthenticator(options: GraphqlAuthenticatorOptions): GraphqlAuthenticator {
  const { pool, roles, jwt } = options;
  const databaseRole = (role: ApiRole) => (role === "admin" ? roles.admin : roles.readonly);
  const jwks: JWTVerifyGetKey | undefined = jwt ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : undefined;
  const cacheSeconds = options.apiKeyCacheSeconds ?? 0;
  const cache = cacheSeconds > 0 ? new ApiKeyCache<Authentication>(pool.options, cacheSeconds * 1000, options.log) : undefined;

  async function apiKey(key: string): Promise<Authentication> {
    const hash = hashApiKey(key);
    const cached = cache?.get(hash);
    if (cached) return cached;
    const version = cache?.version() ?? 0;
    let rows: { api_key_id: string; role: ApiRole; state: string; seconds_left: number | null }[];
    try {
      rows = (await pool.query("select api_key_id, role, state, seconds_left from app_hidden.authenticate_api_key($1)", [hash])).rows;
    } catch {
      return refuse("the database is unavailable; try again", 503);
    }
    const found = rows[0];
    if (!found) return refuse("unknown API key");
    if (found.state === "revoked") return refuse("this API key has been revoked");
    if (found.state === "expired") return refuse("this API key has expired");
    const auth: Authentication = {
      ok: true,
      role: found.role,
      pgSettings: {
        role: databaseRole(found.role),
        "mailroom.auth_method": "api_key",
        "mailroom.api_key_id": String(found.api_key_id),
        "mailroom.api_role": found.role,
      },
    };
    cache?.set(hash, auth, found.seconds_left, version);
    return auth;
  }

  async function token(credential: string): Promise<Authentication> {
    if (!jwt || !jwks) return refuse("not an API key (API keys start with mrk_), and no JWT issuer is configured");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(credential, jwks, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"],
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return refuse("the token has expired");
      if (error instanceof joseErrors.JWTClaimValidationFailed) return refuse(`the token's ${error.claim} claim is not accepted`);
      const code = (error as { code?: string }).code;
      if (typeof code === "string" && code.startsWith("ERR_J") && code !== "ERR_JWKS_TIMEOUT") return refuse("the token is not valid");
      return refuse("the token issuer's keys could not be read; try again", 503);
    }
    const role = roleFromClaims(payload, jwt);
    if (!role) return refuse(`the token's ${jwt.roleClaim} claim grants no Mailroom role`);
    return {
      ok: true,
      role,
      pgSettings: {
        ...claimSettings(payload),
        role: databaseRole(role),
        "mailroom.auth_method": "jwt",
        "mailroom.api_role": role,
      },
    };
  }

  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization.trim() === "") {
        return refuse("authentication required: send Authorization: Bearer <API key or token>");
      }
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
      if (!match) return refuse("the Authorization header must be Bearer <API key or token>");
      const credential = match[1]!;
      return credential.startsWith(API_KEY_PREFIX) ? apiKey(credential) : token(credential);
    },
    async release() {
      await cache?.stop();
    },
  };
}
