// Every setting Mailroom reads from the environment, parsed and checked in one place.
// An invalid value throws a ConfigError whose message is one line naming the variable,
// what was given (never the value of a secret) and what is expected.
import path from "node:path";
import { defaultSharedBuffersMb } from "./db/postgres-server.ts";
import { defaultLogFormat, isLongRunningCommand } from "./log.ts";

export type LogFormat = "pretty" | "json";

export interface Config {
  /** Owner connection (migrations, worker). Unset: the embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /** Authenticator connection (GraphQL requests). Unset: derived for the embedded database. */
  authDatabaseUrl: string | undefined;
  /** ACS connection string. Unset: the local sandbox emulates ACS and Event Grid. */
  acsConnectionString: string | undefined;
  host: string;
  port: number;
  webhookSecrets: string[];
  logLevel: string;
  logFormat: LogFormat;
  /** Where the embedded database and other local state live. */
  dataDir: string;
  embeddedPgPort: number;
  /** Directory of the PostgreSQL server binaries for the embedded database (default: the npm package's). */
  embeddedPgBinDir: string | undefined;
  /** shared_buffers of the embedded database, in MB (default: a quarter of memory, 128 to 2048). */
  embeddedPgSharedBuffersMb: number;
  workerConcurrency: number;
  /** Jobs locked by a worker process that died are unlocked after this long (ms). */
  workerReclaimAfterMs: number;
  /** RAW_EVENT_RETENTION_DAYS: raw event payloads older than this are removed (hourly); undefined keeps them. */
  rawEventRetentionDays: number | undefined;
  /** TRACKING_IP_RETENTION_DAYS: tracking hits' addresses are truncated after this (hourly); undefined keeps them. */
  trackingIpRetentionDays: number | undefined;
  /** TRUST_PROXY: Express's "trust proxy" (which X-Forwarded-For hops give the client's address); false: none. */
  trustProxy: boolean | number | string;
  /** DASHBOARD_SESSION_HOURS: how long a dashboard sign-in lasts (at most until its API key expires). */
  dashboardSessionHours: number;
  /** Largest webhook request body accepted (bytes): 413 above it. */
  webhookMaxBodyBytes: number;
  /** Request body bytes all webhook requests together may hold in memory: 503 beyond it. */
  webhookMaxBytesInFlight: number;
  /** Microsoft Entra authentication of Event Grid deliveries (bearer JWT); undefined when not configured. */
  entra: EntraConfig | undefined;
  shutdownTimeoutMs: number;
  production: boolean;
  sending: SendingConfig;
  graphql: GraphqlConfig;
  optIn: OptInConfig;
}

/** The public subscribe form's rate limit (docs/opt-in.md): requests per fixed window, per client address and per email address. */
export interface OptInConfig {
  /** SUBSCRIBE_RATE_WINDOW_SECONDS: the length of a window. */
  rateWindowSeconds: number;
  /** SUBSCRIBE_RATE_PER_IP: form submissions one client address may make per window. */
  ratePerIp: number;
  /** SUBSCRIBE_RATE_PER_ADDRESS: submissions naming one email address per window (all lists together). */
  ratePerAddress: number;
}

export interface GraphqlConfig {
  /** Largest page a connection returns (`first`/`last`); also the page size when neither is given. */
  maxPageSize: number;
  /** Deepest selection nesting a GraphQL document may have. */
  maxDepth: number;
  /** Largest number of rows a GraphQL document may ask for (pages multiplied through nesting). */
  maxCost: number;
  /** Seconds a successful API key check is remembered (revocations are heard at once); 0: every request checks. */
  apiKeyCacheSeconds: number;
  /** JWTs from an OIDC issuer (e.g. Entra ID) accepted next to API keys; undefined when not configured. */
  jwt: GraphqlJwtConfig | undefined;
}

export interface GraphqlJwtConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The claim holding the caller's roles (a string or an array of strings). */
  roleClaim: string;
  /** Claim values that make the caller an admin (read and write). */
  adminValues: string[];
  /** Claim values that make the caller an analyst (read only). */
  analystValues: string[];
}

export interface SendingConfig {
  /** PUBLIC_URL: the service's public base URL; unsubscribe links start with it. Undefined: this server's own URL. */
  publicUrl: string | undefined;
  /** UNSUBSCRIBE_SECRET: HMAC key of unsubscribe tokens. Undefined: generated once and kept in the database. */
  unsubscribeSecret: string | undefined;
  /** TRACKING_SECRETS: HMAC keys of tracking tokens, the first signs. Undefined: generated once and kept in the database. */
  trackingSecrets: string[] | undefined;
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  timeoutMs: number;
}

