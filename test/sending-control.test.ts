// Pause, resume and cancel while a campaign is being sent: they take effect at the next claim, what was in
// flight finishes, nothing is sent twice and nothing is left 'sending'.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import type { SendingSettings } from "../src/sending/settings.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import {
  campaignStatus,
  createCampaign,
  createList,
  createSender,
  runSending,
  sendStatusCounts,
  testSendingSettings,
} from "./helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;

beforeAll(async () => {
  db = await createTestDatabase();
  // Slow enough answers that the campaign is still sending when we act.
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, latencyMs: 15 } });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, batchSize: 10, concurrency: 4, lanes: 2 });
});

afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
});

async function accepted(campaignId: string): Promise<number> {
  return (await sendStatusCounts(db.pool, campaignId)).accepted ?? 0;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function sentTo(campaignRecipients: Set<string>): string[] {
  return sandbox.emails().map((e) => e.recipients.to[0]).filter((r) => campaignRecipients.has(r));
}

async function recipientsOf(campaignId: string): Promise<Set<string>> {
  const { rows } = await db.pool.query("select recipient from app_public.messages where campaign_id = $1", [campaignId]);
  return new Set(rows.map((r) => r.recipient as string));
}

describe("pause, resume, cancel", () => {
  it("pause stops sending at the next claim; resume sends the rest, each recipient once", async () => {
    const senderId = await createSender(db.pool);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 200)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    const sending = runSending(db.pool, settings);
    await waitFor(async () => (await accepted(campaignId)) >= 30);
    await db.pool.query("select app_public.pause_campaign($1)", [campaignId]);
    await sending;

    const paused = await sendStatusCounts(db.pool, campaignId);
    expect(paused.sending ?? 0).toBe(0);
    expect(paused.queued).toBeGreaterThan(50);
    expect(await campaignStatus(db.pool, campaignId)).toBe("paused");
    const recipients = await recipientsOf(campaignId);
    expect(sentTo(recipients)).toHaveLength(paused.accepted);
    // Nothing more goes out while paused.
    await runSending(db.pool, settings);
    expect(sentTo(recipients)).toHaveLength(paused.accepted);

    await db.pool.query("select app_public.resume_campaign($1)", [campaignId]);
    await runSending(db.pool, settings);
    const sent = sentTo(recipients);
    expect(sent).toHaveLength(200);
    expect(new Set(sent).size).toBe(200);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: 200 });
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
  });

  it("cancel: queued messages are cancelled, those in flight end accepted, nothing is left sending", async () => {
    const senderId = await createSender(db.pool);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 200)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    const sending = runSending(db.pool, settings);
    await waitFor(async () => (await accepted(campaignId)) >= 30);
    await db.pool.query("select app_public.cancel_campaign($1)", [campaignId]);
    await sending;

    const counts = await sendStatusCounts(db.pool, campaignId);
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.queued ?? 0).toBe(0);
    expect(counts.cancelled).toBeGreaterThan(50);
    expect(counts.accepted + counts.cancelled).toBe(200);
    const sent = sentTo(await recipientsOf(campaignId));
    expect(sent).toHaveLength(counts.accepted);
    expect(new Set(sent).size).toBe(counts.accepted);
    expect(await campaignStatus(db.pool, campaignId)).toBe("cancelled");
  });
});
