// What the people and machines of the emulation request from the sender's own URLs: Mailroom's open pixel
// (/t/o/TOKEN) and tracked links (/t/c/TOKEN) found in the HTML, and the List-Unsubscribe URL (RFC 8058
// one-click POST). Requests are made at their scheduled (time-scaled) times, at most trackingConcurrency at
// once, each given up after trackingTimeoutMs; redirects are never followed (a click reads Location and stops,
// so no foreign site is ever fetched). Failures are counted, never thrown.
import http from "node:http";
import https from "node:https";
import type { SandboxSettings } from "./settings.ts";
import { decodeEntities } from "../sending/template.ts";
import { Timeline } from "./timeline.ts";

/** An `<a href>` of the HTML: its URL, whether a person can see it, and its text. */
export interface Anchor {
  href: string;
  hidden: boolean;
  text: string;
}

export interface HtmlParts {
  anchors: Anchor[];
  /** `<img src>` URLs, in order. */
  images: string[];
}

const TAG = /<(a|img)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
function attributesOf(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1].toLowerCase();
    if (!attributes.has(name)) attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ""));
  }
  return attributes;
}

/**
 * A person never sees (so never clicks) an anchor hidden by its own attributes: display:none or
 * visibility:hidden in its style, aria-hidden="true", or the hidden attribute. Link scanners follow it anyway.
 */
function isHidden(attributes: Map<string, string>): boolean {
  const style = attributes.get("style") ?? "";
  return (
    /display\s*:\s*none/i.test(style) ||
    /visibility\s*:\s*hidden/i.test(style) ||
    attributes.get("aria-hidden")?.trim().toLowerCase() === "true" ||
    attributes.has("hidden")
  );
}

/** The anchors and images of an HTML body (a tolerant reading of the tags, as mail clients do). */
export function readHtml(html: string): HtmlParts {
  const anchors: Anchor[] = [];
  const images: string[] = [];
  for (const match of html.matchAll(TAG)) {
    const attributes = attributesOf(match[2]);
    if (match[1].toLowerCase() === "img") {
      const src = attributes.get("src")?.trim();
      if (src) images.push(src);
      continue;
    }
    const href = attributes.get("href")?.trim();
    if (href === undefined) continue;
    const end = (match.index ?? 0) + match[0].length;
    const close = html.slice(end, end + 2000).search(/<\/a\s*>/i);
    const text = close < 0 ? "" : decodeEntities(html.slice(end, end + close).replace(/<[^>]*>/g, "")).trim();
    anchors.push({ href, hidden: isHidden(attributes), text });
  }
  return { anchors, images };
}

export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** A Mailroom tracking URL: an absolute http(s) URL whose path holds /t/o/ (open pixel) or /t/c/ (click). */
export function isTrackingUrl(url: string): boolean {
  if (!isHttpUrl(url)) return false;
  try {
    return /\/t\/[oc]\//.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

/** The first http(s) URL of a List-Unsubscribe header, and whether List-Unsubscribe-Post offers one-click (RFC 8058). */
export function listUnsubscribeOf(headers: Record<string, string>): { url: string | undefined; oneClick: boolean } {
  const value = (name: string) => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : headers[key];
  };
  const url = [...(value("list-unsubscribe") ?? "").matchAll(/<([^>]*)>/g)].map((m) => m[1].trim()).find(isHttpUrl);
  const oneClick = value("list-unsubscribe-post")?.trim().toLowerCase() === "list-unsubscribe=one-click";
  return { url, oneClick };
}

/** An unsubscribe link: the List-Unsubscribe URL, a path with an /unsubscribe segment, or a link saying so. */
export function isUnsubscribeLink(anchor: Anchor, listUnsubscribeUrl: string | undefined): boolean {
  if (listUnsubscribeUrl !== undefined && anchor.href === listUnsubscribeUrl) return true;
  if (/unsubscribe/i.test(anchor.text)) return true;
  try {
    return /\/unsubscribe(?:\/|$)/i.test(new URL(anchor.href).pathname);
  } catch {
    return false;
  }
}

/** 127.0.0.0/8, ::1, 0.0.0.0, localhost and *.localhost: this machine. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    host === "0.0.0.0" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

export type TrackingOrigin = "human-view" | "human-click" | "machine-open" | "scanner-click" | "unsubscribe-page" | "unsubscribe";

export interface TrackingRequest {
  /** Who makes it: a person's open, click, visit of the unsubscribe page or one-click unsubscribe; an image proxy's open; a link scanner. */
  origin: TrackingOrigin;
  operationId: string;
  recipient: string;
  method: "GET" | "HEAD" | "POST";
  url: string;
  userAgent: string;
  /** A form body (the one-click POST: List-Unsubscribe=One-Click). */
  form?: string;
}

export interface TrackingRecord extends Omit<TrackingRequest, "form"> {
  sentAt: string;
  /** The answer's status; null when there was none (connection refused, timeout). */
  status: number | null;
  /** The Location of a redirect (read, never followed). */
  location?: string;
  error?: string;
  durationMs: number;
}

