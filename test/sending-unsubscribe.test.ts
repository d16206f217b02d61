// One-click unsubscribe from the List-Unsubscribe URL of a sent email, and template errors caught at start
// and at preview.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { previewCampaign } from "../src/sending/preview.ts";
import { compileCampaign, htmlToText, TemplateError } from "../src/sending/template.ts";
import { unsubscribeToken } from "../src/sending/unsubscribe-token.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { createCampaign, createList, createSender, runSending, testSendingSettings } from "./helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;
let receiver: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001 } });
  receiver = await startReceiver(db.pool);
  // No UNSUBSCRIBE_SECRET: the send task and the endpoint share the secret generated in the database.
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, publicUrl: receiver.url, unsubscribeSecret: undefined });
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.stop();
  await db?.drop();
});

describe("one-click unsubscribe", () => {
  it("POST to the header's URL unsubscribes that subscriber only; GET only shows a page; forged tokens get 404", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 3);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, settings);
    const emails = sandbox.emails();
    expect(emails).toHaveLength(3);
    const urlOf = (i: number) => /^<(.+)>$/.exec(emails[i].headers["List-Unsubscribe"])![1];
    const [first, second] = [urlOf(0), urlOf(1)];
    expect(first.startsWith(`${receiver.url}/unsubscribe/`)).toBe(true);

    const memberships = async () =>
      (
        await db.pool.query(
          `select s.email, lm.status from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
           where lm.list_id = $1`,
          [listId],
        )
      ).rows.reduce((all, r) => ({ ...all, [r.email]: r.status }), {} as Record<string, string>);

    // GET: a confirmation page with a button, and no change.
    const page = await fetch(first);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(emails[0].recipients.to[0]);
    expect(html).toContain('method="post"');
    expect(Object.values(await memberships()).every((s) => s === "confirmed")).toBe(true);

    // A forged token (right shape, wrong signature), a token with its message part swapped: 404, no change.
    const token = first.split("/unsubscribe/")[1];
    const otherToken = second.split("/unsubscribe/")[1];
    const swapped = `${otherToken.split(".")[0]}.${token.split(".")[1]}`;
    const forged = unsubscribeToken("not-the-secret-".repeat(3), emails[1].operationId);
    for (const bad of [swapped, forged, "garbage", `${token}x`]) {
      const response = await fetch(`${receiver.url}/unsubscribe/${bad}`, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(response.status, bad).toBe(404);
    }
    expect(Object.values(await memberships()).every((s) => s === "confirmed")).toBe(true);

    // RFC 8058 one-click POST, without any login: exactly that subscriber is unsubscribed, once.
    for (let i = 0; i < 2; i++) {
      const response = await fetch(first, {
        method: "POST",
        body: "List-Unsubscribe=One-Click",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(response.status).toBe(200);
    }
    const after = await memberships();
    expect(after[emails[0].recipients.to[0]]).toBe("unsubscribed");
    expect(Object.values(after).filter((s) => s === "unsubscribed")).toHaveLength(1);
    const { rows } = await db.pool.query("select source, count(*)::int as n from app_public.unsubscribes group by source");
    expect(rows).toEqual([{ source: "one_click", n: 1 }]);
    const { rows: rollup } = await db.pool.query("select unsubscribes from app_public.campaign_rollups where campaign_id = $1", [campaignId]);
    expect(rollup[0].unsubscribes).toBe("1");
  });
});

describe("templates", () => {
  const query = (text: string, values?: unknown[]) => db.pool.query(text, values);
  const PREVIEW_SETTINGS = { publicUrl: "https://mailroom.example.com", unsubscribeSecret: undefined, trackingSecrets: undefined };

  it("an unknown field or stray braces stop start_campaign with a clear error, before anything is sent", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 2);
    const bad = await createCampaign(db.pool, { senderId, listIds: [listId], html: "<p>Hi {{ subscriber.nmae }}</p><p>{{ oops</p>" });
    await expect(db.pool.query("select app_public.start_campaign($1)", [bad])).rejects.toThrow(
      `campaign ${bad} has template errors: html line 1: unknown field "subscriber.nmae" in {{ subscriber.nmae }}; html line 1: unbalanced braces: "{{" outside a {{ field }}`,
    );
    const { rows } = await db.pool.query("select status, (select count(*) from app_public.messages where campaign_id = $1)::int as messages from app_public.campaigns where id = $1", [bad]);
    expect(rows[0]).toEqual({ status: "draft", messages: 0 });
    // The preview says the same, with line numbers.
    await expect(previewCampaign(query, bad, undefined, PREVIEW_SETTINGS)).rejects.toThrow(/html line 1: unknown field "subscriber\.nmae"/);
  });

  it("preview renders what would be sent: HTML escaped, attributes, a text part derived from the HTML", async () => {
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 1);
    await db.pool.query(`update app_public.subscribers set name = 'Ann <b>&</b>', attributes = '{"city": "Lyon"}'
                         where id = (select subscriber_id from app_public.list_memberships where list_id = $1)`, [listId]);
    const campaignId = await createCampaign(db.pool, {
      senderId,
      listIds: [listId],
      subject: "News for {{ subscriber.name }}",
      html: '<h1>Hello {{ subscriber.name }}</h1><p>From {{ subscriber.attributes.city }}{{ subscriber.attributes.missing }} &amp; {{{ subscriber.name }}}</p><ul><li>One</li><li><a href="https://example.org/x">Two</a></li></ul>',
    });
    const preview = await previewCampaign(query, campaignId, undefined, PREVIEW_SETTINGS);
    expect(preview.subject).toBe("News for Ann <b>&</b>");
    expect(preview.html).toContain("<h1>Hello Ann &lt;b&gt;&amp;&lt;/b&gt;</h1>");
    expect(preview.html).toContain("From Lyon &amp; Ann <b>&</b>");
    expect(preview.text).toBe("Hello Ann <b>&</b>\n\nFrom Lyon & Ann &\n\n- One\n- Two (https://example.org/x)");
  });

  it("compiles once and names every problem", () => {
    expect(() => compileCampaign({ subject: "", html: "", text: "{{ list.title }}" })).toThrow(TemplateError);
    expect(() => compileCampaign({ subject: "", html: "", text: "{{ list.title }}" })).toThrow(
      'template errors: the subject is empty; text line 1: unknown field "list.title" in {{ list.title }}',
    );
    expect(htmlToText("<p>a&nbsp;b<br>c</p><style>p{}</style><p>d</p>")).toBe("a b\nc\n\nd");
  });
});
