// kill -9 of a worker in the middle of a send, then another worker takes over. The dead worker's send job
// failed at nothing: it must not end as a job with its attempts exhausted, and
// mailroom_jobs{state="failed_permanently"} (the alert docs/operations.md recommends) must stay 0. A job that
// really fails on its last attempt still counts.
import { runOnce, Logger } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseMetrics } from "../../src/metrics.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { DEFAULT_SENDING_SETTINGS } from "../../src/sending/settings.ts";
import { createTaskList } from "../../tasks/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import type { MailroomProcess } from "../helpers/process.ts";
import { campaignStatus, createCampaign, createList, createSender, sendStatusCounts, startSendingWorker } from "../helpers/sending.ts";
import { waitFor } from "../helpers/wait.ts";

const RECIPIENTS = 300;

let db: TestDatabase;
let sandbox: Sandbox;
const workers: MailroomProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({
    settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001, latencyMs: 20, retainedEmails: 10_000 },
  });
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill("SIGKILL");
  await sandbox?.stop();
  await db?.drop();
});

function startWorker(): MailroomProcess {
  const worker = startSendingWorker(db.ownerUrl, sandbox, { SEND_BATCH_SIZE: "50" });
  workers.push(worker);
  return worker;
}


function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface JobRow {
  task: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  locked: boolean;
  last_error: string | null;
}

async function jobs(pool = db.pool): Promise<JobRow[]> {
  const { rows } = await pool.query(
    `select t.identifier as task, j.key, j.attempts, j.max_attempts, j.locked_at is not null as locked, j.last_error
     from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
     order by j.id`,
  );
  return rows;
}

describe("jobs after a crash", () => {
  it("kill -9 mid-send, another worker takes over: no job with its attempts exhausted, failed_permanently 0", { timeout: 90_000 }, async () => {
    const senderId = await createSender(db.pool, { perMinute: null, perHour: null });
    const campaignId = await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS)] });
    await db.pool.query("select app_public.start_campaign($1)", [campaignId]);

    const first = startWorker();
    await first.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(() => sandbox.stats().emails.accepted >= 50, 30_000, "50 emails", 5);
    first.child.kill("SIGKILL");
    await first.exited;

    // The dead worker holds the campaign's send job: locked, on its first attempt.
    expect(await jobs()).toEqual([
      { task: "send_campaign", key: `send_campaign:${campaignId}`, attempts: 1, max_attempts: 25, locked: true, last_error: null },
    ]);
    const atKill = await sendStatusCounts(db.pool, campaignId);
    expect(atKill.sending ?? 0).toBeGreaterThan(0);

    const second = startWorker();
    await second.waitFor(/Mailroom is ready/, 60_000);
    await waitFor(async () => (await campaignStatus(db.pool, campaignId)) === "finished", 60_000, "the campaign to finish");
    // The job that finished the campaign is gone once it has returned.
    await waitFor(async () => (await jobs()).every((j) => j.key === null), 10_000, "the send job to finish");

    const text = await databaseMetrics(db.pool);
    expect(metric(text, "mailroom_database_up")).toBe(1);
    expect(metric(text, 'mailroom_jobs{state="failed_permanently"}')).toBe(0);
    expect(metric(text, 'mailroom_jobs{state="failed_retrying"}')).toBe(0);
    expect(metric(text, 'mailroom_jobs{state="running"}')).toBe(0);
    expect(await jobs()).toEqual([]);

    expect(await sendStatusCounts(db.pool, campaignId)).toEqual({ accepted: RECIPIENTS });
    const recipients = sandbox.emails().map((e) => e.recipients.to[0]);
    expect(recipients).toHaveLength(RECIPIENTS);
    expect(new Set(recipients).size).toBe(RECIPIENTS);

    second.child.kill("SIGTERM");
    await second.exited;
  });

  it("a job that fails on its last attempt counts in failed_permanently", async () => {
    const other = await createTestDatabase();
    try {
      await other.pool.query("select app_private.add_job('send_campaign', '{}'::json, max_attempts => 1)");
      await runOnce({ pgPool: other.pool, taskList: createTaskList(DEFAULT_SENDING_SETTINGS), logger: new Logger(() => () => undefined) });
      // runOnce may return before the job's failure is written (on a busy machine it was seen still locked).
      const left = await waitFor(async () => {
        const rows = await jobs(other.pool);
        return rows.length === 1 && !rows[0].locked ? rows : undefined;
      }, 10_000, "the failed job to be released");
      expect(left[0]).toMatchObject({ task: "send_campaign", attempts: 1, max_attempts: 1, locked: false });
      expect(left[0].last_error).toMatch(/send_campaign needs \{"campaignId": id\}/);
      const text = await databaseMetrics(other.pool);
      expect(metric(text, 'mailroom_jobs{state="failed_permanently"}')).toBe(1);
      expect(metric(text, 'mailroom_jobs{state="failed_retrying"}')).toBe(0);
      expect(metric(text, 'mailroom_jobs{state="runnable"}')).toBe(0);
    } finally {
      await other.drop();
    }
  });
});