export interface EntraConfig {
  tenantId: string;
  /** The application id or App ID URI configured on the Event Grid subscription. */
  audience: string;
  issuer: string;
  jwksUrl: string;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

const MB = 1024 * 1024;

/**
 * WEBHOOK_MAX_BODY_BYTES by default: 4 MB. The largest request Event Grid sends is about 1 MB: a batch is
 * filled up to the preferred batch size (at most 1024 KB) and is larger only when one event is, which then
 * travels alone, and one event is at most 1 MB. 4 MB leaves room for a batch that overshoots its target by a
 * whole event of 1 MB (2 MB) twice over, and keeps the largest request a small share of the bytes in flight.
 */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 4 * MB;

/**
 * WEBHOOK_MAX_BYTES_IN_FLIGHT by default: 32 MB, or WEBHOOK_MAX_BODY_BYTES when that is larger (a request of
 * the largest accepted size must always be able to get in). 32 MB holds 8 requests of the largest default
 * size at once, 32 full batches of 1 MB, or tens of thousands of deliveries of one event. A byte in flight
 * costs the receiver up to about 10 bytes of memory while it is handled (the bytes read, the text, the parsed
 * events, the job's JSON, the query, and their garbage until V8 collects it): docs/operations.md, "Memory".
 */
export function defaultWebhookMaxBytesInFlight(maxBodyBytes: number): number {
  return Math.max(32 * MB, maxBodyBytes);
}

const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "AUTH_DATABASE_URL",
  "ACS_CONNECTION_STRING",
  "WEBHOOK_SECRETS",
  "UNSUBSCRIBE_SECRET",
  "TRACKING_SECRETS",
]);

function shown(variable: string, value: string): string {
  return SECRET_VARIABLES.has(variable) ? "(hidden)" : JSON.stringify(value);
}

