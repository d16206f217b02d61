// A demo stopped mid-campaign and started again with `npm start` (no --demo) on the same data directory resumes its
// campaign with the demo's sandbox settings, not the sandbox's defaults (100 emails an hour per sender), under which
// a campaign of 300 crawls for hours.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { freePort, runMailroom, runNpm, stopProcesses, type MailroomProcess } from "./helpers/process.ts";
import { testClient } from "./helpers/pg.ts";
import { waitFor } from "./helpers/wait.ts";

const running: MailroomProcess[] = [];
let dir: string | undefined;

afterAll(async () => {
  await stopProcesses(running);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface CampaignState {
  status: string;
  recipients: number;
  accepted: number;
}

async function campaignState(env: Record<string, string>, campaignId: string): Promise<CampaignState> {
  const credentials = JSON.parse(fs.readFileSync(path.join(env.MAILROOM_DATA_DIR, "credentials.json"), "utf8"));
  const client = testClient({
    connectionString: `postgres://mailroom:${encodeURIComponent(credentials.owner)}@127.0.0.1:${env.EMBEDDED_PG_PORT}/mailroom`,
  });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select c.status, r.recipients::int, r.accepted::int
       from app_public.campaigns c join app_public.campaign_rollups r on r.campaign_id = c.id where c.id = $1`,
      [campaignId],
    );
    return rows[0] as CampaignState;
  } finally {
    await client.end();
  }
}

const SUBSCRIBERS = 300;

test("a demo restarted with npm start resumes its campaign at the demo's pace", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-demo-restart-"));
  fs.chmodSync(dir, 0o755);
  const env: Record<string, string> = { MAILROOM_DATA_DIR: dir, PORT: "0", EMBEDDED_PG_PORT: String(await freePort()) };

  // The first run sends slowly on purpose (each request to the sandbox takes a second, two at a time: 300 messages
  // take at least 150 s), so that it is certainly mid-campaign when stopped; it claims two messages at a time with a
  // short lease, so that what it held at the stop is free again soon after.
  const first = runMailroom(["demo", "--subscribers", String(SUBSCRIBERS)], {
    ...env,
    SANDBOX_LATENCY_MS: "1000",
    SEND_CONCURRENCY: "2",
    SEND_BATCH_SIZE: "2",
    SEND_LEASE_SECONDS: "5",
    SEND_TIMEOUT_MS: "2500",
  });
  running.push(first);
  await first.waitFor(new RegExp(`demo campaign \\d+ started: ${SUBSCRIBERS} messages`), 90_000);
  const campaignId = /demo campaign (\d+) started/.exec(first.output())![1]!;
  await waitFor(async () => (await campaignState(env, campaignId)).accepted > 0, 60_000, "the first messages accepted");
  first.child.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  // Started again as a plain `npm start`, without the first run's settings.
  const second = runNpm("start", [], env);
  running.push(second);
  await second.waitFor(/Mailroom is ready/, 90_000);
  const atRestart = await campaignState(env, campaignId);
  expect(atRestart.recipients).toBe(SUBSCRIBERS);
  expect(atRestart.accepted).toBeLessThan(SUBSCRIBERS);

  // Under the sandbox's default quotas (30 a minute and 100 an hour, at its time scale of 0.1: 30 per 6 s and 100 per
  // 6 minutes) at most 100 messages could be accepted in the next 60 s; with the demo's settings all of them are.
  const finished = await waitFor(
    async () => {
      const state = await campaignState(env, campaignId);
      return state.status === "finished" ? state : undefined;
    },
    60_000,
    `demo campaign ${campaignId} finished after the restart`,
    500,
  );
  expect(finished.accepted).toBe(SUBSCRIBERS);
  expect(second.output()).toContain(`demo campaign ${campaignId} unfinished: the sandbox runs with the demo's settings (quotas off/off, time scale 0.1)`);
  second.child.kill("SIGTERM");
  expect(await second.exited).toBe(0);
}, 300_000);
