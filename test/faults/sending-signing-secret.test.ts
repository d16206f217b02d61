// Ten campaigns started at once on a fresh database, without UNSUBSCRIBE_SECRET: every send job asks
// app_private.signing_secret for the unsubscribe secret while another transaction (another process's first
// use: a worker, or the server answering an unsubscribe) is storing it. Each of the ten must get that secret:
// every recipient sent exactly once, every link signed with the stored secret, no job failed.
import { Logger, run, type Runner } from "graphile-worker";
import crypto from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import type { SendingSettings } from "../../src/sending/settings.ts";
import { verifyUnsubscribeToken } from "../../src/sending/unsubscribe-token.ts";
import { createTaskList } from "../../tasks/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { campaignStatus, createCampaign, createList, createSender, testSendingSettings } from "../helpers/sending.ts";
import { waitFor } from "../helpers/wait.ts";

const CAMPAIGNS = 10;
const silentWorkerLogger = new Logger(() => () => undefined);
const RECIPIENTS = 20;

let db: TestDatabase;
let sandbox: Sandbox;
let settings: SendingSettings;
let workerPool: pg.Pool;
let runner: Runner | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001 } });
  settings = testSendingSettings({ defaultConnectionString: sandbox.connectionString, unsubscribeSecret: undefined, leaseSeconds: 5 });
  workerPool = new pg.Pool({ connectionString: db.ownerUrl, max: CAMPAIGNS + 5 });
  workerPool.on("error", () => undefined);
  workerPool.on("connect", (client) => client.on("error", () => undefined));
});

afterAll(async () => {
  await runner?.stop().catch(() => undefined);
  await workerPool?.end();
  await sandbox?.stop();
  await db?.drop();
});


describe("unsubscribe signing secret", () => {
  it("ten campaigns started at once while the secret is being stored: each recipient once, no job failed", { timeout: 60_000 }, async () => {
    expect((await db.pool.query("select count(*)::int as n from app_private.signing_secrets")).rows[0].n).toBe(0);

    const senderId = await createSender(db.pool);
    const campaignIds: string[] = [];
    for (let i = 0; i < CAMPAIGNS; i++) {
      campaignIds.push(await createCampaign(db.pool, { senderId, listIds: [await createList(db.pool, RECIPIENTS, `c${i}-`)] }));
    }

    // Another process's first use of the secret, in the middle of storing it.
    const first = new pg.Client({ connectionString: db.ownerUrl });
    first.on("error", () => undefined);
    await first.connect();
    const stored = crypto.randomBytes(32).toString("base64url");
    try {
      await first.query("begin");
      expect((await first.query("select app_private.signing_secret('unsubscribe', $1) as s", [stored])).rows[0].s).toBe(stored);

      await Promise.all(campaignIds.map((id) => db.pool.query("select app_public.start_campaign($1)", [id])));
      const failures: string[] = [];
      runner = await run({ pgPool: workerPool, taskList: createTaskList(settings), concurrency: CAMPAIGNS, pollInterval: 100, logger: silentWorkerLogger });
      runner.events.on("job:failed", ({ job, error }) => failures.push(`${job.task_identifier} ${job.payload ? JSON.stringify(job.payload) : ""}: ${String(error)}`));
      runner.events.on("job:error", ({ job, error }) => failures.push(`${job.task_identifier} (error): ${String(error)}`));

      // All ten send jobs are waiting for that transaction, each for the secret it is storing.
      await waitFor(
        async () =>
          (
            await db.pool.query(
              `select count(*)::int as n from pg_stat_activity
               where datname = current_database() and wait_event_type = 'Lock' and query like '%signing_secret%'`,
            )
          ).rows[0].n === CAMPAIGNS,
        20_000,
        "ten send jobs waiting for the secret",
      );
      await first.query("commit");

      await waitFor(
        async () => (await Promise.all(campaignIds.map((id) => campaignStatus(db.pool, id)))).every((s) => s === "finished"),
        30_000,
        "every campaign finished",
      );
      // Each send job returns once its campaign is done, and graphile-worker removes it.
      await waitFor(
        async () => (await db.pool.query("select count(*)::int as n from graphile_worker._private_jobs")).rows[0].n === 0,
        15_000,
        "every send job to complete",
      );
      await runner.stop();
      runner = undefined;

      expect(failures).toEqual([]);
      const { rows: jobs } = await db.pool.query(
        `select count(*)::int as left, count(*) filter (where last_error is not null)::int as failed from graphile_worker._private_jobs`,
      );
      expect(jobs[0]).toEqual({ left: 0, failed: 0 });

      const { rows: messages } = await db.pool.query(
        "select send_status, count(*)::int as n, sum(send_attempts)::int as attempts from app_public.messages group by send_status",
      );
      expect(messages).toEqual([{ send_status: "accepted", n: CAMPAIGNS * RECIPIENTS, attempts: CAMPAIGNS * RECIPIENTS }]);

      const emails = sandbox.emails({ limit: 10_000 });
      const recipients = emails.map((e) => e.recipients.to[0]);
      expect(recipients).toHaveLength(CAMPAIGNS * RECIPIENTS);
      expect(new Set(recipients).size).toBe(CAMPAIGNS * RECIPIENTS);
      expect(sandbox.stats().emails.replays).toBe(0);

      // One secret, the one stored first; every link is signed with it.
      const { rows: secrets } = await db.pool.query("select name, secret from app_private.signing_secrets");
      expect(secrets).toEqual([{ name: "unsubscribe", secret: stored }]);
      const verified = emails.filter((e) => {
        const token = /\/unsubscribe\/([^>]+)>$/.exec(e.headers["List-Unsubscribe"])?.[1] ?? "";
        return verifyUnsubscribeToken(stored, token) === e.operationId;
      });
      expect(verified).toHaveLength(CAMPAIGNS * RECIPIENTS);
    } finally {
      await first.end();
    }
  });
});
