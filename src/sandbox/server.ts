// The sandbox's HTTP server (Node's http, no framework): ACS Email's REST API, the validation URL of
// Event Grid's handshake, and the control API under /sandbox.
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { checkSignature } from "./hmac.ts";
import { MAX_REQUEST_BYTES, type AcsAnswer, type EmailService } from "./email-service.ts";
import { SubscriptionValidationError, type EventGrid, type SubscriptionOptions } from "./event-grid.ts";
import { SandboxSettingsError, type SandboxSettings } from "./settings.ts";
import type { TrackingClient } from "./tracking.ts";

export interface ServerParts {
  accessKey: string;
  settings: () => SandboxSettings;
  configure: (change: Record<string, unknown>) => SandboxSettings;
  email: EmailService;
  eventGrid: EventGrid;
  tracker: TrackingClient;
  summary: () => unknown;
  reset: () => void;
  onError: (message: string) => void;
}

interface Received {
  method: string;
  url: URL;
  rawPath: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  tooLarge: boolean;
}

function readBody(req: http.IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES + 1024 * 1024) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function answer(res: http.ServerResponse, acs: AcsAnswer): void {
  send(res, acs.status, acs.body, acs.headers);
}

function limitParam(url: URL, fallback: number): number {
  const raw = url.searchParams.get("limit");
  const n = raw === null ? fallback : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

export function createSandboxServer(parts: ServerParts): http.Server {
  const server = http.createServer((req, res) => {
    readBody(req)
      .then(({ body, tooLarge }) => {
        const rawPath = req.url ?? "/";
        const received: Received = {
          method: req.method ?? "GET",
          url: new URL(rawPath, "http://sandbox.invalid"),
          rawPath,
          headers: req.headers,
          body,
          tooLarge,
        };
        return route(parts, received, res);
      })
      .catch((error: unknown) => {
        parts.onError(`request failed: ${(error as Error).stack ?? String(error)}`);
        if (!res.headersSent) send(res, 500, { error: { code: "InternalServerError", message: "The sandbox failed." } });
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

async function route(parts: ServerParts, r: Received, res: http.ServerResponse): Promise<void> {
  const path = r.url.pathname;
  if (path === "/emails:send" || path === "/emails/operations" || path.startsWith("/emails/operations/")) {
    return acsRequest(parts, r, res);
  }
  const validation = /^\/eventsubscriptions\/([^/]+)\/validate$/.exec(path);
  if (validation && r.method === "GET") {
    const confirmed = parts.eventGrid.confirmValidation(r.url.searchParams.get("id") ?? "");
    if (!confirmed) return send(res, 404, { error: { code: "NotFound", message: "No validation is waiting for this code." } });
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end("Webhook successfully validated as a subscription endpoint.");
    return;
  }
  if (path === "/sandbox" || path.startsWith("/sandbox/")) return controlRequest(parts, r, res);
  send(res, 404, { error: { code: "NotFound", message: `No route for ${r.method} ${path}.` } });
}

async function acsRequest(parts: ServerParts, r: Received, res: http.ServerResponse): Promise<void> {
  const settings = parts.settings();
  if (settings.latencyMs > 0) await sleep(settings.latencyMs);
  const email = parts.email;
  if (r.tooLarge) {
    return answer(res, { status: 413, headers: { "x-ms-error-code": "RequestEntityTooLarge" }, body: { error: { code: "RequestEntityTooLarge", message: "The request is larger than 10 MB." } } });
  }
  const signature = checkSignature(
    { method: r.method, pathAndQuery: r.rawPath, headers: r.headers, body: r.body },
    parts.accessKey,
    settings.maxClockSkewSeconds,
  );
  if (!signature.ok) {
    const denied = email.unauthorized();
    denied.headers["x-sandbox-denied-reason"] = signature.reason;
    return answer(res, denied);
  }
  const apiVersion = r.url.searchParams.get("api-version");
  const badVersion = email.checkApiVersion(apiVersion);
  if (badVersion) return answer(res, badVersion);
  const fault = email.injectedFault();
  if (fault) return answer(res, fault);

  const path = r.url.pathname;
  if (path === "/emails:send") {
    if (r.method !== "POST") return send(res, 405, { error: { code: "MethodNotAllowed", message: "Use POST." } });
    const operationId = r.headers["operation-id"];
    return answer(res, email.send(r.body, apiVersion as string, Array.isArray(operationId) ? operationId[0] : operationId));
  }
  const id = decodeURIComponent(path.slice("/emails/operations/".length));
  if (r.method !== "GET" || id === "" || id.includes("/")) {
    return send(res, 404, { error: { code: "NotFound", message: `No route for ${r.method} ${path}.` } });
  }
  return answer(res, email.operation(id));
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString("utf8") || "{}") as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function controlRequest(parts: ServerParts, r: Received, res: http.ServerResponse): Promise<void> {
  const path = r.url.pathname.replace(/\/+$/, "");
  const method = r.method;
  const invalidBody = () => send(res, 400, { error: { code: "BadRequest", message: "The body must be a JSON object." } });

  if (path === "/sandbox" && method === "GET") return send(res, 200, parts.summary());
  if (path === "/sandbox/emails" && method === "GET") {
    const offset = Number(r.url.searchParams.get("offset") ?? 0) || 0;
    return send(res, 200, parts.email.listEmails(offset, limitParam(r.url, 100)));
  }
  const oneEmail = /^\/sandbox\/emails\/([^/]+)$/.exec(path);
  if (oneEmail && method === "GET") {
    const view = parts.email.getEmail(decodeURIComponent(oneEmail[1]));
    return view ? send(res, 200, view) : send(res, 404, { error: { code: "NotFound", message: "No such email." } });
  }
  if (path === "/sandbox/events/scheduled" && method === "GET") {
    return send(res, 200, parts.email.listScheduled(limitParam(r.url, 100)));
  }
  if (path === "/sandbox/events/delivered" && method === "GET") {
    return send(res, 200, parts.eventGrid.listDeliveries().slice(-limitParam(r.url, 100) || Infinity));
  }
  if (path === "/sandbox/tracking-requests" && method === "GET") {
    return send(res, 200, parts.tracker.list().slice(-limitParam(r.url, 100) || Infinity));
  }
  if (path === "/sandbox/dead-letters" && method === "GET") {
    return send(res, 200, parts.eventGrid.listDeadLetters().slice(-limitParam(r.url, 100) || Infinity));
  }
  if (path === "/sandbox/settings" && method === "GET") return send(res, 200, parts.settings());
  if (path === "/sandbox/settings" && (method === "PATCH" || method === "PUT")) {
    const change = parseJson(r.body);
    if (!change) return invalidBody();
    try {
      return send(res, 200, parts.configure(change));
    } catch (error) {
      if (error instanceof SandboxSettingsError) {
        return send(res, 400, { error: { code: "BadRequest", message: error.message, target: error.setting } });
      }
      throw error;
    }
  }
  if (path === "/sandbox/subscriptions" && method === "GET") return send(res, 200, parts.eventGrid.listSubscriptions());
  if (path === "/sandbox/subscriptions" && method === "POST") {
    const options = parseJson(r.body);
    if (!options) return invalidBody();
    try {
      return send(res, 201, await parts.eventGrid.subscribe(options as unknown as SubscriptionOptions));
    } catch (error) {
      if (error instanceof SubscriptionValidationError) {
        return send(res, 400, { error: { code: "SubscriptionValidationFailed", message: error.message } });
      }
      throw error;
    }
  }
  const oneSubscription = /^\/sandbox\/subscriptions\/([^/]+)$/.exec(path);
  if (oneSubscription && method === "DELETE") {
    const removed = parts.eventGrid.unsubscribe(decodeURIComponent(oneSubscription[1]));
    return removed ? send(res, 204, undefined) : send(res, 404, { error: { code: "NotFound", message: "No such subscription." } });
  }
  if (path === "/sandbox/reset" && method === "POST") {
    parts.reset();
    return send(res, 204, undefined);
  }
  send(res, 404, { error: { code: "NotFound", message: `No route for ${method} ${path}.` } });
}
