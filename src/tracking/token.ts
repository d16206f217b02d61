// Tracking tokens: what the open pixel (PUBLIC_URL/t/o/TOKEN) and the click redirect (PUBLIC_URL/t/c/TOKEN) carry.
//
//   TOKEN   = base64url(payload) "." base64url(MAC)
//   payload = version 1 (1 byte) | kind (1 byte: "o" open, "c" click, "h" honeypot) | key id (4 bytes)
//             | operation id of the message (16 bytes) | link number (2 bytes, big-endian) | URL (UTF-8, clicks only)
//   MAC     = the first 16 bytes of HMAC-SHA256(secret, "tracking:" payload)
//
// A token names exactly one message and, for a click, the one URL it redirects to: it is checked with the key alone
// (no database read), and a token that was not made with one of this deployment's keys, or was changed in any way,
// is refused, so no URL can be made to redirect anywhere (no open redirect). The key id says which key made it, so
// keys can be rotated: TRACKING_SECRETS lists them, the first signs, all are accepted. The URL inside is readable
// (it is not secret: it is the link of the email); app_private.tracked_link reads it in SQL.
import crypto from "node:crypto";
import type pg from "pg";
import { storedSigningSecret, uuidFromBytes, type Query } from "../sending/unsubscribe-token.ts";

export type HitKind = "open" | "click" | "honeypot";

const KIND_BYTE: Record<HitKind, number> = { open: 0x6f, click: 0x63, honeypot: 0x68 };
const KIND_OF = new Map(Object.entries(KIND_BYTE).map(([kind, byte]) => [byte, kind as HitKind]));
const VERSION = 1;
const HEADER_BYTES = 24;
const MAC_BYTES = 16;
/** Links longer than this are not rewritten (the token would make a URL longer than some clients follow). */
export const MAX_TRACKED_URL_BYTES = 2000;
/** Longest token a link of MAX_TRACKED_URL_BYTES makes, with room to spare: longer paths are refused unread. */
export const MAX_TOKEN_CHARS = 2 + Math.ceil(((HEADER_BYTES + MAX_TRACKED_URL_BYTES) * 4) / 3) + Math.ceil((MAC_BYTES * 4) / 3);
const TOKEN = /^([A-Za-z0-9_-]{32,})\.([A-Za-z0-9_-]{22})$/;

/**
 * The operation id of a preview's links (the nil UUID, which no message has: operation ids are UUIDv7): its tracking
 * hits are answered as usual but stored nowhere, so that opening a preview adds no event that matches no message.
 */
export const PREVIEW_OPERATION_ID = "00000000-0000-0000-0000-000000000000";

export interface TrackedHit {
  kind: HitKind;
  operationId: string;
  link: number;
  /** The URL a click redirects to (clicks only). */
  url: string | undefined;
}

interface Key {
  id: Buffer;
  secret: string;
}

function keyId(secret: string): Buffer {
  return crypto.createHash("sha256").update(`mailroom tracking key:${secret}`).digest().subarray(0, 4);
}

function mac(secret: string, payload: Buffer): Buffer {
  return crypto.createHmac("sha256", secret).update("tracking:").update(payload).digest().subarray(0, MAC_BYTES);
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

/** The keys of this deployment: the first signs, every one verifies. */
export class TrackingKeys {
  private readonly keys: Key[];

  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error("tracking needs at least one secret");
    this.keys = secrets.map((secret) => ({ id: keyId(secret), secret }));
  }

  /** A token for a hit on the message (by its operation id); `url` for clicks. */
  sign(kind: HitKind, operationId: string, link = 0, url?: string): string {
    const key = this.keys[0];
    const urlBytes = kind === "click" ? Buffer.from(url ?? "", "utf8") : Buffer.alloc(0);
    const payload = Buffer.alloc(HEADER_BYTES + urlBytes.length);
    payload[0] = VERSION;
    payload[1] = KIND_BYTE[kind];
    key.id.copy(payload, 2);
    uuidBytes(operationId).copy(payload, 6);
    payload.writeUInt16BE(Math.min(link, 0xffff), 22);
    urlBytes.copy(payload, HEADER_BYTES);
    return `${payload.toString("base64url")}.${mac(key.secret, payload).toString("base64url")}`;
  }

  /**
   * What a genuine token says, or undefined for anything else: bad shape, unknown key, wrong MAC, a kind other than
   * the expected ones, a click whose URL is not http(s).
   */
  verify(token: string, kinds: readonly HitKind[]): TrackedHit | undefined {
    if (token.length > MAX_TOKEN_CHARS) return undefined;
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const payload = Buffer.from(match[1], "base64url");
    const given = Buffer.from(match[2], "base64url");
    // Only the one spelling of the bytes (base64's unused low bits of a last character could spell it otherwise).
    if (payload.toString("base64url") !== match[1] || given.toString("base64url") !== match[2]) return undefined;
    if (payload.length < HEADER_BYTES || payload[0] !== VERSION) return undefined;
    const kind = KIND_OF.get(payload[1]);
    if (!kind || !kinds.includes(kind)) return undefined;
    const key = this.keys.find((k) => k.id.equals(payload.subarray(2, 6)));
    if (!key) return undefined;
    const expected = mac(key.secret, payload);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    const url = kind === "click" ? payload.subarray(HEADER_BYTES).toString("utf8") : undefined;
    if (url !== undefined && !/^https?:\/\/[^\s]+$/i.test(url)) return undefined;
    return { kind, operationId: uuidFromBytes(payload.subarray(6, 22)), link: payload.readUInt16BE(22), url };
  }
}

/** The database's tracking secret, generated and stored on first use. */
export function storedTrackingSecret(query: Query): Promise<string> {
  return storedSigningSecret(query, "tracking");
}

const cached = new WeakMap<pg.Pool, Map<string, Promise<TrackingKeys>>>();

/**
 * The tracking keys. TRACKING_SECRETS when configured (the first signs), followed by the database's secret when there
 * is one, so that links sent before the secrets were configured keep working; else the database's secret, generated
 * on first use.
 */
export async function loadTrackingKeys(query: Query, configured: string[] | undefined): Promise<TrackingKeys> {
  if (configured === undefined || configured.length === 0) return new TrackingKeys([await storedTrackingSecret(query)]);
  const { rows } = await query<{ secret: string }>("select secret from app_private.signing_secrets where name = 'tracking'");
  return new TrackingKeys([...configured, ...rows.map((r) => r.secret).filter((secret) => !configured.includes(secret))]);
}

/** loadTrackingKeys, once per pool and configuration. */
export function trackingKeys(pool: pg.Pool, configured: string[] | undefined): Promise<TrackingKeys> {
  const byConfiguration = cached.get(pool) ?? new Map<string, Promise<TrackingKeys>>();
  cached.set(pool, byConfiguration);
  const configuration = JSON.stringify(configured ?? []);
  let keys = byConfiguration.get(configuration);
  if (!keys) {
    const loading = loadTrackingKeys((text, values) => pool.query(text, values), configured);
    keys =
      configured !== undefined && configured.length > 0
        ? // The configured keys do not wait for the database: while it cannot be read, they alone verify (and the
          // database's secret is looked for again at the next hit).
          loading.catch(() => {
            byConfiguration.delete(configuration);
            return new TrackingKeys(configured);
          })
        : loading;
    keys.catch(() => byConfiguration.delete(configuration));
    byConfiguration.set(configuration, keys);
  }
  return keys;
}