const ACCEPT: Record<TrackingOrigin, string> = {
  "human-view": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
  "machine-open": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
  "human-click": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "unsubscribe-page": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "scanner-click": "*/*",
  unsubscribe: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
};
/** Bytes of an answer read before the rest is dropped (a pixel is 43 bytes, a page a few KB). */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface TrackingTotals {
  /** Requests made (counted when they end; those in flight are counted apart). */
  sent: number;
  /** Requests that got no answer (connection error, timeout). */
  failed: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
}

export interface TrackingClientOptions {
  settings: () => SandboxSettings;
  onError?: (message: string) => void;
}

export class TrackingClient {
  private timeline: Timeline<TrackingRequest>;
  private queue: TrackingRequest[] = [];
  private head = 0;
  private inFlight = 0;
  private generation = 0;
  private records: TrackingRecord[] = [];
  private stopped = false;
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  private readonly options: TrackingClientOptions;
  totals: TrackingTotals = { sent: 0, failed: 0, byStatus: {} };

  constructor(options: TrackingClientOptions) {
    this.options = options;
    this.timeline = new Timeline((request) => {
      this.queue.push(request);
      this.pump();
    });
  }

  /** Whether the settings let the emulation request this URL at all (trackingRequests: off, loopback or any). */
  allows(url: string): boolean {
    const policy = this.options.settings().trackingRequests;
    return isHttpUrl(url) && (policy === "any" || (policy === "loopback" && isLoopbackUrl(url)));
  }

  /** Makes the request at `at` (Date.now() milliseconds). */
  schedule(at: number, request: TrackingRequest): void {
    this.timeline.add(at, request);
  }

  get scheduledCount(): number {
    return this.timeline.size;
  }

  get queuedCount(): number {
    return this.queue.length - this.head;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Scheduled, queued or in flight. */
  pendingCount(): number {
    return this.timeline.size + this.queuedCount + this.inFlight;
  }

  /** The newest requests made and their outcomes (at most retainedDeliveries), oldest first. */
  list(): TrackingRecord[] {
    return this.records.slice(-this.options.settings().retainedDeliveries || Infinity);
  }

  /** Forgets what is scheduled or queued, the records and the counters; requests in flight finish uncounted. */
  reset(): void {
    this.generation++;
    this.timeline.clear();
    this.queue = [];
    this.head = 0;
    this.records = [];
    this.totals = { sent: 0, failed: 0, byStatus: {} };
  }

  stop(): void {
    this.stopped = true;
    this.reset();
    this.timeline.stop();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private pump(): void {
    const concurrency = this.options.settings().trackingConcurrency;
    while (!this.stopped && this.inFlight < concurrency && this.head < this.queue.length) {
      const request = this.queue[this.head++];
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.inFlight++;
      const generation = this.generation;
      void this.perform(request)
        .then((record) => {
          if (generation === this.generation && !this.stopped) this.record(record);
        })
        .catch((error: unknown) => this.options.onError?.(`tracking request: ${(error as Error).message}`))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  private record(record: TrackingRecord): void {
    this.totals.sent++;
    if (record.status === null) this.totals.failed++;
    else this.totals.byStatus[record.status] = (this.totals.byStatus[record.status] ?? 0) + 1;
    const limit = this.options.settings().retainedDeliveries;
    if (limit <= 0) return;
    this.records.push(record);
    if (this.records.length > limit + Math.max(16, limit >> 3)) this.records.splice(0, this.records.length - limit);
  }

  /** One request; resolves with its outcome, never rejects for a network reason. */
  private perform(request: TrackingRequest): Promise<TrackingRecord> {
    const started = Date.now();
    const { form, ...about } = request;
    const done = (outcome: { status: number | null; location?: string; error?: string }): TrackingRecord => ({
      ...about,
      sentAt: new Date(started).toISOString(),
      ...outcome,
      durationMs: Date.now() - started,
    });
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return Promise.resolve(done({ status: null, error: "not a URL" }));
    }
    const timeoutMs = this.options.settings().trackingTimeoutMs;
    const headers: Record<string, string> = {
      "user-agent": request.userAgent,
      accept: ACCEPT[request.origin],
      "accept-language": "en-US,en;q=0.9",
    };
    if (form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = String(Buffer.byteLength(form));
    }
    return new Promise((resolve) => {
      let settled = false;
      const settle = (record: TrackingRecord) => {
        if (settled) return;
        settled = true;
        resolve(record);
      };
      const send = url.protocol === "https:" ? https.request : http.request;
      const agent = url.protocol === "https:" ? this.agents.https : this.agents.http;
      let req: http.ClientRequest;
      try {
        req = send(url, { method: request.method, headers, agent }, (res) => {
          const status = res.statusCode ?? 0;
          const location = typeof res.headers.location === "string" ? res.headers.location : undefined;
          const answered = () => settle(done({ status, ...(location !== undefined ? { location } : {}) }));
          let bytes = 0;
          res.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_ANSWER_BYTES) {
              answered();
              res.destroy();
            }
          });
          res.on("end", answered);
          res.on("error", answered);
          res.on("close", answered);
        });
      } catch (error) {
        settle(done({ status: null, error: (error as Error).message }));
        return;
      }
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (error) => settle(done({ status: null, error: error.message })));
      req.end(form);
    });
  }
}
