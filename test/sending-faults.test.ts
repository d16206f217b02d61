// 500s, lost responses and timeouts: an outcome that is not known is looked up before any new attempt, so
// nothing reaches the sandbox twice and everything is sent in the end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import {
  campaignStatus,
  createCampaign,
  createList,
  createSender,
  prepareSendingDatabase,
  runSending,
  sendStatusCounts,
  testSendingSettings,
} from "./helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;

beforeAll(async () => {
  db = await createTestDatabase();
  await prepareSendingDatabase(db);
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, seed: 7 } });
});

afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
});

function expectEachOnce(recipients: string[], expected: number) {
  const counts = new Map<string, number>();
  for (const r of recipients) counts.set(r, (counts.get(r) ?? 0) + 1);
  expect(counts.size).toBe(expected);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("faults", () => {
  it("500s, 503s and lost 202s: every recipient exactly once, nothing sent again after ACS accepted it", async () => {
    sandbox.reset();
    sandbox.configure({ faultShare: 0.25, lostResponseShare: 0.2, latencyMs: 0 });
    const settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, retryBaseMs: 20, batchSize: 25 });
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 300);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, settings);

    const stats = sandbox.stats().emails;
    expect(stats.faults).toBeGreaterThan(20);
    // A replay is a request under an operation id the sandbox had accepted already.
    expect(stats.replays).toBe(0);
    expectEachOnce(sandbox.emails().map((e) => e.recipients.to[0]), 300);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: 300 });
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
    const { rows } = await db.pool.query(
      "select count(*)::int as n from app_public.messages where campaign_id = $1 and send_attempts > 1",
      [campaignId],
    );
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it("timeouts: the requests that timed out were accepted, and the look-up finds them instead of sending again", async () => {
    sandbox.reset();
    sandbox.configure({ faultShare: 0, lostResponseShare: 0, latencyMs: 400 });
    const settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, timeoutMs: 100, retryBaseMs: 1500, batchSize: 10 });
    const senderId = await createSender(db.pool);
    const listId = await createList(db.pool, 20);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [listId] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    const sending = runSending(db.pool, settings);
    // Every request times out on our side; the sandbox accepts each one 400 ms after it arrived.
    await waitFor(async () => {
      const { rows } = await db.pool.query(
        "select count(*)::int as n from app_public.messages where campaign_id = $1 and last_error like '%no answer within 100 ms%'",
        [campaignId],
      );
      return rows[0].n === 20;
    });
    sandbox.configure({ latencyMs: 0 });
    await sending;

    expect(sandbox.stats().emails.requests).toBe(20);
    expect(sandbox.stats().emails.replays).toBe(0);
    expectEachOnce(sandbox.emails().map((e) => e.recipients.to[0]), 20);
    const { rows } = await db.pool.query(
      "select send_status, send_attempts from app_public.messages where campaign_id = $1",
      [campaignId],
    );
    expect(rows.every((r) => r.send_status === "accepted" && r.send_attempts === 1)).toBe(true);
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
  });
});
