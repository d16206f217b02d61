// kill -9 of the worker in the middle of a 10,000-recipient campaign, then a restart: every recipient gets
// exactly one email (the sandbox, in this test process, survives the kill and is the witness) and nothing is
// left queued or sending.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { commandEnvironment, createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runMailroom, type MailroomProcess } from "./helpers/process.ts";
import { campaignStatus, createCampaign, createList, createSender, sendStatusCounts } from "./helpers/sending.ts";

const RECIPIENTS = 10_000;

let db: TestDatabase;
let sandbox: Sandbox;
let worker: MailroomProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, latencyMs: 2, retainedEmails: 50_000 },
  });
});

afterAll(async () => {
  worker?.child.kill("SIGKILL");
  await sandbox?.stop();
  await db?.drop();
});

function startWorker(): MailroomProcess {
  return runMailroom(["worker"], {
    ...commandEnvironment(db),
    ACS_CONNECTION_STRING: sandbox.connectionString,
    PUBLIC_URL: "https://mailroom.example.com",
    SEND_LEASE_SECONDS: "5",
    SEND_TIMEOUT_MS: "2000",
    LOG_LEVEL: "info",
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("crash", () => {
  it("kill -9 mid-campaign, restart: every recipient exactly once, nothing stuck", { timeout: 240_000 }, async () => {
    const senderId = await createSender(db.pool);
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);

    worker = startWorker();
    await worker.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(async () => ((await sendStatusCounts(db.pool, campaignId)).accepted ?? 0) >= 2_000, 120_000);
    worker.child.kill("SIGKILL");
    await worker.exited;

    const atKill = await sendStatusCounts(db.pool, campaignId);
    expect(atKill.queued).toBeGreaterThan(0);
    expect(atKill.sending ?? 0).toBeGreaterThan(0); // claimed by the dead worker: leased, in doubt

    worker = startWorker();
    await worker.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(async () => (await campaignStatus(db.pool, campaignId)) === "finished", 180_000);
    worker.child.kill("SIGTERM");
    await worker.exited;

    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: RECIPIENTS });
    const recipients = sandbox.emails().map((e) => e.recipients.to[0]);
    expect(recipients).toHaveLength(RECIPIENTS);
    expect(new Set(recipients).size).toBe(RECIPIENTS);
    expect(sandbox.stats().emails.replays).toBe(0);
    // The dead worker's claims were looked up before anything else: those ACS knew became accepted, those it
    // did not know (claimed, never sent) were sent once, afterwards. At most four claims of 100 were in doubt.
    const { rows } = await db.pool.query(
      `select count(*)::int as n from app_public.messages
       where campaign_id = $1 and send_attempts > 1 and last_error like '%unknown to ACS when looked up%'`,
      [campaignId],
    );
    expect(rows[0].n).toBeLessThanOrEqual(400);
    const { rows: others } = await db.pool.query(
      "select count(*)::int as n from app_public.messages where campaign_id = $1 and send_attempts > 1 and last_error not like '%unknown to ACS when looked up%'",
      [campaignId],
    );
    expect(others[0].n).toBe(0);
  });
});
