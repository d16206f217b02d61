// A campaign over overlapping lists goes to exactly the right people, once each, with the ledger's keys:
// the sandbox's record of accepted emails is the witness.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { verifyUnsubscribeToken } from "../src/sending/unsubscribe-token.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import {
  campaignStatus,
  createCampaign,
  createSender,
  prepareSendingDatabase,
  runSending,
  sendStatusCounts,
  testSendingSettings,
} from "./helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;

beforeAll(async () => {
  db = await createTestDatabase();
  await prepareSendingDatabase(db);
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001 } });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, unsubscribeSecret: "s".repeat(40) });
});

afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
});

describe("recipients", () => {
  it("sends one email to each eligible member of overlapping lists, with the ledger's Message-ID and operation id", async () => {
    const pool = db.pool;
    const senderId = await createSender(pool, { fromAddress: "news@mail.example.com" });
    // Two lists: double opt-in (members must be confirmed) and single opt-in (members must not be unsubscribed).
    const { rows: lists } = await pool.query(
      `insert into app_public.lists (name, opt_in) values ('Double', 'double'), ('Single', 'single') returning id`,
    );
    const [double, single] = lists.map((r) => r.id as string);
    const people = [
      // email, status, double membership, single membership, expected to receive
      ["both@example.org", "enabled", "confirmed", "confirmed", true],
      ["double-only@example.org", "enabled", "confirmed", null, true],
      ["single-unconfirmed@example.org", "enabled", null, "unconfirmed", true],
      ["unconfirmed@example.org", "enabled", "unconfirmed", null, false],
      ["unconfirmed-but-single@example.org", "enabled", "unconfirmed", "confirmed", true],
      ["unsubscribed@example.org", "enabled", null, "unsubscribed", false],
      ["unsubscribed-but-double@example.org", "enabled", "confirmed", "unsubscribed", true],
      ["blocklisted@example.org", "blocklisted", "confirmed", "confirmed", false],
      ["bounced@example.org", "enabled", "confirmed", "confirmed", false],
      ["Mixed.Case@Example.org", "enabled", "confirmed", "confirmed", true],
    ] as const;
    for (const [email, status, inDouble, inSingle] of people) {
      const { rows } = await pool.query(
        "insert into app_public.subscribers (email, name, status) values ($1, $2, $3) returning id",
        [email, `Name <${email.split("@")[0]}> & co`, status],
      );
      const id = rows[0].id;
      if (inDouble) await pool.query("insert into app_public.list_memberships values ($1, $2, $3)", [double, id, inDouble]);
      if (inSingle) await pool.query("insert into app_public.list_memberships values ($1, $2, $3)", [single, id, inSingle]);
    }
    // A hard bounce: the default policy blocklists at once; and a subscriber with three soft bounces under an
    // "unsubscribe" policy for soft bounces is skipped at start.
    await pool.query(
      `insert into app_public.bounces (subscriber_id, bounce_type, status)
       select id, 'hard', 'Bounced' from app_public.subscribers where email = 'bounced@example.org'`,
    );
    const campaignId = await createCampaign(pool, { senderId, listIds: [double, single] });

    await pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(pool, settings);

    const expected = people.filter((p) => p[4]).map((p) => p[0].toLowerCase()).sort();
    const emails = sandbox.emails();
    expect(emails.map((e) => e.recipients.to[0].toLowerCase()).sort()).toEqual(expected);

    const { rows: ledger } = await pool.query(
      `select recipient, internet_message_id, operation_id, send_status, accepted_at, send_attempts
       from app_public.messages where campaign_id = $1`,
      [campaignId],
    );
    expect(ledger).toHaveLength(expected.length);
    for (const message of ledger) {
      expect(message.send_status).toBe("accepted");
      expect(message.accepted_at).not.toBeNull();
      expect(message.send_attempts).toBe(1);
      const email = sandbox.email(message.operation_id);
      expect(email, `sandbox has ${message.operation_id}`).toBeDefined();
      expect(email!.recipients.to).toEqual([message.recipient]);
      expect(email!.internetMessageId).toBe(message.internet_message_id);
      expect(email!.headers["Message-ID"]).toBe(message.internet_message_id);
      expect(email!.headers["x-ms-acsemail-validate-message-id"]).toBe("true");
      expect(email!.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
      const url = /^<(https:\/\/mailroom\.example\.com\/unsubscribe\/([^>]+))>$/.exec(email!.headers["List-Unsubscribe"]);
      expect(url).not.toBeNull();
      expect(verifyUnsubscribeToken("s".repeat(40), url![2])).toBe(message.operation_id);
      expect(email!.sender).toBe("news@mail.example.com");
    }
    // Rendering: the subject has the name as is, the HTML escapes it.
    const both = emails.find((e) => e.recipients.to[0] === "both@example.org")!;
    expect(both.subject).toBe("Hello Name <both> & co");

    expect(await sendStatusCounts(pool, campaignId)).toEqual({ accepted: expected.length });
    expect(await campaignStatus(pool, campaignId)).toBe("finished");
    const { rows: rollup } = await pool.query("select recipients, accepted, queued, sending from app_public.campaign_rollups where campaign_id = $1", [campaignId]);
    expect(rollup[0]).toMatchObject({ recipients: String(expected.length), accepted: String(expected.length), queued: "0", sending: "0" });
  });
});