function invalid(variable: string, value: string, expected: string): ConfigError {
  return new ConfigError(
    variable,
    `Invalid configuration: ${variable}=${shown(variable, value)}; expected ${expected}.`,
  );
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(name, raw, `an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

/** DASHBOARD_SESSION_HOURS by default: a sign-in lasts a working day. */
export const DEFAULT_DASHBOARD_SESSION_HOURS = 12;

/** DASHBOARD_SESSION_HOURS: how long a dashboard sign-in lasts, in hours (0.1 to 720; fractions allowed). */
export function dashboardSessionHours(env: Env): number {
  const raw = env.DASHBOARD_SESSION_HOURS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_DASHBOARD_SESSION_HOURS;
  const hours = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(hours >= 0.1 && hours <= 720)) {
    throw new ConfigError(
      "DASHBOARD_SESSION_HOURS",
      `Invalid configuration: DASHBOARD_SESSION_HOURS=${JSON.stringify(raw)}; expected a number of hours from 0.1 to 720, such as 12.`,
    );
  }
  return hours;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw invalid(name, raw, `one of ${allowed.join(", ")}`);
  }
  return raw as T;
}

function postgresUrl(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(name, raw, "a URL such as postgres://user:password@host:5432/database");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw invalid(name, raw, "a postgres:// or postgresql:// URL");
  }
  if (url.pathname.length <= 1) {
    throw invalid(name, raw, "a URL that names the database, such as postgres://user@host/mailroom");
  }
  return raw;
}

/** Checks the shape of an ACS connection string: endpoint=https://NAME.communication.azure.com/;accesskey=BASE64 */
export function parseAcsConnectionString(raw: string): { endpoint: string; accessKey: string } {
  const parts = new Map<string, string>();
  for (const piece of raw.split(";")) {
    if (piece.trim() === "") continue;
    const eq = piece.indexOf("=");
    if (eq <= 0) throw invalid("ACS_CONNECTION_STRING", raw, "endpoint=https://NAME.communication.azure.com/;accesskey=KEY");
    parts.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  const endpoint = parts.get("endpoint");
  const accessKey = parts.get("accesskey");
  if (!endpoint || !accessKey || !/^https?:\/\//.test(endpoint)) {
    throw invalid("ACS_CONNECTION_STRING", raw, "endpoint=https://NAME.communication.azure.com/;accesskey=KEY");
  }
  return { endpoint, accessKey };
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const databaseUrl = postgresUrl(env, "DATABASE_URL");
  const authDatabaseUrl = postgresUrl(env, "AUTH_DATABASE_URL");
  const acsConnectionString = nonEmpty(env, "ACS_CONNECTION_STRING");
  if (acsConnectionString !== undefined) parseAcsConnectionString(acsConnectionString);

  const secretsRaw = nonEmpty(env, "WEBHOOK_SECRETS");
  const webhookSecrets = secretsRaw === undefined ? [] : secretsRaw.split(",").map((s) => s.trim());
  if (webhookSecrets.some((s) => s.length < 16)) {
    throw invalid("WEBHOOK_SECRETS", secretsRaw ?? "", "comma-separated secrets of at least 16 characters each");
  }

  const production = env.NODE_ENV === "production";

  const tenantId = nonEmpty(env, "ENTRA_TENANT_ID");
  const audience = nonEmpty(env, "ENTRA_AUDIENCE");
  if ((tenantId === undefined) !== (audience === undefined)) {
    const missing = tenantId === undefined ? "ENTRA_TENANT_ID" : "ENTRA_AUDIENCE";
    throw new ConfigError(
      missing,
      `Invalid configuration: ${missing} is unset; expected ENTRA_TENANT_ID and ENTRA_AUDIENCE to be set together (or neither).`,
    );
  }
  const url = (name: string, fallback: string): string => {
    const raw = nonEmpty(env, name) ?? fallback;
    try {
      new URL(raw);
    } catch {
      throw invalid(name, raw, "an absolute URL");
    }
    return raw;
  };
  const entra: EntraConfig | undefined =
    tenantId && audience
      ? {
          tenantId,
          audience,
          issuer: url("ENTRA_ISSUER", `https://login.microsoftonline.com/${tenantId}/v2.0`),
          jwksUrl: url("ENTRA_JWKS_URL", `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`),
        }
      : undefined;
  const publicUrl = nonEmpty(env, "PUBLIC_URL");
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) {
    throw invalid("PUBLIC_URL", publicUrl, "an http:// or https:// URL such as https://mail.example.com");
  }
  // A request must end well within its claim's lease: a lease that ends while the request may still reach ACS
  // would let another worker look the message up too early and send it a second time.
  const sendLeaseSeconds = integer(env, "SEND_LEASE_SECONDS", 60, 5, 3600);
  const sendTimeoutMs = integer(env, "SEND_TIMEOUT_MS", 30000, 100, 600000);
  if (sendTimeoutMs * 2 > sendLeaseSeconds * 1000) {
    throw invalid("SEND_TIMEOUT_MS", String(sendTimeoutMs), `at most half of SEND_LEASE_SECONDS (${sendLeaseSeconds} s)`);
  }
  const unsubscribeSecret = nonEmpty(env, "UNSUBSCRIBE_SECRET");
  if (unsubscribeSecret !== undefined && unsubscribeSecret.length < 32) {
    throw invalid("UNSUBSCRIBE_SECRET", unsubscribeSecret, "a secret of at least 32 characters");
  }
  const trackingSecrets = nonEmpty(env, "TRACKING_SECRETS")?.split(",").map((v) => v.trim()).filter((v) => v !== "");
  if (trackingSecrets !== undefined && (trackingSecrets.length === 0 || trackingSecrets.some((v) => v.length < 32))) {
    throw invalid("TRACKING_SECRETS", "", "a comma-separated list of secrets of at least 32 characters each (the first signs)");
  }
  const trustProxyText = nonEmpty(env, "TRUST_PROXY") ?? "false";
  const trustProxy: boolean | number | string =
    trustProxyText === "true" ? true : trustProxyText === "false" ? false : /^[0-9]+$/.test(trustProxyText) ? Number(trustProxyText) : trustProxyText;
  const webhookMaxBodyBytes = integer(env, "WEBHOOK_MAX_BODY_BYTES", DEFAULT_WEBHOOK_MAX_BODY_BYTES, MB, 1024 * MB);
  const webhookMaxBytesInFlight = integer(
    env,
    "WEBHOOK_MAX_BYTES_IN_FLIGHT",
    defaultWebhookMaxBytesInFlight(webhookMaxBodyBytes),
    MB,
    64 * 1024 * MB,
  );
  if (webhookMaxBytesInFlight < webhookMaxBodyBytes) {
    throw invalid(
      "WEBHOOK_MAX_BYTES_IN_FLIGHT",
      String(webhookMaxBytesInFlight),
      `at least WEBHOOK_MAX_BODY_BYTES (${webhookMaxBodyBytes}), or a request of the largest accepted size could never get in`,
    );
  }
  const dataDir = path.resolve(cwd, nonEmpty(env, "MAILROOM_DATA_DIR") ?? ".data");
  const embeddedPgBinDir = nonEmpty(env, "EMBEDDED_PG_BIN_DIR");

  const jwtIssuer = nonEmpty(env, "GRAPHQL_JWT_ISSUER");
  const jwtAudience = nonEmpty(env, "GRAPHQL_JWT_AUDIENCE");
  const jwtJwksUrl = nonEmpty(env, "GRAPHQL_JWT_JWKS_URL");
  const jwtSet = [jwtIssuer, jwtAudience, jwtJwksUrl].filter((v) => v !== undefined).length;
  if (jwtSet !== 0 && jwtSet !== 3) {
    const missing = jwtIssuer === undefined ? "GRAPHQL_JWT_ISSUER" : jwtAudience === undefined ? "GRAPHQL_JWT_AUDIENCE" : "GRAPHQL_JWT_JWKS_URL";
    throw new ConfigError(
      missing,
      `Invalid configuration: ${missing} is unset; expected GRAPHQL_JWT_ISSUER, GRAPHQL_JWT_AUDIENCE and GRAPHQL_JWT_JWKS_URL to be set together (or none).`,
    );
  }
  const list = (name: string, fallback: string): string[] =>
    (nonEmpty(env, name) ?? fallback).split(",").map((v) => v.trim()).filter((v) => v !== "");
  const graphqlJwt: GraphqlJwtConfig | undefined =
    jwtIssuer && jwtAudience && jwtJwksUrl
      ? {
          issuer: jwtIssuer,
          audience: jwtAudience,
          jwksUrl: url("GRAPHQL_JWT_JWKS_URL", jwtJwksUrl),
          roleClaim: nonEmpty(env, "GRAPHQL_JWT_ROLE_CLAIM") ?? "roles",
          adminValues: list("GRAPHQL_JWT_ADMIN_ROLES", "admin"),
          analystValues: list("GRAPHQL_JWT_ANALYST_ROLES", "analyst"),
        }
      : undefined;

  return {
    databaseUrl,
    authDatabaseUrl,
    acsConnectionString,
    host: nonEmpty(env, "HOST") ?? "127.0.0.1",
    port: integer(env, "PORT", 3000, 0, 65535),
    webhookSecrets,
    logLevel: oneOf(env, "LOG_LEVEL", ["trace", "debug", "info", "warn", "error", "fatal", "silent"], "info"),
    logFormat: oneOf(env, "LOG_FORMAT", ["pretty", "json"], defaultLogFormat({ longRunning: isLongRunningCommand(), terminal: process.stdout.isTTY === true, production })),
    dataDir,
    embeddedPgPort: integer(env, "EMBEDDED_PG_PORT", 54320, 1024, 65535),
    embeddedPgBinDir: embeddedPgBinDir === undefined ? undefined : path.resolve(cwd, embeddedPgBinDir),
    embeddedPgSharedBuffersMb: integer(env, "EMBEDDED_PG_SHARED_BUFFERS_MB", defaultSharedBuffersMb(), 16, 1024 * 1024),
    workerConcurrency: integer(env, "WORKER_CONCURRENCY", 4, 1, 256),
    workerReclaimAfterMs: integer(env, "WORKER_RECLAIM_AFTER_SECONDS", 30, 5, 3600) * 1000,
    rawEventRetentionDays: integer(env, "RAW_EVENT_RETENTION_DAYS", 0, 0, 36500) || undefined,
    trackingIpRetentionDays: integer(env, "TRACKING_IP_RETENTION_DAYS", 30, 0, 36500) || undefined,
    trustProxy,
    dashboardSessionHours: dashboardSessionHours(env),
    webhookMaxBodyBytes,
    webhookMaxBytesInFlight,
    entra,
    sending: {
      publicUrl: publicUrl?.replace(/\/+$/, ""),
      unsubscribeSecret,
      trackingSecrets,
      batchSize: integer(env, "SEND_BATCH_SIZE", 100, 1, 1000),
      concurrency: integer(env, "SEND_CONCURRENCY", 64, 1, 1000),
      leaseSeconds: sendLeaseSeconds,
      timeoutMs: sendTimeoutMs,
    },
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10000, 0, 600000),
    production,
    optIn: {
      rateWindowSeconds: integer(env, "SUBSCRIBE_RATE_WINDOW_SECONDS", 600, 1, 86400),
      ratePerIp: integer(env, "SUBSCRIBE_RATE_PER_IP", 20, 1, 1000000),
      ratePerAddress: integer(env, "SUBSCRIBE_RATE_PER_ADDRESS", 3, 1, 1000000),
    },
    graphql: {
      maxPageSize: integer(env, "GRAPHQL_MAX_PAGE_SIZE", 100, 1, 10000),
      maxDepth: integer(env, "GRAPHQL_MAX_DEPTH", 10, 2, 100),
      maxCost: integer(env, "GRAPHQL_MAX_COST", 50000, 1, 10000000),
      apiKeyCacheSeconds: integer(env, "GRAPHQL_API_KEY_CACHE_SECONDS", 5, 0, 3600),
      jwt: graphqlJwt,
    },
  };
}
