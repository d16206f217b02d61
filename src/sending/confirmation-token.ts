// The tokens of confirmation links (PUBLIC_URL/confirm/TOKEN): the confirmation's id and an HMAC-SHA256 of it under
// the unsubscribe signing secret, with its own label ("confirm:"), so that no unsubscribe token is a confirmation
// token or the other way round. A confirmation names one member of one list (app_public.confirmations), so the
// token is bound to that list and subscriber; it cannot be made without the secret, nor changed to name another.
//
// TOKEN = base64url(the id as 8 bytes, big-endian) "." base64url(the first 20 bytes of the MAC): 11 + 1 + 27
// characters.
import crypto from "node:crypto";

function mac(secret: string, confirmationId: bigint): Buffer {
  return crypto.createHmac("sha256", secret).update(`confirm:${confirmationId}`).digest().subarray(0, 20);
}

export function confirmationToken(secret: string, confirmationId: string | number | bigint): string {
  const id = BigInt(confirmationId);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(id);
  return `${bytes.toString("base64url")}.${mac(secret, id).toString("base64url")}`;
}

/** The confirmation id a genuine token names (as text), or undefined for anything else. */
export function verifyConfirmationToken(secret: string, token: string): string | undefined {
  const match = /^([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{27})$/.exec(token);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1], "base64url");
  if (bytes.length !== 8) return undefined;
  const id = bytes.readBigUInt64BE();
  if (id <= 0n || id > 9223372036854775807n) return undefined;
  // The canonical spelling only: another base64url text of the same bytes is not the token that was sent.
  if (bytes.toString("base64url") !== match[1]) return undefined;
  const given = Buffer.from(match[2], "base64url");
  const expected = mac(secret, id);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected) ? String(id) : undefined;
}

export function confirmationUrl(publicUrl: string, secret: string, confirmationId: string | number | bigint): string {
  return `${publicUrl.replace(/\/+$/, "")}/confirm/${confirmationToken(secret, confirmationId)}`;
}
