// Sending tests: a sender, lists, subscribers and a campaign in one go, and the send job run as the worker
// would, against the sandbox.
import type pg from "pg";
import pino from "pino";
import type { SandboxSettings } from "../../src/sandbox/settings.ts";
import { DEFAULT_SENDING_SETTINGS, type SendingSettings } from "../../src/sending/settings.ts";
import { createTaskList } from "../../tasks/index.ts";
import { superuserQuery, type TestDatabase } from "./database.ts";
import { runQueuedJobs } from "./receiver.ts";
import { runMailroom, type MailroomProcess } from "./process.ts";

/**
 * A sandbox that accepts and delivers every email within a second, with no quotas and no engagement, duplicates or
 * unsubscribes of its own: whatever opens, clicks or unsubscribes in a test is the test's own doing.
 */
export const QUIET_SANDBOX: Partial<SandboxSettings> = {
  quotaPerMinute: null,
  quotaPerHour: null,
  timeScale: 0.001,
  viewProbability: 0,
  clickProbability: 0,
  machineOpenProbability: 0,
  scannerClickProbability: 0,
  unsubscribeRate: 0,
  duplicateShare: 0,
  deliveryDelaySeconds: [0, 1],
  statusMix: { Delivered: 1, Expanded: 0, Bounced: 0, Suppressed: 0, FilteredSpam: 0, Quarantined: 0, Failed: 0 },
};

/** Shortens the quota windows of this database (setting mailroom.quota_time_scale), as the sandbox's timeScale does. */
export async function prepareSendingDatabase(db: TestDatabase, options: { quotaTimeScale?: number } = {}): Promise<void> {
  if (options.quotaTimeScale !== undefined) {
    await superuserQuery(`alter database ${db.name} set mailroom.quota_time_scale = '${options.quotaTimeScale}'`);
  }
}

export interface SenderSpec {
  fromAddress?: string;
  perMinute?: number | null;
  perHour?: number | null;
  perDay?: number | null;
  window?: { start: string; end: string; timeZone: string };
  connectionString?: string;
}

export async function createSender(pool: pg.Pool, spec: SenderSpec = {}): Promise<string> {
  const from = spec.fromAddress ?? `news-${Math.random().toString(36).slice(2, 8)}@mail.example.com`;
  const { rows } = await pool.query(
    `insert into app_public.senders (name, from_address, sending_domain, per_minute_limit, per_hour_limit, per_day_limit,
       send_window_start, send_window_end, send_window_time_zone)
     values ($1, $1, '', $2, $3, $4, $5, $6, $7) returning id`,
    [
      from,
      spec.perMinute === undefined ? null : spec.perMinute,
      spec.perHour === undefined ? null : spec.perHour,
      spec.perDay ?? null,
      spec.window?.start ?? null,
      spec.window?.end ?? null,
      spec.window?.timeZone ?? null,
    ],
  );
  if (spec.connectionString) {
    await pool.query("select app_public.set_sender_connection_string($1, $2)", [rows[0].id, spec.connectionString]);
  }
  return rows[0].id as string;
}

/** A single opt-in list with `count` new confirmed subscribers (one INSERT each). */
export async function createList(pool: pg.Pool, count: number, prefix = "r"): Promise<string> {
  const { rows } = await pool.query(
    `with list as (insert into app_public.lists (name, opt_in) values ($2, 'single') returning id),
     subscribers as (
       insert into app_public.subscribers (email, name)
       select format('%s-%s@example.org', $2::text, i), format('Person %s', i) from generate_series(1, $1::int) as i
       returning id
     ),
     members as (
       insert into app_public.list_memberships (list_id, subscriber_id, status)
       select list.id, subscribers.id, 'confirmed' from list, subscribers
     )
     select id from list`,
    [count, `${prefix}${Math.random().toString(36).slice(2, 7)}`],
  );
  return rows[0].id as string;
}

export interface CampaignSpec {
  senderId: string;
  listIds: string[];
  subject?: string;
  html?: string;
  text?: string;
  name?: string;
}

export async function createCampaign(pool: pg.Pool, spec: CampaignSpec): Promise<string> {
  const { rows } = await pool.query(
    `insert into app_public.campaigns (name, sender_id, subject, html_body, text_body) values ($1, $2, $3, $4, $5) returning id`,
    [
      spec.name ?? "Newsletter",
      spec.senderId,
      spec.subject ?? "Hello {{ subscriber.name }}",
      spec.html ?? '<p>Dear {{ subscriber.name }},</p><p>News from {{ list.name }}. <a href="https://example.org/read">Read</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
      spec.text ?? "",
    ],
  );
  const id = rows[0].id as string;
  await pool.query(
    "insert into app_public.campaign_lists (campaign_id, list_id) select $1, unnest($2::bigint[])",
    [id, spec.listIds],
  );
  return id;
}

export const silentLog = pino({ level: "silent" });

/** Sending settings for tests (the send tasks run over them: runSending, runQueuedJobs); `change` overrides. */
export function testSendingSettings(change: Partial<SendingSettings>): SendingSettings {
  return {
    ...DEFAULT_SENDING_SETTINGS,
    publicUrl: "https://mailroom.example.com",
    // A claim's lease must outlast its requests with room to spare (the configuration allows a timeout of at
    // most half the lease): a lease that ends while a request is in flight on a busy machine gets the message
    // looked up and sent again.
    leaseSeconds: 30,
    timeoutMs: 5_000,
    retryBaseMs: 200,
    maxInlineWaitMs: 120_000,
    log: silentLog,
    ...change,
  };
}

/** Runs every due job (send_campaign, ingest) over `sending` until none is left, as the worker would. */
export async function runSending(pool: pg.Pool, sending: SendingSettings): Promise<void> {
  if (process.env.SEND_DEBUG) {
    const { runOnce, Logger } = await import("graphile-worker");
    await runOnce({ pgPool: pool, taskList: createTaskList(sending), logger: new Logger(() => (level, message) => console.log(level, message)) });
    return;
  }
  await runQueuedJobs(pool, sending);
}

export async function sendStatusCounts(pool: pg.Pool, campaignId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    "select send_status, count(*)::int as n from app_public.messages where campaign_id = $1 group by send_status",
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.send_status, r.n]));
}

export async function campaignStatus(pool: pg.Pool, campaignId: string): Promise<string> {
  const { rows } = await pool.query("select status from app_public.campaigns where id = $1", [campaignId]);
  return rows[0].status as string;
}

/**
 * A `mailroom worker` process sending through the sandbox, with a short lease (5 s) so that a test sees a crashed
 * claim looked up quickly; `settings` adds or overrides environment variables.
 */
export function startSendingWorker(databaseUrl: string, sandbox: { connectionString: string }, settings: Record<string, string> = {}): MailroomProcess {
  return runMailroom(["worker"], {
    DATABASE_URL: databaseUrl,
    ACS_CONNECTION_STRING: sandbox.connectionString,
    PUBLIC_URL: "https://mailroom.example.com",
    SEND_LEASE_SECONDS: "5",
    SEND_TIMEOUT_MS: "2000",
    SEND_CONCURRENCY: "4",
    LOG_LEVEL: "info",
    ...settings,
  });
}
