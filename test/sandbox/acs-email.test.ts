// The sandbox's ACS Email REST API, through the real @azure/communication-email client and through
// hand-signed requests: signature checks, validation, Message-ID, Operation-Id, quotas and faults.
import crypto from "node:crypto";
import { EmailClient, type EmailMessage } from "@azure/communication-email";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { signRequest, startSandbox, type Sandbox } from "../../src/sandbox/index.ts";

const FAST = { timeScale: 0.001, quotaPerMinute: null, quotaPerHour: null, seed: 7 } as const;

function message(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    senderAddress: "news@news.example.com",
    content: { subject: "November news", html: '<p>Hello <a href="https://shop.example.com/sale">sale</a></p>' },
    recipients: { to: [{ address: "ada@example.org", displayName: "Ada" }] },
    ...overrides,
  };
}

/** A request signed as the SDK signs it; `tamper` changes it after signing. */
async function signedFetch(
  sandbox: Sandbox,
  method: string,
  path: string,
  body: string,
  options: { date?: Date; key?: string; sendBody?: string; signedHost?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(path, sandbox.baseUrl);
  const signedUrl = new URL(url);
  if (options.signedHost) signedUrl.host = options.signedHost;
  const auth = signRequest(method, signedUrl, body, options.key ?? sandbox.accessKey, options.date);
  return fetch(url, {
    method,
    headers: { "content-type": "application/json", ...auth, ...options.headers },
    body: method === "GET" ? undefined : (options.sendBody ?? body),
  });
}

let sandbox: Sandbox;
let client: EmailClient;

beforeAll(async () => {
  sandbox = await startSandbox({ settings: FAST });
  client = new EmailClient(sandbox.connectionString, { allowInsecureConnection: true });
});
afterAll(async () => {
  await sandbox.stop();
});
beforeEach(() => {
  sandbox.reset();
  sandbox.configure({ ...FAST, failedShare: 0, faultShare: 0, lostResponseShare: 0, latencyMs: 0, operationSeconds: 5,
    retainedEmails: 10_000, retainedContentBytes: 64 * 1024 * 1024 });
});

describe("the real SDK against the sandbox", () => {
  test("sends, polls to Succeeded, and the sandbox records the email with its Message-ID and operation id", async () => {
    const operationId = crypto.randomUUID();
    const poller = await client.beginSend(
      message({
        recipients: { to: [{ address: "ada@example.org" }], cc: [{ address: "bob@example.org" }], bcc: [{ address: "cy@example.org" }] },
        headers: { "Message-ID": "<5b1e2f9a-6c7d@news.example.com>", "List-Unsubscribe": "<https://x.example.com/u>" },
      }),
      { operationId },
    );
    const result = await poller.pollUntilDone();
    expect(result).toMatchObject({ id: operationId, status: "Succeeded" });

    const email = sandbox.email(operationId);
    expect(email).toMatchObject({
      operationId,
      status: "Succeeded",
      internetMessageId: "<5b1e2f9a-6c7d@news.example.com>",
      sender: "news@news.example.com",
      subject: "November news",
      recipients: { to: ["ada@example.org"], cc: ["bob@example.org"], bcc: ["cy@example.org"] },
      apiVersion: "2025-09-01",
    });
    expect(email?.headers["List-Unsubscribe"]).toBe("<https://x.example.com/u>");
    // One delivery report per recipient is scheduled.
    await sandbox.whenIdle();
    expect(sandbox.stats().events.published).toBeGreaterThanOrEqual(3);
  });

  test("without Operation-Id the sandbox chooses one, and a Message-ID that is not RFC 2822 is replaced", async () => {
    const poller = await client.beginSend(message({ headers: { "Message-ID": "not-a-message-id@news.example.com" } }));
    const result = await poller.pollUntilDone();
    expect(result.status).toBe("Succeeded");
    const email = sandbox.email(result.id);
    expect(email?.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(email?.internetMessageId).toMatch(/^<[0-9a-f-]{36}@news\.example\.com>$/);
  });

  test("a Failed operation ends with EmailDropped", async () => {
    sandbox.configure({ failedShare: 1 });
    // beginSend polls once itself: on a slow machine the failure may surface there already.
    const sendAndWait = async () => (await client.beginSend(message())).pollUntilDone();
    await expect(sendAndWait()).rejects.toThrow(/EmailDropped/);
    const [email] = sandbox.emails();
    expect(email.status).toBe("Failed");
    // A dropped email produces no events.
    expect(sandbox.stats().events.scheduled).toBe(0);
  });

  test("a 429 with Retry-After is retried by the SDK, which re-signs, and then succeeds", async () => {
    // One send per scaled minute (0.05 x 60 s = 3 s): the second send, right after the first, is throttled.
    sandbox.configure({ timeScale: 0.05, quotaPerMinute: 1 });
    const statuses: number[] = [];
    const observing = new EmailClient(sandbox.connectionString, {
      allowInsecureConnection: true,
      additionalPolicies: [
        {
          position: "perRetry",
          policy: {
            name: "observe",
            async sendRequest(request, next) {
              const response = await next(request);
              if (request.url.includes("emails:send")) statuses.push(response.status);
              return response;
            },
          },
        },
      ],
    });
    const first = await observing.beginSend(message());
    const second = await observing.beginSend(message({ recipients: { to: [{ address: "bob@example.org" }] } }));
    expect((await first.pollUntilDone()).status).toBe("Succeeded");
    expect((await second.pollUntilDone()).status).toBe("Succeeded");
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 202)).toHaveLength(2);
    expect(sandbox.stats().emails).toMatchObject({ accepted: 2 });
    expect(sandbox.stats().emails.throttled).toBeGreaterThanOrEqual(1);
  });

  test("a wrong access key is rejected with 401 and an ACS-shaped error", async () => {
    const wrongKey = sandbox.connectionString.replace(/accesskey=.*$/, `accesskey=${crypto.randomBytes(32).toString("base64")}`);
    const intruder = new EmailClient(wrongKey, { allowInsecureConnection: true });
    await expect(intruder.beginSend(message())).rejects.toMatchObject({
      statusCode: 401,
      code: "Denied",
    });
    expect(sandbox.emails()).toHaveLength(0);
  });

  test("api-version 2023-03-31 is accepted too", async () => {
    const response = await signedFetch(sandbox, "POST", "/emails:send?api-version=2023-03-31", JSON.stringify(message()));
    expect(response.status).toBe(202);
    const location = response.headers.get("operation-location") ?? "";
    expect(location.startsWith(sandbox.baseUrl)).toBe(true);
    expect(new URL(location).searchParams.get("api-version")).toBe("2023-03-31");
  });
});

