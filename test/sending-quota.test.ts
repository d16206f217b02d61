// Quotas: every window of a sender is kept across claims (sliding, in Postgres); a 429 pauses the sender until
// Retry-After and nothing fails; several senders share a campaign by remaining capacity; a closed send window
// holds everything until it opens. The sandbox's clock and ours run 100 times faster (a minute is 0.6 s).
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

const SCALE = 0.01;
const MINUTE_MS = 60_000 * SCALE;

let db: TestDatabase;
let sandbox: Sandbox;

beforeAll(async () => {
  db = await createTestDatabase();
  await prepareSendingDatabase(db, { quotaTimeScale: SCALE });
  // The sandbox at ACS's default quotas: 30 a minute, 100 an hour.
  sandbox = await startSandbox({ settings: { timeScale: SCALE, seed: 3 } });
});

afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
});

/** The most acceptances in any window of `windowMs` (sliding, as ACS counts). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe("quotas", () => {
  it("a sender's own quota equal to ACS's: no window exceeded, no 429 at all", async () => {
    sandbox.reset();
    const sending = testSendingSettings({ defaultConnectionString: sandbox.connectionString });
    const senderId = await createSender(db.pool, { perMinute: 30, perHour: 100 });
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 90)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, sending);

    const times = sandbox.emails().map((e) => Date.parse(e.acceptedAt));
    expect(times).toHaveLength(90);
    expect(sandbox.stats().emails.throttled).toBe(0);
    expect(busiestWindow(times, MINUTE_MS)).toBeLessThanOrEqual(30);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: 90 });
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
  });

  it("a sender without quotas meets ACS's 429s: it pauses until Retry-After, nothing fails, nothing twice", async () => {
    sandbox.reset();
    const sending = testSendingSettings({ defaultConnectionString: sandbox.connectionString });
    const senderId = await createSender(db.pool, { perMinute: null, perHour: null });
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 70)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, sending);

    const emails = sandbox.emails();
    expect(new Set(emails.map((e) => e.recipients.to[0])).size).toBe(70);
    expect(emails).toHaveLength(70);
    const throttled = sandbox.stats().emails.throttled;
    expect(throttled).toBeGreaterThan(0);
    // Paused after a 429: at most one batch of 429s per pause, not a storm of retries.
    expect(throttled).toBeLessThan(200);
    expect(busiestWindow(emails.map((e) => Date.parse(e.acceptedAt)), MINUTE_MS)).toBeLessThanOrEqual(30);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: 70 });
    const { rows } = await db.pool.query("select max(send_attempts) as max from app_public.messages where campaign_id = $1", [campaignId]);
    expect(rows[0].max).toBe(1);
  });

  it("several senders serve one campaign, each within its own quota", async () => {
    sandbox.reset();
    sandbox.configure({ quotaPerMinute: null, quotaPerHour: null });
    const sending = testSendingSettings({ defaultConnectionString: sandbox.connectionString });
    const small = await createSender(db.pool, { fromAddress: "small@mail.example.com", perMinute: 10, perHour: null });
    const large = await createSender(db.pool, { fromAddress: "large@mail.example.com", perMinute: 40, perHour: null });
    const campaignId = await createCampaign(db.pool, { senderId: small, listIds: [await createList(db.pool, 150)] });
    await db.pool.query("insert into app_public.campaign_senders (campaign_id, sender_id) values ($1, $2)", [campaignId, large]);
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    await runSending(db.pool, sending);

    const emails = sandbox.emails();
    expect(emails).toHaveLength(150);
    const bySender = (address: string) => emails.filter((e) => e.sender === address).map((e) => Date.parse(e.acceptedAt));
    expect(busiestWindow(bySender("small@mail.example.com"), MINUTE_MS)).toBeLessThanOrEqual(10);
    expect(busiestWindow(bySender("large@mail.example.com"), MINUTE_MS)).toBeLessThanOrEqual(40);
    expect(bySender("large@mail.example.com").length).toBeGreaterThan(bySender("small@mail.example.com").length);
    // The ledger says who sent each message.
    const { rows } = await db.pool.query(
      `select s.from_address, count(*)::int as n from app_public.messages as m join app_public.senders as s on s.id = m.sender_id
       where m.campaign_id = $1 group by 1`,
      [campaignId],
    );
    expect(Object.fromEntries(rows.map((r) => [r.from_address, r.n]))).toEqual({
      "small@mail.example.com": bySender("small@mail.example.com").length,
      "large@mail.example.com": bySender("large@mail.example.com").length,
    });
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: 150 });
  });

  it("a closed send window: nothing is sent until it opens; a far opening queues the job for then", async () => {
    sandbox.reset();
    sandbox.configure({ quotaPerMinute: null, quotaPerHour: null });
    // Far enough ahead that a busy machine does not reach it before the job has run once.
    const { rows: clock } = await db.pool.query(
      `select to_char((now() at time zone 'UTC') + interval '10 minutes', 'HH24:MI:SS.US') as opens,
              to_char((now() at time zone 'UTC') + interval '1 hour', 'HH24:MI:SS.US') as closes,
              now() + interval '10 minutes' as opens_at`,
    );
    const senderId = await createSender(db.pool, {
      perMinute: null,
      perHour: null,
      window: { start: clock[0].opens, end: clock[0].closes, timeZone: "UTC" },
    });
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, 10)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);

    // A job that may not wait that long queues itself for the opening and sends nothing.
    await runSending(db.pool, testSendingSettings({ defaultConnectionString: sandbox.connectionString, maxInlineWaitMs: 100 }));
    expect(sandbox.emails()).toHaveLength(0);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ queued: 10 });
    const { rows: jobs } = await db.pool.query(
      "select run_at from graphile_worker.jobs where task_identifier = 'send_campaign' and key = $1",
      [`send_campaign:${campaignId}`],
    );
    expect(jobs).toHaveLength(1);
    expect(Math.abs(jobs[0].run_at.getTime() - clock[0].opens_at.getTime())).toBeLessThan(1000);

    // Once it opens, everything goes. The opening comes without waiting for it: the window now opens now,
    // and the job queued for the old opening is brought forward.
    const sending = testSendingSettings({ defaultConnectionString: sandbox.connectionString });
    const { rows: opened } = await db.pool.query(
      "update app_public.senders set send_window_start = (now() at time zone 'UTC')::time where id = $1 returning now() as opens_at",
      [senderId],
    );
    await db.pool.query("select graphile_worker.reschedule_jobs(array_agg(id), run_at => now()) from graphile_worker.jobs where key = $1", [
      `send_campaign:${campaignId}`,
    ]);
    await runSending(db.pool, sending);
    const emails = sandbox.emails();
    expect(emails).toHaveLength(10);
    expect(emails.every((e) => Date.parse(e.acceptedAt) >= opened[0].opens_at.getTime())).toBe(true);
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
  });
});
