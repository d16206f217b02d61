// Reading webhook request bodies into memory within a budget.
//
// Every byte of a request body the receiver holds (from the moment it is read until the response is
// finished or the connection is gone) counts against one budget per receiver, WEBHOOK_MAX_BYTES_IN_FLIGHT.
// A request that does not fit is answered 503 with Retry-After (Event Grid retries it later; a 4xx would
// drop it), and the decision is made before its bytes are kept:
// - with Content-Length, from the header, before any of the body is read: the whole declared size is
//   taken from the budget at once, so a slow sender cannot hold more than it declared;
// - without it (chunked), chunk by chunk as the body arrives: a chunk that would go past the budget (or
//   past WEBHOOK_MAX_BODY_BYTES) is dropped, the request refused, and everything it held released.
// A refused body is read off the connection and discarded, so that the client can finish sending and read
// the answer on a connection that stays open (closing it with unread data would reset it).
import type { IncomingMessage, ServerResponse } from "node:http";

/** The bytes of request bodies held in memory by the requests in progress, and the most allowed. */
export class BytesInFlight {
  readonly limit: number;
  private used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get inFlight(): number {
    return this.used;
  }

  /** Takes `bytes` from the budget if they fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

export interface BodyLimits {
  /** Largest body accepted (WEBHOOK_MAX_BODY_BYTES): 413 above it. */
  maxBytes: number;
  /** Shared by every request of the receiver (WEBHOOK_MAX_BYTES_IN_FLIGHT): 503 beyond it. */
  budget: BytesInFlight;
}

/** Why a body was not read: 400 (can never be read), 413 (too large), 503 (over the budget: retry). */
export interface BodyRefusal {
  status: 400 | 413 | 503;
  reason: string;
}

const utf8Decoder = (buffer: Buffer): string =>
  // A UTF-8 byte order mark is not part of the text (JSON.parse would reject it).
  buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf
    ? buffer.toString("utf8", 3)
    : buffer.toString("utf8");

/** The decoder for the request's charset (UTF-8 when none is given), or undefined when it is unknown. */
function decoderFor(contentType: string | undefined): ((buffer: Buffer) => string) | undefined {
  if (contentType === undefined || !contentType.includes("charset")) return utf8Decoder;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1].toLowerCase();
  if (charset === undefined || charset === "utf-8" || charset === "utf8") return utf8Decoder;
  try {
    const decoder = new TextDecoder(charset);
    return (buffer) => decoder.decode(buffer);
  } catch {
    return undefined;
  }
}

/**
 * Reads the request body within the limits and calls `done` once: with the body as text, or with the
 * reason it was refused (the caller answers; the rest of the body is discarded). Nothing is called when the
 * client goes away first. What the request took from the budget is released when the response is finished
 * or the connection closed, since the body and what is made of it live until then.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  done: (refusal: BodyRefusal | undefined, body?: string) => void,
): void {
  const { budget, maxBytes } = limits;
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
    discard(req);
    done({ status: 400, reason: `unsupported content encoding ${encoding}; send the body uncompressed` });
    return;
  }
  const decode = decoderFor(req.headers["content-type"]);
  if (decode === undefined) {
    discard(req);
    done({ status: 400, reason: `unsupported charset in content type ${req.headers["content-type"]}` });
    return;
  }
  const lengthHeader = req.headers["content-length"];
  // Node's parser has checked the header: digits only, and never together with Transfer-Encoding.
  const declared = lengthHeader === undefined ? -1 : Number(lengthHeader);
  if (declared > maxBytes) {
    discard(req);
    done({ status: 413, reason: `request body larger than ${maxBytes} bytes (WEBHOOK_MAX_BODY_BYTES)` });
    return;
  }
  if (declared >= 0 && !budget.take(declared)) {
    discard(req);
    done(overBudget(budget));
    return;
  }
  let taken = declared >= 0 ? declared : 0;
  res.once("close", () => {
    budget.release(taken);
    taken = 0;
  });

  let first: Buffer | undefined;
  let whole: Buffer | undefined; // with Content-Length: the body, allocated once a second chunk comes
  let chunks: Buffer[] | undefined; // without Content-Length
  let received = 0;

  const refuse = (refusal: BodyRefusal) => {
    req.removeListener("data", onData);
    req.removeListener("end", onEnd);
    budget.release(taken);
    taken = 0;
    first = whole = chunks = undefined;
    discard(req);
    done(refusal);
  };

  const onData = (chunk: Buffer) => {
    if (declared < 0) {
      // Chunked: the budget is taken as the bytes arrive, and a chunk that does not fit is not kept.
      if (received + chunk.length > maxBytes) {
        refuse({ status: 413, reason: `request body larger than ${maxBytes} bytes (WEBHOOK_MAX_BODY_BYTES)` });
        return;
      }
      if (!budget.take(chunk.length)) {
        refuse(overBudget(budget));
        return;
      }
      taken += chunk.length;
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    } else if (first === undefined) {
      first = chunk;
    } else {
      // The parser never delivers more than Content-Length bytes.
      if (whole === undefined) {
        whole = Buffer.allocUnsafe(declared);
        first.copy(whole, 0);
      }
      chunk.copy(whole, received);
    }
    received += chunk.length;
  };

  const onEnd = () => {
    req.removeListener("data", onData);
    const body = whole ?? (chunks ? Buffer.concat(chunks, received) : first);
    first = whole = chunks = undefined;
    done(undefined, body === undefined ? "" : decode(body));
  };

  req.on("data", onData);
  req.once("end", onEnd);
}

function overBudget(budget: BytesInFlight): BodyRefusal {
  return {
    status: 503,
    reason: `the receiver holds as many request bytes as it may (${budget.limit}, WEBHOOK_MAX_BYTES_IN_FLIGHT); retry later`,
  };
}

/** Reads the rest of the body and throws it away, keeping nothing in memory. */
function discard(req: IncomingMessage): void {
  req.on("data", ignore);
  req.resume();
}

function ignore(): void {}