describe("signature checks", () => {
  const path = "/emails:send?api-version=2025-09-01";
  const body = JSON.stringify(message());

  test("a correctly signed request is accepted: 202 with id, status, Operation-Location and Retry-After", async () => {
    const response = await signedFetch(sandbox, "POST", path, body);
    expect(response.status).toBe(202);
    const json = (await response.json()) as { id: string; status: string };
    expect(json.status).toBe("Running");
    expect(response.headers.get("operation-location")).toBe(
      `${sandbox.baseUrl}emails/operations/${json.id}?api-version=2025-09-01`,
    );
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  test.each([
    ["a stale date", { date: new Date(Date.now() - 20 * 60_000) }],
    ["a date in the future", { date: new Date(Date.now() + 20 * 60_000) }],
    ["a tampered body", { sendBody: body.replace("November", "December") }],
    ["another Host than the one received", { signedHost: "acs.example.com" }],
    ["a wrong key", { key: crypto.randomBytes(32).toString("base64") }],
  ])("%s gets 401 Denied", async (_name, options) => {
    const response = await signedFetch(sandbox, "POST", path, body, options);
    expect(response.status).toBe(401);
    expect(response.headers.get("x-ms-error-code")).toBe("Denied");
    expect(await response.json()).toEqual({ error: { code: "Denied", message: "Denied by the resource provider." } });
    expect(sandbox.emails()).toHaveLength(0);
  });

  test("a request without Authorization gets 401", async () => {
    const response = await fetch(new URL(path, sandbox.baseUrl), { method: "POST", body });
    expect(response.status).toBe(401);
  });

  test("the query is part of what is signed", async () => {
    const url = new URL(path, sandbox.baseUrl);
    const auth = signRequest("POST", url, body, sandbox.accessKey);
    const response = await fetch(new URL("/emails:send?api-version=2023-03-31", sandbox.baseUrl), {
      method: "POST",
      headers: auth,
      body,
    });
    expect(response.status).toBe(401);
  });
});

describe("validation as ACS does it", () => {
  const path = "/emails:send?api-version=2025-09-01";
  async function send(m: unknown, headers: Record<string, string> = {}) {
    const response = await signedFetch(sandbox, "POST", path, JSON.stringify(m), { headers });
    return { status: response.status, body: (await response.json()) as { id?: string; error?: { code: string; target?: string } } };
  }

  test("at most 50 recipients", async () => {
    const to = Array.from({ length: 30 }, (_, i) => ({ address: `to${i}@example.org` }));
    const bcc = Array.from({ length: 21 }, (_, i) => ({ address: `bcc${i}@example.org` }));
    const tooMany = await send(message({ recipients: { to, bcc } }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: "BadRequest", target: "recipients" });
    expect((await send(message({ recipients: { to, bcc: bcc.slice(1) } }))).status).toBe(202);
  });

  test.each([
    ["no sender", { senderAddress: undefined }, "senderAddress"],
    ["no subject", { content: { subject: "", plainText: "x" } }, "content.subject"],
    ["no body", { content: { subject: "s" } }, "content"],
    ["an invalid address", { recipients: { to: [{ address: "not an address" }] } }, "recipients.to[0].address"],
    ["no recipients", { recipients: { to: [] } }, "recipients"],
    ["an attachment without content", { attachments: [{ name: "a.pdf", contentType: "application/pdf" }] }, "attachments[0].contentInBase64"],
    ["an attachment that is not base64", { attachments: [{ name: "a.pdf", contentType: "application/pdf", contentInBase64: "%%%" }] }, "attachments[0].contentInBase64"],
  ])("%s: 400", async (_name, change, target) => {
    const result = await send({ ...message(), ...change });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ code: "BadRequest", target });
  });

  test("a message with only bcc recipients is accepted", async () => {
    const result = await send(message({ recipients: { bcc: [{ address: "hidden@example.org" }] } }));
    expect(result.status).toBe(202);
    expect(sandbox.email(result.body.id as string)?.recipients).toEqual({ to: [], cc: [], bcc: ["hidden@example.org"] });
  });

  test("a body that is not JSON: 400; a body over 10 MB: 413", async () => {
    expect((await signedFetch(sandbox, "POST", path, "{not json")).status).toBe(400);
    const huge = JSON.stringify(
      message({ attachments: [{ name: "big.bin", contentType: "application/octet-stream", contentInBase64: "A".repeat(11 * 1024 * 1024) }] }),
    );
    expect((await signedFetch(sandbox, "POST", path, huge)).status).toBe(413);
  });

  test("an unsupported api-version: 400", async () => {
    const response = await signedFetch(sandbox, "POST", "/emails:send?api-version=2021-10-01", JSON.stringify(message()));
    expect(response.status).toBe(400);
    expect(response.headers.get("x-ms-error-code")).toBe("UnsupportedApiVersion");
  });

  test("x-ms-acsemail-validate-message-id: an invalid Message-ID is refused, a valid one kept, a reused one refused", async () => {
    const validate = { "x-ms-acsemail-validate-message-id": "true" };
    for (const invalidId of ["guid@domain.com", "<guid>", "<a b@domain.com>"]) {
      const result = await send(message({ headers: { ...validate, "Message-ID": invalidId } }));
      expect(result.status, invalidId).toBe(400);
      expect(result.body.error?.target).toBe("headers.Message-ID");
    }
    const ok = await send(message({ headers: { ...validate, "Message-ID": "<0d1c2b3a@news.example.com>" } }));
    expect(ok.status).toBe(202);
    expect(sandbox.email(ok.body.id as string)?.internetMessageId).toBe("<0d1c2b3a@news.example.com>");
    const again = await send(message({ subject: "x", headers: { ...validate, "Message-ID": "<0d1c2b3a@news.example.com>" } } as never));
    expect(again.status).toBe(400);
    // Without validation a reused Message-ID is accepted as given.
    const unvalidated = await send(message({ headers: { "Message-ID": "<0d1c2b3a@news.example.com>" } }));
    expect(unvalidated.status).toBe(202);
  });
});

