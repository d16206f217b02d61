// A message whose first send may have reached ACS (its worker died before recording it) is reclaimed for a
// look-up when its lease ends. Whatever keeps the look-up from being made (the worker is stopping, the sender
// has no connection string), the message must stay in doubt, so that the next worker looks it up instead of
// sending it again. The sandbox runs in this test process and counts every send request it receives: a
// request under an operation id it has accepted already is a replay, which real ACS may well send twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { sendCampaign } from "../../src/sending/send-campaign.ts";
import type { Query } from "../../src/sending/unsubscribe-token.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import type { MailroomProcess } from "../helpers/process.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  campaignStatus,
  createCampaign,
  createList,
  createSender,
  sendStatusCounts,
  startSendingWorker,
  testSendingSettings,
} from "../helpers/sending.ts";

let db: TestDatabase;
let sandbox: Sandbox;
const workers: MailroomProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: { quotaPerMinute: null, quotaPerHour: null, latencyMs: 100, retainedEmails: 10_000 },
  });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill("SIGKILL");
  await sandbox?.stop();
  await db?.drop();
});

function startWorker(): MailroomProcess {
  const worker = startSendingWorker(db.ownerUrl, sandbox, { SEND_TIMEOUT_MS: "2500", SEND_BATCH_SIZE: "100" });
  workers.push(worker);
  return worker;
}


async function one<T>(sql: string, values: unknown[]): Promise<T> {
  const { rows } = await db.pool.query(sql, values);
  return Object.values(rows[0])[0] as T;
}

/** Each recipient's email exactly once at the sandbox, and exactly one send request per recipient. */
function expectEachSentOnce(recipients: number): void {
  const to = sandbox.emails().map((e) => e.recipients.to[0]);
  expect(to).toHaveLength(recipients);
  expect(new Set(to).size).toBe(recipients);
  const stats = sandbox.stats().emails;
  expect({ requests: stats.requests, accepted: stats.accepted, replays: stats.replays, throttled: stats.throttled }).toEqual({
    requests: recipients,
    accepted: recipients,
    replays: 0,
    throttled: 0,
  });
}

