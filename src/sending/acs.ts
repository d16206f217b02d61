// One ACS Email resource as the send task sees it: send a message under the ledger's operation id, and
// look an operation up. Both answer with an outcome, never by throwing, so the caller records it as is.
//
// - The SDK's own retries are off (retryOptions.maxRetries = 0): a 5xx, timeout or network error must be
//   looked up before any new attempt, which the SDK's retry would not do; 429s pause the sender instead.
// - beginSend sends the request and then polls the operation once. A 202 is all we need (the delivery
//   outcome arrives through Event Grid), so once the 202 has been read onResponse throws a constant marker
//   that ends beginSend there: the poll is never sent. One request per message, no polling quota used, no
//   worker slot held. (Aborting the request instead, as before, cost an AbortError and a DOMException with
//   their stacks for every message: about a quarter of the SDK's CPU time per send.)
// - The SDK has no call for GET /emails/operations/{id}; resuming a poller from that location makes
//   exactly that request, signed like every other.
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { parseAcsConnectionString } from "../config.ts";
import { acsSendResults } from "../metrics.ts";

export type SendOutcome =
  | { outcome: "accepted" }
  | { outcome: "failed"; code: string; error: string }
  | { outcome: "throttled"; code: string; error: string; retryAfterMs: number }
  | { outcome: "unknown"; code?: string; error: string };

export type LookUpOutcome = { outcome: "accepted" } | { outcome: "not_found" } | { outcome: "unknown"; code?: string; error: string };

interface RestErrorLike {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

/** Milliseconds from Retry-After (seconds or an HTTP date) or retry-after-ms; 1 s when absent. */
function retryAfterMs(error: RestErrorLike): number {
  const headers = error.response?.headers;
  const ms = Number(headers?.get("retry-after-ms") ?? headers?.get("x-ms-retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get("retry-after");
  if (value !== undefined) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.max(1000, seconds * 1000);
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(1000, date - Date.now());
  }
  return 1000;
}

/** Thrown from onResponse once ACS has answered 2xx to a send: a constant, so nothing is allocated per message. */
const ACCEPTED = Object.freeze({ accepted: true });

export class AcsResource {
  readonly endpoint: string;
  private readonly client: EmailClient;

  constructor(connectionString: string) {
    this.endpoint = parseAcsConnectionString(connectionString).endpoint;
    this.client = new EmailClient(connectionString, {
      allowInsecureConnection: this.endpoint.startsWith("http://"),
      retryOptions: { maxRetries: 0 },
    });
  }

  async send(message: EmailMessage, operationId: string, timeoutMs: number): Promise<SendOutcome> {
    const result = await this.request(message, operationId, timeoutMs);
    acsSendResults.inc({ outcome: result.outcome });
    return result;
  }

  private async request(message: EmailMessage, operationId: string, timeoutMs: number): Promise<SendOutcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      await this.client.beginSend(message, {
        operationId,
        abortSignal: controller.signal,
        onResponse: (response) => {
          if (response.status >= 200 && response.status < 300) throw ACCEPTED;
        },
      });
      return { outcome: "accepted" };
    } catch (caught) {
      if (caught === ACCEPTED) return { outcome: "accepted" };
      const error = caught as RestErrorLike;
      const status = error.statusCode;
      const code = error.code ?? (status ? `HTTP${status}` : error.name ?? "Error");
      const text = error.name === "AbortError" ? `no answer within ${timeoutMs} ms` : (error.message ?? String(caught));
      if (status === 429) return { outcome: "throttled", code, error: text, retryAfterMs: retryAfterMs(error) };
      // A refused key or permission is the sender's configuration, not the message: pause, don't fail.
      if (status === 401 || status === 403) return { outcome: "throttled", code, error: text, retryAfterMs: 60_000 };
      if (status !== undefined && status >= 400 && status < 500 && status !== 408) return { outcome: "failed", code, error: text };
      return { outcome: "unknown", code, error: text };
    } finally {
      clearTimeout(timer);
    }
  }

  async lookUp(operationId: string, timeoutMs: number): Promise<LookUpOutcome> {
    const location = new URL(`emails/operations/${encodeURIComponent(operationId)}`, this.endpoint);
    location.searchParams.set("api-version", "2025-09-01");
    const state = { state: { status: "running", config: { metadata: { mode: "OperationLocation" }, operationLocation: location.href } } };
    let found = false;
    try {
      await this.client.beginSend({} as EmailMessage, {
        resumeFrom: JSON.stringify(state),
        abortSignal: AbortSignal.timeout(timeoutMs),
        onResponse: (response) => {
          if (response.status === 200) found = true;
        },
      });
      return { outcome: "accepted" };
    } catch (caught) {
      // Found: ACS knows the operation, whatever its status (a Failed operation throws after the 200).
      if (found) return { outcome: "accepted" };
      const error = caught as RestErrorLike;
      if (error.statusCode === 404) return { outcome: "not_found" };
      return {
        outcome: "unknown",
        code: error.code ?? error.name,
        error: `look-up failed: ${error.name === "TimeoutError" || error.name === "AbortError" ? `no answer within ${timeoutMs} ms` : error.message}`,
      };
    }
  }
}