describe("Operation-Id", () => {
  const path = "/emails:send?api-version=2025-09-01";

  test("the same request again under the same Operation-Id is answered like the first and sends nothing more", async () => {
    const operationId = crypto.randomUUID();
    const body = JSON.stringify(message());
    const first = await signedFetch(sandbox, "POST", path, body, { headers: { "Operation-Id": operationId } });
    const second = await signedFetch(sandbox, "POST", path, body, { headers: { "Operation-Id": operationId } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(((await second.json()) as { id: string }).id).toBe(operationId);
    expect(second.headers.get("operation-location")).toBe(first.headers.get("operation-location"));
    expect(sandbox.emails()).toHaveLength(1);
    expect(sandbox.stats().emails).toMatchObject({ accepted: 1, replays: 1 });
  });

  test("a different request under a used Operation-Id gets 409 Conflict", async () => {
    const operationId = crypto.randomUUID();
    await signedFetch(sandbox, "POST", path, JSON.stringify(message()), { headers: { "Operation-Id": operationId } });
    const other = JSON.stringify(message({ recipients: { to: [{ address: "bob@example.org" }] } }));
    const response = await signedFetch(sandbox, "POST", path, other, { headers: { "Operation-Id": operationId } });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("Conflict");
    expect(sandbox.email(operationId)?.recipients.to).toEqual(["ada@example.org"]);
  });

  test("an Operation-Id that is not a UUID: 400", async () => {
    const response = await signedFetch(sandbox, "POST", path, JSON.stringify(message()), { headers: { "Operation-Id": "campaign-1" } });
    expect(response.status).toBe(400);
  });

  test("polling an unknown operation: 404", async () => {
    const response = await signedFetch(sandbox, "GET", `/emails/operations/${crypto.randomUUID()}?api-version=2025-09-01`, "");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NotFound");
  });
});

describe("faults", () => {
  test("faultShare 1 answers every send with 500 or 503 and accepts nothing", async () => {
    sandbox.configure({ faultShare: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const response = await signedFetch(sandbox, "POST", "/emails:send?api-version=2025-09-01", JSON.stringify(message()));
      statuses.add(response.status);
      expect((await response.json()) as object).toHaveProperty("error.code");
    }
    expect([...statuses].sort()).toEqual([500, 503]);
    expect(sandbox.emails()).toHaveLength(0);
  });

  test("lostResponseShare 1 accepts the email but answers 500: a retry with the same Operation-Id finds it", async () => {
    sandbox.configure({ lostResponseShare: 1 });
    const operationId = crypto.randomUUID();
    const body = JSON.stringify(message());
    const headers = { "Operation-Id": operationId };
    const lost = await signedFetch(sandbox, "POST", "/emails:send?api-version=2025-09-01", body, { headers });
    expect(lost.status).toBe(500);
    sandbox.configure({ lostResponseShare: 0 });
    const retried = await signedFetch(sandbox, "POST", "/emails:send?api-version=2025-09-01", body, { headers });
    expect(retried.status).toBe(202);
    expect(sandbox.emails().map((e) => e.operationId)).toEqual([operationId]);
  });

  test("latencyMs delays the answers", async () => {
    sandbox.configure({ latencyMs: 300 });
    const started = Date.now();
    await signedFetch(sandbox, "POST", "/emails:send?api-version=2025-09-01", JSON.stringify(message()));
    // A lower bound only: the machine may be slow, never faster than the added latency.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("operation status", () => {
  const path = "/emails:send?api-version=2025-09-01";

  /** A client that records every response it gets: method, status, body status and Retry-After. */
  function observingClient() {
    const seen: { method: string; status: number; body: string; retryAfter: string | undefined }[] = [];
    const observing = new EmailClient(sandbox.connectionString, {
      allowInsecureConnection: true,
      additionalPolicies: [
        {
          position: "perRetry",
          policy: {
            name: "observe",
            async sendRequest(request, next) {
              const response = await next(request);
              seen.push({
                method: request.method,
                status: response.status,
                body: (JSON.parse(response.bodyAsText ?? "{}") as { status?: string }).status ?? "",
                retryAfter: response.headers.get("retry-after"),
              });
              return response;
            },
          },
        },
      ],
    });
    return { observing, seen };
  }

  test("with timeScale 0 the 202 still says Running with Retry-After; the first poll says Succeeded without it", async () => {
    sandbox.configure({ timeScale: 0 });
    const response = await signedFetch(sandbox, "POST", path, JSON.stringify(message()));
    expect(response.status).toBe(202);
    const { id, status } = (await response.json()) as { id: string; status: string };
    expect(status).toBe("Running");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const location = response.headers.get("operation-location") as string;
    const poll = await signedFetch(sandbox, "GET", location.slice(sandbox.baseUrl.length - 1), "");
    expect(poll.status).toBe(200);
    expect(await poll.json()).toEqual({ id, status: "Succeeded" });
    expect(poll.headers.get("retry-after")).toBeNull();
  });

  test("a replay of a finished operation is answered 202 Running too", async () => {
    sandbox.configure({ timeScale: 0 });
    const headers = { "Operation-Id": crypto.randomUUID() };
    const body = JSON.stringify(message());
    await signedFetch(sandbox, "POST", path, body, { headers });
    const replay = await signedFetch(sandbox, "POST", path, body, { headers });
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as { status: string }).status).toBe("Running");
    expect(replay.headers.get("retry-after")).not.toBeNull();
  });

  test("polling says Running with Retry-After (whole seconds until the end) while the operation runs", async () => {
    sandbox.configure({ timeScale: 1, operationSeconds: 120 });
    const response = await signedFetch(sandbox, "POST", path, JSON.stringify(message()));
    const { id } = (await response.json()) as { id: string };
    const poll = await signedFetch(sandbox, "GET", `/emails/operations/${id}?api-version=2025-09-01`, "");
    expect(await poll.json()).toEqual({ id, status: "Running" });
    const retryAfter = Number(poll.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(100);
    expect(retryAfter).toBeLessThanOrEqual(120);
  });

  test("the SDK's poller with timeScale 0: one 202 Running, one poll Succeeded, no wait", async () => {
    sandbox.configure({ timeScale: 0 });
    const { observing, seen } = observingClient();
    const started = Date.now();
    const result = await (await observing.beginSend(message())).pollUntilDone();
    expect(result.status).toBe("Succeeded");
    expect(seen).toEqual([
      { method: "POST", status: 202, body: "Running", retryAfter: "1" },
      { method: "GET", status: 200, body: "Succeeded", retryAfter: undefined },
    ]);
    // No Retry-After was waited (the SDK waits at least 1 s when it is told to).
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("the SDK's poller with timeScale 1: polls Running after Retry-After and completes when the operation ends", async () => {
    sandbox.configure({ timeScale: 1, operationSeconds: 1 });
    const { observing, seen } = observingClient();
    const started = Date.now();
    const result = await (await observing.beginSend(message())).pollUntilDone();
    const elapsed = Date.now() - started;
    expect(result.status).toBe("Succeeded");
    expect(seen[0]).toMatchObject({ method: "POST", status: 202, body: "Running", retryAfter: "1" });
    const polls = seen.slice(1);
    expect(polls.at(-1)).toEqual({ method: "GET", status: 200, body: "Succeeded", retryAfter: undefined });
    for (const poll of polls.slice(0, -1)) expect(poll).toMatchObject({ method: "GET", body: "Running", retryAfter: "1" });
    // The operation lasts 1 s; the SDK waits the 1 s Retry-After once, not its default 2 s interval.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe("what the sandbox keeps of an email", () => {
  const path = "/emails:send?api-version=2025-09-01";

  test("subject, HTML, plain text and headers as received: in email(id) and GET /sandbox/emails/{id}, not in the list", async () => {
    const html = '<p>Hello <a href="https://shop.example.com/sale?a=1&amp;b=2">sale</a> ünïcödé</p>';
    const plainText = "Hello, sale: https://shop.example.com/sale?a=1&b=2";
    const poller = await client.beginSend(
      message({
        content: { subject: "Kept as sent", html, plainText },
        headers: { "Message-ID": "<kept-1@news.example.com>", "List-Unsubscribe": "<https://x.example.com/u/1>", "X-Campaign": "7" },
      }),
    );
    const { id } = await poller.pollUntilDone();

    const email = sandbox.email(id);
    expect(email?.content).toEqual({ subject: "Kept as sent", html, plainText });
    expect(email?.headers).toEqual({
      "Message-ID": "<kept-1@news.example.com>",
      "List-Unsubscribe": "<https://x.example.com/u/1>",
      "X-Campaign": "7",
    });

    const one = (await (await fetch(`${sandbox.controlUrl}/emails/${id}`)).json()) as Record<string, unknown>;
    expect(one.content).toEqual({ subject: "Kept as sent", html, plainText });
    expect(one.headers).toMatchObject({ "X-Campaign": "7" });

    // Listing stays cheap: metadata and headers, no content.
    const listed = (await (await fetch(`${sandbox.controlUrl}/emails`)).json()) as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty("content");
    expect(listed[0]).toMatchObject({ operationId: id, subject: "Kept as sent" });
    expect(sandbox.emails()[0]).not.toHaveProperty("content");
  });

  test("a message with HTML only keeps plainText null, and one with plain text only keeps html null", async () => {
    const htmlOnly = await signedFetch(sandbox, "POST", path, JSON.stringify(message({ content: { subject: "h", html: "<p>x</p>" } })));
    const textOnly = await signedFetch(sandbox, "POST", path, JSON.stringify(message({ content: { subject: "t", plainText: "x" } })));
    const [h, t] = [(await htmlOnly.json()) as { id: string }, (await textOnly.json()) as { id: string }];
    expect(sandbox.email(h.id)?.content).toEqual({ subject: "h", html: "<p>x</p>", plainText: null });
    expect(sandbox.email(t.id)?.content).toEqual({ subject: "t", html: null, plainText: "x" });
  });

  test("memory stays bounded: content of the oldest emails is dropped beyond retainedContentBytes, emails beyond retainedEmails", async () => {
    // Each email's content: subject (2 bytes) + 1000 bytes of HTML + 0 of text = 1002 bytes.
    sandbox.configure({ retainedContentBytes: 3500, retainedEmails: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const body = JSON.stringify(message({ content: { subject: `s${i}`, html: `<p>${String(i).repeat(993)}</p>` } }));
      ids.push(((await (await signedFetch(sandbox, "POST", path, body)).json()) as { id: string }).id);
    }
    // Only the newest 4 emails are retained, and of those the newest 3 keep their content (3 x 1002 <= 3500).
    expect(sandbox.emails().map((e) => e.operationId)).toEqual(ids.slice(2));
    expect(sandbox.email(ids[0])).toBeUndefined();
    expect(sandbox.email(ids[2])?.content).toBeNull();
    for (const id of ids.slice(3)) expect(sandbox.email(id)?.content?.html).toHaveLength(1000);
    expect(sandbox.stats().emails.retainedContentBytes).toBe(3 * 1002);

    // An email larger than the whole budget keeps none, and takes nothing from the others.
    const big = JSON.stringify(message({ content: { subject: "big", html: "x".repeat(5000) } }));
    const bigId = ((await (await signedFetch(sandbox, "POST", path, big)).json()) as { id: string }).id;
    expect(sandbox.email(bigId)?.content).toBeNull();
    expect(sandbox.email(ids[5])?.content).not.toBeNull();
    expect(sandbox.stats().emails.retainedContentBytes).toBeLessThanOrEqual(3500);

    // Metadata (subject, headers) of a retained email stays when its content is dropped.
    expect(sandbox.email(ids[3])?.subject).toBe("s3");

    sandbox.reset();
    expect(sandbox.stats().emails.retainedContentBytes).toBe(0);
  });
});