describe("a reclaimed message is looked up before anything else", () => {
  it("SIGTERM of the worker doing the look-ups: the next worker looks up, never sends again", { timeout: 120_000 }, async () => {
    const RECIPIENTS = 40;
    sandbox.reset();
    sandbox.configure({ latencyMs: 100 });
    const senderId = await createSender(db.pool);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);

    // One claim of all 40, four requests at a time: killed with about half of them at the sandbox.
    const first = startWorker();
    await first.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(() => sandbox.stats().emails.accepted >= RECIPIENTS / 2, 30_000, "half the emails", 5);
    first.child.kill("SIGKILL");
    await first.exited;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sentByDeadWorker = sandbox.stats().emails.accepted;
    expect(sentByDeadWorker).toBeGreaterThanOrEqual(RECIPIENTS / 2);
    expect(sentByDeadWorker).toBeLessThan(RECIPIENTS);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ sending: RECIPIENTS });
    const deadLease = await one<string>(
      "select max(lease_expires_at)::text from app_public.messages where campaign_id = $1",
      [campaignId],
    );

    // Look-ups take 2 s each, four at a time. The second worker is stopped as soon as it has reclaimed them;
    // graphile-worker lets its job run on for 5 s, then aborts it, with most look-ups still to do.
    sandbox.configure({ latencyMs: 2000 });
    const second = startWorker();
    await second.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(
      async () => (await one<number>(
        "select count(*)::int from app_public.messages where campaign_id = $1 and send_status = 'sending' and lease_expires_at > $2::timestamptz",
        [campaignId, deadLease],
      )) === RECIPIENTS,
      30_000,
      "the in-doubt messages to be reclaimed for look-ups",
    );
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(sandbox.stats().emails.requests).toBe(sentByDeadWorker);

    // The second worker looked up only some (found: accepted; unknown to ACS: queued again). Every other one is
    // still in doubt: none may be queued without its look-up.
    const lookedUp = await one<number>(
      `select count(*)::int from app_public.messages
       where campaign_id = $1 and (send_status = 'accepted' or last_error like '%unknown to ACS when looked up%')`,
      [campaignId],
    );
    expect(lookedUp).toBeLessThan(RECIPIENTS / 2);
    const afterStop = await sendStatusCounts(db.pool, campaignId);

    sandbox.configure({ latencyMs: 10 });
    const third = startWorker();
    await third.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(async () => (await campaignStatus(db.pool, campaignId)) === "finished", 60_000, "the campaign to finish", 50);
    third.child.kill("SIGTERM");
    await third.exited;

    expectEachSentOnce(RECIPIENTS);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: RECIPIENTS });
    expect(afterStop.sending).toBe(RECIPIENTS - lookedUp);
    // The dead claim's reservation counts what it sent; every reservation is settled and all count each email once.
    const { rows: reservations } = await db.pool.query<{ sends: number; settled: boolean }>(
      "select sends, settled from app_private.sender_sends where sender_id = $1 order by id",
      [senderId],
    );
    expect(reservations[0]).toEqual({ sends: sentByDeadWorker, settled: true });
    expect(reservations.every((r) => r.settled)).toBe(true);
    expect(reservations.reduce((n, r) => n + r.sends, 0)).toBe(RECIPIENTS);
  });

  it("a sender without a connection string: the reclaimed messages wait in doubt, then are looked up", { timeout: 60_000 }, async () => {
    const RECIPIENTS = 10;
    sandbox.reset();
    sandbox.configure({ latencyMs: 0 });
    const senderId = await createSender(db.pool);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);
    const query: Query = (text, values) => db.pool.query(text, values);
    const settings = { leaseSeconds: 1, maxInlineWaitMs: 100 };

    // The job sends all ten, then loses its database before recording them: they stay leased, in doubt.
    const lost: Query = (text, values) =>
      text.includes("record_send_outcomes") ? Promise.reject(new Error("connection terminated")) : query(text, values);
    await expect(
      sendCampaign(lost, campaignId, new AbortController().signal, testSendingSettings({ ...settings, defaultConnectionString: sandbox.connectionString })),
    ).rejects.toThrow("connection terminated");
    expect(sandbox.stats().emails.accepted).toBe(RECIPIENTS);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ sending: RECIPIENTS });
    await waitFor(
      async () => (await one<number>(
        "select count(*)::int from app_public.messages where campaign_id = $1 and lease_expires_at <= now()",
        [campaignId],
      )) === RECIPIENTS,
      10_000,
      "the leases to end",
    );

    // A worker without ACS_CONNECTION_STRING (and the sender without its own) reclaims them: it cannot look
    // them up, so they stay in doubt, and nothing is sent.
    const noConnection = testSendingSettings({ ...settings, defaultConnectionString: undefined });
    expect(await sendCampaign(query, campaignId, new AbortController().signal, noConnection)).toBe("scheduled");
    expect(sandbox.stats().emails.requests).toBe(RECIPIENTS);
    const withoutConnection = await sendStatusCounts(db.pool, campaignId);

    // A minute later (the wait after a missing connection string), a worker with the connection.
    await db.pool.query(
      "update app_public.messages set lease_expires_at = lease_expires_at - interval '61 seconds' where campaign_id = $1 and send_status = 'sending'",
      [campaignId],
    );
    await db.pool.query("update app_private.sender_throttles set paused_until = paused_until - interval '61 seconds' where sender_id = $1", [senderId]);
    const withConnection = testSendingSettings({ ...settings, defaultConnectionString: sandbox.connectionString });
    expect(await sendCampaign(query, campaignId, new AbortController().signal, withConnection)).toBe("finished");

    expectEachSentOnce(RECIPIENTS);
    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: RECIPIENTS });
    expect(await campaignStatus(db.pool, campaignId)).toBe("finished");
    expect(withoutConnection).toEqual({ sending: RECIPIENTS });
  });
});
