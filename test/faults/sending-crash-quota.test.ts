// kill -9 of a worker in the middle of a claim, then another worker takes over: the dead claim's quota
// reservation (100 messages) must shrink to what really reached ACS once its messages have been looked up,
// so the sender's window is neither blocked by sends that never happened nor ever exceeded. The sandbox runs
// in this test process, survives the kill, and is the witness of what was sent and when.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import type { MailroomProcess } from "../helpers/process.ts";
import { campaignStatus, createCampaign, createList, createSender, prepareSendingDatabase, sendStatusCounts, startSendingWorker } from "../helpers/sending.ts";
import { waitFor } from "../helpers/wait.ts";

const RECIPIENTS = 150;
const PER_HOUR = 100;
// An "hour" of 7.2 s, for the sender's windows in the database and for the sandbox's quota alike.
const TIME_SCALE = 0.002;
const HOUR_MS = 3_600_000 * TIME_SCALE;
const KILL_AFTER = 30;

let db: TestDatabase;
let sandbox: Sandbox;
const workers: MailroomProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await prepareSendingDatabase(db, { quotaTimeScale: TIME_SCALE });
  sandbox = await startSandbox({
    // 100 ms per request and 4 in flight: a claim of 100 takes about 2.5 s, long enough to die in the middle.
    settings: { quotaPerMinute: null, quotaPerHour: PER_HOUR, timeScale: TIME_SCALE, latencyMs: 100, retainedEmails: 10_000 },
  });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill("SIGKILL");
  await sandbox?.stop();
  await db?.drop();
});

function startWorker(): MailroomProcess {
  const worker = startSendingWorker(db.ownerUrl, sandbox, { SEND_BATCH_SIZE: "100" });
  workers.push(worker);
  return worker;
}


async function reservations(): Promise<{ id: string; sends: number; settled: boolean }[]> {
  const { rows } = await db.pool.query("select id, sends, settled from app_private.sender_sends order by id");
  return rows;
}

describe("quota after a crash", () => {
  it("kill -9 mid-claim: the reclaimed lease gives back what was never sent; no window exceeded", { timeout: 90_000 }, async () => {
    const senderId = await createSender(db.pool, { perMinute: null, perHour: PER_HOUR });
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);

    const first = startWorker();
    await first.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(() => sandbox.stats().emails.accepted >= KILL_AFTER, 30_000, `${KILL_AFTER} emails`, 5);
    first.child.kill("SIGKILL");
    await first.exited;
    // Requests the dead worker had in flight are answered (or not) within the sandbox's latency.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const sentByDeadWorker = sandbox.stats().emails.accepted;
    expect(sentByDeadWorker).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(sentByDeadWorker).toBeLessThan(PER_HOUR);
    // One claim of 100 (the hour's quota), reserved whole and never recorded.
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ queued: RECIPIENTS - PER_HOUR, sending: PER_HOUR });
    expect(await reservations()).toEqual([{ id: expect.any(String), sends: PER_HOUR, settled: false }]);
    const [deadClaim] = await reservations();

    const second = startWorker();
    await second.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(async () => (await campaignStatus(db.pool, campaignId)) === "finished", 60_000, "the campaign to finish");
    second.child.kill("SIGTERM");
    await second.exited;

    // Every recipient at most once (here: exactly once), counted at the sandbox.
    const emails = sandbox.emails();
    const recipients = emails.map((e) => e.recipients.to[0]);
    expect(recipients).toHaveLength(RECIPIENTS);
    expect(new Set(recipients).size).toBe(RECIPIENTS);
    expect(sandbox.stats().emails.replays).toBe(0);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: RECIPIENTS });

    // The dead claim's reservation now counts exactly what it sent; all reservations, exactly what was sent.
    const after = await reservations();
    expect(after.find((r) => r.id === deadClaim.id)).toEqual({ id: deadClaim.id, sends: sentByDeadWorker, settled: true });
    expect(after.every((r) => r.settled)).toBe(true);
    expect(after.reduce((n, r) => n + r.sends, 0)).toBe(emails.length);

    // No window exceeded: the sandbox refused nothing, and no sliding hour holds more than the limit.
    expect(sandbox.stats().emails.throttled).toBe(0);
    const times = emails.map((e) => Date.parse(e.acceptedAt)).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j] <= times[i] - HOUR_MS) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(PER_HOUR);
  });
});
