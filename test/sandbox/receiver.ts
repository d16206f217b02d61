// A webhook receiver for the sandbox's tests: records every request as received and answers as told.
// By default it completes both handshakes (Event Grid schema and CloudEvents) and accepts events.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string> };

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests carrying events (not handshakes). */
  notifications(): ReceivedRequest[];
  /** Decides the answer to a notification; default 200. */
  answer: (request: ReceivedRequest, index: number) => Reply;
  close(): Promise<void>;
}

export function handshakeReply(request: ReceivedRequest): Reply | undefined {
  if (request.method === "OPTIONS") {
    return { status: 200, headers: { "WebHook-Allowed-Origin": String(request.headers["webhook-request-origin"]) } };
  }
  if (request.headers["aeg-event-type"] === "SubscriptionValidation") {
    const [event] = JSON.parse(request.body) as { data: { validationCode: string } }[];
    return { status: 200, body: JSON.stringify({ validationResponse: event.data.validationCode }) };
  }
  return undefined;
}

export async function startReceiver(path = "/webhooks/acs?code=test-secret"): Promise<Receiver> {
  let notificationCount = 0;
  const receiver: Receiver = {
    url: "",
    requests: [],
    notifications: () => receiver.requests.filter((r) => r.headers["aeg-event-type"] === "Notification"),
    answer: () => ({ status: 200 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      receiver.requests.push(request);
      const reply = handshakeReply(request) ?? receiver.answer(request, notificationCount++);
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}

/** Polls `condition` until it holds (generous timeout: the machine may be busy). */
export async function eventually(condition: () => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
