// The preview of a campaign is what the send task sends: rendered before the start, then sent, the sandbox's copy
// equals it byte for byte once the per-message parts (the operation id inside the unsubscribe and tracking tokens,
// the Message-ID) are put back. The CLI writes it to files (the .eml a MIME multipart/alternative message) or
// prints it; GraphQL serves it to admins and analysts, not without a key. Template errors name part, line and
// placeholder, with the same messages in SQL (app_public.template_errors) and in the renderer.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { formatAddress, previewCampaign, previewEml, quotedPrintable, type CampaignPreview, type PreviewSettings } from "../src/sending/preview.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { compileCampaign, templateErrors, TemplateError } from "../src/sending/template.ts";
import { storedUnsubscribeSecret, unsubscribeToken, verifyUnsubscribeToken } from "../src/sending/unsubscribe-token.ts";
import { loadTrackingKeys, type TrackingKeys } from "../src/tracking/token.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";
import { runMailroom } from "./helpers/process.ts";
import { createCampaign, createList, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";

const PUBLIC_URL = "https://mailroom.example.com";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;
const query = (text: string, values?: unknown[]) => db.pool.query(text, values);

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001 } });
  // No secrets configured: the preview and the send task both use the ones kept in the database.
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: PUBLIC_URL, unsubscribeSecret: undefined, trackingSecrets: undefined });
});

afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
});

/** A sender with a display name and engagement tracking, a list of `count` people, a campaign with links in both parts. */
async function trackedCampaign(tracking: "azure" | "mailroom" | "both" | "off", count = 3): Promise<{ campaignId: string; listId: string }> {
  const senderId = await createSender(db.pool);
  await db.pool.query("update app_public.senders set display_name = 'The News', engagement_tracking = $2 where id = $1", [senderId, tracking]);
  const listId = await createList(db.pool, count);
  await db.pool.query(
    `update app_public.subscribers set name = 'Zoé O''Brien', attributes = '{"city": "Lyon & Co"}'
     where id = (select min(subscriber_id) from app_public.list_memberships where list_id = $1)`,
    [listId],
  );
  const campaignId = await createCampaign(db.pool, {
    senderId,
    listIds: [listId],
    subject: "News for {{ subscriber.name }} ({{ list.name }})",
    html:
      '<html><body><h1>Hello {{ subscriber.name }}</h1><p>From {{ subscriber.attributes.city }}: <a href="https://example.org/read?a=1&amp;b=2">Read</a>' +
      ' <a href="https://example.org/more">More</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
    text: "Hello {{ subscriber.name }}\nRead https://example.org/read?a=1&b=2.\nLeave: {{ unsubscribe_url }}\n",
  });
  return { campaignId, listId };
}

/**
 * The preview with its per-message parts made the real message's: each tracking token verified (it must name the
 * preview's operation id) and signed again for the message's operation id with the same kind, link and URL; the
 * unsubscribe URL signed for the message. Nothing else is changed.
 */
function asMessage(text: string, previewOperationId: string, messageOperationId: string, keys: TrackingKeys, secret: string): string {
  const previewUnsubscribe = `${PUBLIC_URL}/unsubscribe/${unsubscribeToken(secret, previewOperationId)}`;
  const messageUnsubscribe = `${PUBLIC_URL}/unsubscribe/${unsubscribeToken(secret, messageOperationId)}`;
  return text
    .replaceAll(previewUnsubscribe, messageUnsubscribe)
    .replace(/\/t\/([oc])\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/g, (_whole, kind: string, token: string) => {
      const hit = keys.verify(token, ["open", "click", "honeypot"]);
      if (!hit || hit.operationId !== previewOperationId) throw new Error(`a tracking token of the preview names another message: ${token}`);
      return `/t/${kind}/${keys.sign(hit.kind, messageOperationId, hit.link, hit.url)}`;
    });
}

function header(preview: CampaignPreview, name: string): string | undefined {
  return preview.headers.find((h) => h.name === name)?.value;
}

function operationIdOf(preview: CampaignPreview, secret: string): string {
  const url = /^<(.+)>$/.exec(header(preview, "List-Unsubscribe") ?? "")![1];
  const operationId = verifyUnsubscribeToken(secret, url.split("/unsubscribe/")[1]);
  if (!operationId) throw new Error(`the preview's List-Unsubscribe is not signed with the database's secret: ${url}`);
  return operationId;
}

