// The HMAC-SHA256 request signature of ACS, checked as the service checks it:
//   Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=BASE64
//   string to sign: VERB \n PATH?QUERY \n the signed headers' values joined by ';'
// with the Host header as received, the content hash compared with the body's, and x-ms-date within
// the clock-skew window.
import crypto from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  pathAndQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

export function contentHash(body: Buffer | string): string {
  return crypto.createHash("sha256").update(body).digest("base64");
}

export function checkSignature(
  request: SignedRequest,
  accessKey: string,
  maxClockSkewSeconds: number,
  now: number = Date.now(),
): SignatureCheck {
  const authorization = header(request.headers, "authorization");
  if (!authorization) return { ok: false, reason: "no Authorization header" };
  const match = /^HMAC-SHA256\s+SignedHeaders=([^&]+)&Signature=(.+)$/i.exec(authorization.trim());
  if (!match) return { ok: false, reason: "Authorization is not HMAC-SHA256 SignedHeaders=...&Signature=..." };
  const signedHeaders = match[1].toLowerCase().split(";");
  const signature = match[2];
  for (const required of ["host", "x-ms-content-sha256"]) {
    if (!signedHeaders.includes(required)) return { ok: false, reason: `${required} is not a signed header` };
  }
  if (!signedHeaders.includes("x-ms-date") && !signedHeaders.includes("date")) {
    return { ok: false, reason: "neither x-ms-date nor date is a signed header" };
  }

  const values: string[] = [];
  for (const name of signedHeaders) {
    const value = header(request.headers, name);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    values.push(value);
  }

  const dateValue = header(request.headers, "x-ms-date") ?? header(request.headers, "date") ?? "";
  const date = Date.parse(dateValue);
  if (Number.isNaN(date)) return { ok: false, reason: "x-ms-date is not a date" };
  if (Math.abs(now - date) > maxClockSkewSeconds * 1000) {
    return { ok: false, reason: "x-ms-date is outside the allowed clock skew" };
  }

  if (header(request.headers, "x-ms-content-sha256") !== contentHash(request.body)) {
    return { ok: false, reason: "x-ms-content-sha256 does not match the body" };
  }

  const stringToSign = `${request.method.toUpperCase()}\n${request.pathAndQuery}\n${values.join(";")}`;
  const expected = crypto.createHmac("sha256", Buffer.from(accessKey, "base64")).update(stringToSign, "utf8").digest();
  const given = Buffer.from(signature, "base64");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return { ok: false, reason: "the signature does not match" };
  }
  return { ok: true };
}

/** Signs a request as the ACS SDKs do (for clients without the SDK: benchmarks, tests). */
export function signRequest(
  method: string,
  url: URL,
  body: string,
  accessKey: string,
  date: Date = new Date(),
): Record<string, string> {
  const hash = contentHash(body);
  const xMsDate = date.toUTCString();
  const stringToSign = `${method.toUpperCase()}\n${url.pathname}${url.search}\n${xMsDate};${url.host};${hash}`;
  const signature = crypto.createHmac("sha256", Buffer.from(accessKey, "base64")).update(stringToSign, "utf8").digest("base64");
  return {
    "x-ms-date": xMsDate,
    "x-ms-content-sha256": hash,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}
