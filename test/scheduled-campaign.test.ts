// A scheduled campaign starts when its time comes, through the start_scheduled_campaign job; one that was
// unscheduled meanwhile does not.
import { Logger, runOnce } from "graphile-worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import startScheduledCampaign from "../tasks/start_scheduled_campaign.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function campaign(name: string): Promise<string> {
  const { rows } = await db.pool.query(
    `with sender as (
       insert into app_public.senders (name, from_address) values ($1, $1 || '@news.example.com') returning id
     ), list as (
       insert into app_public.lists (name, opt_in) values ($1, 'single') returning id
     ), subscriber as (
       insert into app_public.subscribers (email) values ($1 || '-reader@example.org') returning id
     ), member as (
       insert into app_public.list_memberships (list_id, subscriber_id, status)
       select list.id, subscriber.id, 'confirmed' from list, subscriber
     ), created as (
       insert into app_public.campaigns (name, sender_id, subject, text_body)
       select $1, id, 'Hello', 'Hello {{ subscriber.email }}' from sender returning id
     )
     insert into app_public.campaign_lists (campaign_id, list_id) select created.id, list.id from created, list
     returning campaign_id`,
    [name],
  );
  return rows[0].campaign_id;
}

async function runStartJobs() {
  // Only this task: the send jobs that starting queues are another test's business.
  await runOnce({ pgPool: db.pool, logger: new Logger(() => () => undefined) }, { start_scheduled_campaign: startScheduledCampaign });
}

test("scheduled, due: started by the job, recipients materialised; unscheduled meanwhile: left alone", async () => {
  const due = await campaign("due");
  const withdrawn = await campaign("withdrawn");
  for (const id of [due, withdrawn]) {
    await db.pool.query("select app_public.schedule_campaign($1, now() + interval '1 hour')", [id]);
  }
  await db.pool.query("select app_public.unschedule_campaign($1)", [withdrawn]);

  await runStartJobs();
  const status = async (id: string) =>
    (await db.pool.query("select status from app_public.campaigns where id = $1", [id])).rows[0].status;
  expect(await status(due)).toBe("scheduled");

  // The time comes: the campaign's start and both jobs brought forward to now, instead of waiting for them.
  await db.pool.query("update app_public.campaigns set scheduled_at = now() where id = $1", [due]);
  const { rows: jobs } = await db.pool.query(
    `select graphile_worker.reschedule_jobs(array_agg(id), run_at => now()) from graphile_worker.jobs
     where task_identifier = 'start_scheduled_campaign'`,
  );
  expect(jobs).toHaveLength(2);
  await runStartJobs();
  expect(await status(due)).toBe("running");
  expect(await status(withdrawn)).toBe("draft");
  const messages = await db.pool.query("select count(*)::int as n from app_public.messages where campaign_id = $1", [due]);
  expect(messages.rows[0].n).toBe(1);
});