interface SandboxEmail {
  operationId: string;
  internetMessageId: string;
  sender: string;
  subject: string;
  recipients: { to: string[] };
  replyTo: string[];
  headers: Record<string, string>;
  userEngagementTrackingDisabled: boolean;
  content: { subject: string; html: string | null; plainText: string | null } | null;
}

describe("preview exactly as sent", () => {
  for (const tracking of ["mailroom", "azure"] as const) {
    it(`${tracking} tracking: the sandbox receives the preview's subject, HTML, text and headers, but for the per-message ids`, async () => {
      const { campaignId } = await trackedCampaign(tracking);
      const { rows: people } = await db.pool.query(
        "select s.id::text, s.email from app_public.subscribers as s join app_public.list_memberships as lm on lm.subscriber_id = s.id join app_public.campaign_lists as cl on cl.list_id = lm.list_id where cl.campaign_id = $1 order by s.id",
        [campaignId],
      );
      expect(people).toHaveLength(3);
      // Previews before the start: the first by id (the sample too), the second by email in another case.
      const previews = [
        await previewCampaign(query, campaignId, { id: people[0].id }, settings),
        await previewCampaign(query, campaignId, { email: people[1].email.toUpperCase() }, settings),
      ];
      const sample = await previewCampaign(query, campaignId, undefined, settings);
      expect(sample.sample).toBe(true);
      expect(sample.recipient.subscriberId).toBe(people[0].id);
      expect(previews.map((p) => p.recipient.email)).toEqual([people[0].email, people[1].email]);
      expect(previews.every((p) => p.recipient.eligible && !p.sample)).toBe(true);

      await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
      await runSending(db.pool, settings);
      const { rows: messages } = await db.pool.query(
        "select subscriber_id::text, operation_id::text, internet_message_id, send_status from app_public.messages where campaign_id = $1 order by subscriber_id",
        [campaignId],
      );
      expect(messages.map((m) => m.send_status)).toEqual(["accepted", "accepted", "accepted"]);

      const secret = await storedUnsubscribeSecret(query);
      const keys = await loadTrackingKeys(query, undefined);
      for (const [i, preview] of previews.entries()) {
        const message = messages.find((m) => m.subscriber_id === preview.recipient.subscriberId)!;
        const response = await fetch(`${sandbox.controlUrl}/emails/${message.operation_id}`);
        expect(response.status).toBe(200);
        const sent = (await response.json()) as SandboxEmail;
        const previewOperationId = operationIdOf(preview, secret);
        expect(previewOperationId).not.toBe(message.operation_id);
        const real = (text: string) => asMessage(text, previewOperationId, message.operation_id, keys, secret);

        expect(sent.content!.subject).toBe(preview.subject);
        expect(sent.content!.html).toBe(real(preview.html!));
        expect(sent.content!.plainText).toBe(real(preview.text));
        // The preview differs from what was sent only where it must: put back, the same; left, not the same.
        expect(preview.html).not.toBe(sent.content!.html);

        // Headers: From, To and Subject as the request carried them; every custom header, the Message-ID put back.
        expect(header(preview, "From")).toBe(`The News <${sent.sender}>`);
        expect(header(preview, "To")).toBe(i === 0 ? `Zoé O'Brien <${sent.recipients.to[0]}>` : `Person 2 <${sent.recipients.to[0]}>`);
        expect(header(preview, "Subject")).toBe(sent.subject);
        expect(header(preview, "Reply-To")).toBeUndefined();
        expect(sent.replyTo).toEqual([]);
        const custom = Object.fromEntries(
          preview.headers
            .filter((h) => !["From", "To", "Subject"].includes(h.name))
            .map((h) => [h.name, h.name === "Message-ID" ? message.internet_message_id : real(h.value)]),
        );
        expect(custom).toEqual(sent.headers);
        expect(Object.keys(custom)).toEqual(["Message-ID", "x-ms-acsemail-validate-message-id", "List-Unsubscribe", "List-Unsubscribe-Post"]);
        expect(header(preview, "Message-ID")).toMatch(/^<[0-9a-f-]{36}@mail\.example\.com>$/);
        expect(header(preview, "Message-ID")).not.toBe(message.internet_message_id);

        expect(preview.engagementTracking).toEqual({ mode: tracking, mailroomTracking: tracking === "mailroom", azureTrackingDisabled: tracking === "mailroom" });
        expect(sent.userEngagementTrackingDisabled).toBe(preview.engagementTracking.azureTrackingDisabled);
      }
      // What personalisation and tracking did, to be sure the comparison compared something.
      const first = previews[0];
      expect(first.subject).toMatch(/^News for Zoé O'Brien \(r[a-z0-9]+\)$/);
      expect(first.html).toContain("<h1>Hello Zoé O&#39;Brien</h1><p>From Lyon &amp; Co:");
      const tracked = (first.html!.match(/\/t\/c\//g) ?? []).length;
      expect(tracked).toBe(tracking === "mailroom" ? 3 : 0); // two links and the honeypot
      expect((first.html!.match(/\/t\/o\//g) ?? []).length).toBe(tracking === "mailroom" ? 1 : 0);
      expect(first.html).toContain(`href="${PUBLIC_URL}/unsubscribe/`);
    });
  }

  it("without eligible recipients: a made-up sample person, and the preview says so; unknown ids are not found", async () => {
    const { campaignId, listId } = await trackedCampaign("azure", 1);
    await db.pool.query("update app_public.list_memberships set status = 'unsubscribed' where list_id = $1", [listId]);
    const preview = await previewCampaign(query, campaignId, undefined, settings);
    expect(preview.sample).toBe(true);
    expect(preview.recipient).toMatchObject({ subscriberId: null, email: "sample@example.com", name: "Sample Person", eligible: false });
    expect(preview.notes.join("\n")).toMatch(/made-up sample person/);
    const { rows } = await db.pool.query("select subscriber_id::text from app_public.list_memberships where list_id = $1", [listId]);
    const named = await previewCampaign(query, campaignId, { id: rows[0].subscriber_id }, settings);
    expect(named.recipient.eligible).toBe(false);
    expect(named.notes.join("\n")).toMatch(/would not receive this campaign/);
    await expect(previewCampaign(query, campaignId, { id: "999999999" }, settings)).rejects.toThrow("subscriber 999999999 does not exist");
    await expect(previewCampaign(query, "999999999", undefined, settings)).rejects.toThrow("campaign 999999999 does not exist");
  });
});

/** A minimal reading of a MIME message: header fields (unfolded) and, for multipart, the parts' headers and decoded bodies. */
function parseMime(raw: string): { headers: Map<string, string>; parts: { headers: Map<string, string>; body: string }[] } {
  const split = (entity: string) => {
    const at = entity.indexOf("\r\n\r\n");
    const headers = new Map<string, string>();
    for (const field of entity.slice(0, at).replace(/\r\n[ \t]/g, " ").split("\r\n")) {
      const colon = field.indexOf(":");
      headers.set(field.slice(0, colon).toLowerCase(), field.slice(colon + 1).trim());
    }
    return { headers, body: entity.slice(at + 4) };
  };
  const decodeQp = (body: string) =>
    Buffer.from(
      body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      "latin1",
    ).toString("utf8");
  const top = split(raw);
  const boundary = /boundary="([^"]+)"/.exec(top.headers.get("content-type") ?? "")?.[1];
  if (!boundary) return { headers: top.headers, parts: [] };
  const sections = top.body.split(`--${boundary}`);
  expect(sections.at(-1)).toBe("--\r\n"); // the closing delimiter ends the message
  const parts = sections.slice(1, -1).map((section) => {
    const part = split(section.replace(/^\r\n/, "").replace(/\r\n$/, ""));
    expect(part.headers.get("content-transfer-encoding")).toBe("quoted-printable");
    return { headers: part.headers, body: decodeQp(part.body).replace(/\r\n/g, "\n") };
  });
  return { headers: top.headers, parts };
}

describe("the CLI: mailroom campaigns preview", () => {
  async function mailroom(...args: string[]): Promise<{ code: number | string; stdout: string; output: string }> {
    const child = runMailroom(args, {
      ...commandEnvironment(db),
      LOG_LEVEL: "warn",
      PUBLIC_URL,
    });
    let stdout = "";
    child.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    const code = await child.exited;
    return { code, stdout, output: child.output() };
  }

  it("--out writes headers.txt, message.txt, message.html and message.eml (multipart/alternative); --json and stdout say the same", async () => {
    const { campaignId, listId } = await trackedCampaign("both");
    const { rows } = await db.pool.query("select s.email from app_public.subscribers as s join app_public.list_memberships as lm on lm.subscriber_id = s.id where lm.list_id = $1 order by s.id limit 1", [listId]);
    const email = rows[0].email as string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-preview-"));
    try {
      const written = await mailroom("campaigns", "preview", campaignId, "--subscriber", email, "--out", dir, "--json");
      expect(written.code, written.output).toBe(0);
      const json = JSON.parse(written.stdout);
      expect(json.files).toEqual(["headers.txt", "message.txt", "message.html", "message.eml"].map((f) => path.join(dir, f)));
      expect(fs.readdirSync(dir).sort()).toEqual(["headers.txt", "message.eml", "message.html", "message.txt"]);
      expect(json.recipient).toMatchObject({ email, name: "Zoé O'Brien", eligible: true });
      expect(json.sample).toBe(false);
      expect(json.engagementTracking).toEqual({ mode: "both", mailroomTracking: true, azureTrackingDisabled: false });
      expect(Object.keys(json).sort()).toEqual(["campaignId", "engagementTracking", "files", "headers", "html", "notes", "recipient", "sample", "subject", "text"]);

      const html = fs.readFileSync(path.join(dir, "message.html"), "utf8");
      const text = fs.readFileSync(path.join(dir, "message.txt"), "utf8");
      expect(html).toBe(json.html);
      expect(text).toBe(json.text);
      expect(html).toContain(`${PUBLIC_URL}/t/o/`);
      const headerLines = fs.readFileSync(path.join(dir, "headers.txt"), "utf8").trimEnd().split("\n");
      expect(headerLines).toEqual(json.headers.map((h: { name: string; value: string }) => `${h.name}: ${h.value}`));
      expect(headerLines.map((l) => l.split(":")[0])).toEqual(["From", "To", "Subject", "Message-ID", "x-ms-acsemail-validate-message-id", "List-Unsubscribe", "List-Unsubscribe-Post"]);

      const eml = fs.readFileSync(path.join(dir, "message.eml"), "utf8");
      expect(eml.split("\r\n").every((line) => line.length <= 998)).toBe(true);
      expect(eml.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/); // CRLF line breaks only
      const mime = parseMime(eml);
      expect(mime.headers.get("mime-version")).toBe("1.0");
      expect(mime.headers.get("content-type")).toMatch(/^multipart\/alternative; boundary="/);
      expect(mime.headers.get("message-id")).toBe(json.headers.find((h: { name: string }) => h.name === "Message-ID").value);
      expect(mime.headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
      // Non-ASCII names and subjects travel as RFC 2047 encoded words.
      expect(mime.headers.get("to")).toBe(`=?UTF-8?B?${Buffer.from("Zoé O'Brien").toString("base64")}?= <${email}>`);
      expect(mime.headers.get("subject")).toMatch(/^=\?UTF-8\?B\?/);
      expect(mime.parts.map((p) => p.headers.get("content-type"))).toEqual(["text/plain; charset=utf-8", "text/html; charset=utf-8"]);
      expect(mime.parts[0].body).toBe(text.replace(/\r\n/g, "\n"));
      expect(mime.parts[1].body).toBe(html);

      // Without --out: headers, then the text, then the HTML, on stdout.
      const printed = await mailroom("campaigns", "preview", campaignId, "--subscriber", email);
      expect(printed.code, printed.output).toBe(0);
      const at = (s: string) => printed.stdout.indexOf(s);
      expect(at("----- Headers")).toBeGreaterThan(0);
      expect(at("From: The News <")).toBeGreaterThan(at("----- Headers"));
      expect(at("----- Text")).toBeGreaterThan(at("From: The News <"));
      expect(at("Hello Zoé O'Brien\nRead ")).toBeGreaterThan(at("----- Text"));
      expect(at("----- HTML")).toBeGreaterThan(at("Hello Zoé O'Brien\nRead "));
      expect(at("<h1>Hello Zoé O&#39;Brien</h1>")).toBeGreaterThan(at("----- HTML"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exit 4 with every template error (part, line, placeholder); 3 for what does not exist; 2 for a malformed --subscriber", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 1);
    const campaignId = await createCampaign(db.pool, {
      senderId,
      listIds: [listId],
      subject: "Hi {{ subscriber.nme }}",
      html: "<p>Hello</p>\n<p>{{ subscriber.name }}</p>\n\n<p>{{ subscriber.nmae }} {{ oops</p>",
    });
    const bad = await mailroom("campaigns", "preview", campaignId);
    expect(bad.code).toBe(4);
    expect(bad.output).toContain(
      [
        `campaign ${campaignId} has template errors:`,
        'subject line 1: unknown field "subscriber.nme" in {{ subscriber.nme }}',
        'html line 4: unknown field "subscriber.nmae" in {{ subscriber.nmae }}',
        'html line 4: unbalanced braces: "{{" outside a {{ field }}',
      ].join("\n"),
    );
    expect((await mailroom("campaigns", "preview", "999999999")).code).toBe(3);
    const good = await createCampaign(db.pool, { senderId, listIds: [listId] });
    expect((await mailroom("campaigns", "preview", good, "--subscriber", "nobody@example.net")).code).toBe(3);
    expect((await mailroom("campaigns", "preview", campaignId, "--subscriber", "someone")).code).toBe(2);
  });
});

describe("GraphQL: campaignPreview", () => {
  let api: GraphqlServer;
  const PREVIEW = `query($campaignId: BigInt!, $subscriberId: BigInt, $email: String) {
    campaignPreview(campaignId: $campaignId, subscriberId: $subscriberId, email: $email) {
      campaignId sample subject html text notes
      recipient { subscriberId email name listId listName eligible }
      headers { name value }
      engagementTracking { mode mailroomTracking azureTrackingDisabled }
    }
  }`;

  beforeAll(async () => {
    const previewSettings: PreviewSettings = settings;
    api = await startGraphqlServer(db, { preview: { pool: db.pool, settings: previewSettings } });
  });

  afterAll(async () => {
    await api?.close();
  });

  it("admins and analysts get what the CLI renders; without a key, 401", async () => {
    const { campaignId, listId } = await trackedCampaign("mailroom");
    const { rows } = await db.pool.query("select s.id::text, s.email from app_public.subscribers as s join app_public.list_memberships as lm on lm.subscriber_id = s.id where lm.list_id = $1 order by s.id", [listId]);
    const direct = await previewCampaign(query, campaignId, { id: rows[1].id }, settings);
    for (const role of ["admin", "analyst"] as const) {
      const key = await apiKey(db, role);
      const byEmail = await api.query(key, PREVIEW, { campaignId, email: rows[1].email });
      expect(byEmail.errors, role).toBeUndefined();
      const preview = byEmail.data!.campaignPreview;
      expect(preview.recipient).toEqual({ subscriberId: rows[1].id, email: rows[1].email, name: "Person 2", listId, listName: direct.recipient.listName, eligible: true });
      expect(preview.sample).toBe(false);
      expect(preview.subject).toBe(direct.subject);
      expect(preview.engagementTracking).toEqual(direct.engagementTracking);
      expect(preview.headers.map((h: { name: string }) => h.name)).toEqual(direct.headers.map((h) => h.name));
      expect(preview.headers.find((h: { name: string }) => h.name === "To").value).toBe(`Person 2 <${rows[1].email}>`);
      // The tokens are the preview's own each time: the same HTML once the operation ids are the same.
      const secret = await storedUnsubscribeSecret(query);
      const keys = await loadTrackingKeys(query, undefined);
      const ownId = operationIdOf({ ...direct, headers: preview.headers } as CampaignPreview, secret);
      expect(asMessage(preview.html, ownId, "00000000-0000-7000-8000-000000000000", keys, secret)).toBe(
        asMessage(direct.html!, operationIdOf(direct, secret), "00000000-0000-7000-8000-000000000000", keys, secret),
      );
      const sample = await api.query(key, PREVIEW, { campaignId });
      expect(sample.data!.campaignPreview.sample).toBe(true);
      expect(sample.data!.campaignPreview.recipient.subscriberId).toBe(rows[0].id);
    }
    const anonymous = await api.query(undefined, PREVIEW, { campaignId });
    expect(anonymous.status).toBe(401);
    expect(anonymous.data ?? null).toBeNull();
    const analyst = await apiKey(db, "analyst");
    const missing = await api.query(analyst, PREVIEW, { campaignId: "999999999" });
    expect(errorOf(missing)).toBe("campaign 999999999 does not exist");
    expect(missing.errors![0].extensions!.code).toBe("NOT_FOUND");
  });

  it("a template error is an error with the SQL rule's message and every error in extensions.templateErrors", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 1);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId], html: "<p>{{ subscriber.name }}</p>\n<p>{{{ subscriber.attributes.city }}} {{ list.nom }}</p>" });
    const response = await api.query(await apiKey(db, "analyst"), PREVIEW, { campaignId });
    expect(response.data?.campaignPreview ?? null).toBeNull();
    expect(response.errors![0].extensions).toEqual({ code: "TEMPLATE_ERRORS", templateErrors: ['html line 2: unknown field "list.nom" in {{ list.nom }}'] });
    // The same message as the check of start_campaign.
    const start = await db.pool.query("select app_public.start_campaign($1)", [campaignId]).catch((error: Error) => error);
    expect(start).toBeInstanceOf(Error);
    expect(errorOf(response)).toBe((start as Error).message);
    expect(errorOf(response)).toBe(`campaign ${campaignId} has template errors: html line 2: unknown field "list.nom" in {{ list.nom }}`);
  });
});

describe("template errors: the same in SQL and in the renderer", () => {
  const TEMPLATES = [
    "Hi {{ subscriber.nmae }}",
    "Hi {{ subscriber.name }} {{{ subscriber.attributes.city }}} {{unsubscribe_url}}",
    "line 1\nline 2 {{subscriber.name}} }} and {{ list.nom\n}}\n{{{ campaign.title }}}",
    "{{ }} {{{}}}",
    "{{{ subscriber.name }} {{ subscriber.name }}} {{{{ subscriber.name }}}}",
    "<p>{{ oops</p>\n<p>{{ subscriber.email }}</p>\n{{ subscriber.attributes.a b }}",
    "é {{ subscriber.näme }}\r\n{{ x }}\r\n\r\n}} {{",
    "{{\n\tsubscriber.nope\n}} {{ subscriber.attributes.plan-2 }} {{ campaign.id}}{{list.id }}",
    "",
    "no placeholders at all\n}}",
  ];

  it("app_public.template_errors and templateErrors give the same list for every text, with lines", async () => {
    let errors = 0;
    for (const text of TEMPLATES) {
      const { rows } = await db.pool.query("select app_public.template_errors($1) as errors", [text]);
      expect(rows[0].errors, JSON.stringify(text)).toEqual(templateErrors(text));
      errors += rows[0].errors.length;
    }
    expect(errors).toBe(13);
    expect(templateErrors(TEMPLATES[2])).toEqual([
      'line 2: unbalanced braces: "}}" outside a {{ field }}',
      'line 2: unknown field "list.nom" in {{ list.nom }}',
      'line 4: unknown field "campaign.title" in {{{ campaign.title }}}',
    ]);
    expect(templateErrors(TEMPLATES[7])).toEqual(['line 1: unknown field "subscriber.nope" in {{ subscriber.nope }}']);
  });

  it("a campaign: start_campaign refuses with the errors the renderer finds, part by part", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 1);
    const content = { subject: "Hi {{ subscriber.nme }}", html: TEMPLATES[2], text: TEMPLATES[6] };
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId], ...content });
    let rendererErrors: string[] = [];
    try {
      compileCampaign(content);
    } catch (error) {
      rendererErrors = (error as TemplateError).errors;
    }
    expect(rendererErrors.map((e) => e.split(" ")[0])).toEqual(["subject", "html", "html", "html", "text", "text", "text"]);
    await expect(db.pool.query("select app_public.start_campaign($1)", [campaignId])).rejects.toThrow(
      `campaign ${campaignId} has template errors: ${rendererErrors.join("; ")}`,
    );
    await expect(db.pool.query("select app_public.check_template('html', $1)", [TEMPLATES[0]])).rejects.toThrow(
      'template errors: html line 1: unknown field "subscriber.nmae" in {{ subscriber.nmae }}',
    );
  });

  it("quoted-printable keeps every byte and line; display names quoted when needed; the .eml of a text-only campaign is one text part", async () => {
    const text = `${"é".repeat(100)} = tab\t\nend \n${"x".repeat(200)}`;
    const encoded = quotedPrintable(text);
    expect(encoded.split("\r\n").every((line) => line.length <= 76)).toBe(true);
    const decoded = Buffer.from(encoded.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
    expect(decoded.replace(/\r\n/g, "\n")).toBe(text);
    expect(formatAddress("jo@example.org", 'Doe, "Jo"')).toBe('"Doe, \\"Jo\\"" <jo@example.org>');
    expect(formatAddress("jo@example.org", "")).toBe("jo@example.org");
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 1);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId], html: "", text: "Plain {{ subscriber.name }}" });
    const preview = await previewCampaign(query, campaignId, undefined, settings);
    expect(preview.html).toBeNull();
    const mime = parseMime(previewEml(preview));
    expect(mime.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });
});
