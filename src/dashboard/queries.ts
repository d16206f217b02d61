// What the dashboard's pages read, each on the connection of a session's transaction (src/dashboard/session.ts):
// the role of the signed-in API key is set, so row level security and grants apply. The campaign report reads
// the rollup, the per-hour engagement and the link clicks of one campaign; no query reads the messages table.
// Each query and its plan are listed in docs/dashboard.md.
import type pg from "pg";

type Row = Record<string, unknown>;

const count = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));

export const CAMPAIGN_STATUSES = ["draft", "scheduled", "running", "paused", "finished", "cancelled"] as const;

export interface CampaignSummary {
  id: string;
  name: string;
  status: string;
  since: Date;
  recipients: number;
  accepted: number;
  delivered: number;
  openRate: number | null;
  clickRate: number | null;
  bounces: number;
}

/** The campaigns page: every campaign (newest first, at most `limit`), with its numbers from campaign_stats. */
export async function listCampaigns(client: pg.ClientBase, status: string | undefined, limit = 500): Promise<CampaignSummary[]> {
  const { rows } = await client.query(
    `select c.id, c.name, c.status, c.status_changed_at, s.recipients, s.accepted, s.delivered, s.open_rate, s.click_rate,
       s.bounced_hard + s.bounced_soft as bounces
     from app_public.campaigns as c
     left join app_public.campaign_stats as s on s.campaign_id = c.id
     where $1::text is null or c.status = $1
     order by c.id desc
     limit $2`,
    [status ?? null, limit],
  );
  return rows.map((r: Row) => ({
    id: String(r.id),
    name: r.name as string,
    status: r.status as string,
    since: r.status_changed_at as Date,
    recipients: count(r.recipients),
    accepted: count(r.accepted),
    delivered: count(r.delivered),
    openRate: r.open_rate === null ? null : Number(r.open_rate),
    clickRate: r.click_rate === null ? null : Number(r.click_rate),
    bounces: count(r.bounces),
  }));
}

/** The rollup's columns the report shows (app_public.campaign_rollups), as numbers. */
export const ROLLUP_COLUMNS = [
  "recipients", "queued", "sending", "accepted", "send_failed", "cancelled", "skipped", "delivered", "expanded",
  "bounced_hard", "bounced_soft", "suppressed", "filtered_spam", "quarantined", "delivery_failed", "unknown_status",
  "unique_opens_human", "unique_opens", "opens_human", "opens", "unique_clicks_human", "unique_clicks", "clicks_human",
  "clicks", "unsubscribes", "complaints",
] as const;

export type Rollup = Record<(typeof ROLLUP_COLUMNS)[number], number>;

export interface HourOfEngagement {
  /** The hour's start, ISO 8601. */
  hour: string;
  opens: number;
  opensHuman: number;
  clicks: number;
  clicksHuman: number;
}

export interface LinkClicks {
  url: string;
  clicksHuman: number;
  clicksMachine: number;
  messagesHuman: number;
}

export interface CampaignHeader {
  id: string;
  name: string;
  status: string;
  since: Date;
  senderName: string | null;
  startedAt: Date | null;
}

/** What changes while a campaign runs: sent to the page at each change (GET /campaigns/:id/live). */
export interface LiveReport {
  campaign: CampaignHeader;
  rollup: Rollup;
  series: HourOfEngagement[];
}

export interface BounceReason {
  /** hard, soft, complaint, send failed, skipped */
  kind: string;
  status: string | null;
  /** NULL on a kind's row of other reasons (beyond the first ones). */
  reason: string | null;
  events: number;
  lastAt: Date | null;
}

export interface CampaignReport extends LiveReport {
  links: LinkClicks[];
  reasons: BounceReason[];
}

/** The campaign with its rollup (one row each, by primary key), or undefined when it does not exist or is not visible. */
export async function readLiveReport(client: pg.ClientBase, campaignId: string): Promise<LiveReport | undefined> {
  const { rows } = await client.query(
    `select c.id, c.name, c.status, c.status_changed_at, c.started_at, s.name as sender_name, to_jsonb(r) as rollup
     from app_public.campaigns as c
     left join app_public.senders as s on s.id = c.sender_id
     left join app_public.campaign_rollups as r on r.campaign_id = c.id
     where c.id = $1`,
    [campaignId],
  );
  const row = rows[0] as Row | undefined;
  if (!row) return undefined;
  const stored = (row.rollup ?? {}) as Row;
  const rollup = Object.fromEntries(ROLLUP_COLUMNS.map((name) => [name, count(stored[name])])) as Rollup;
  const series = await client.query(
    "select hour, opens, opens_human, clicks, clicks_human from app_hidden.campaign_engagement_over_time($1)",
    [campaignId],
  );
  return {
    campaign: {
      id: String(row.id),
      name: row.name as string,
      status: row.status as string,
      since: row.status_changed_at as Date,
      senderName: (row.sender_name as string | null) ?? null,
      startedAt: (row.started_at as Date | null) ?? null,
    },
    rollup,
    series: series.rows.map((r: Row) => ({
      hour: (r.hour as Date).toISOString(),
      opens: count(r.opens),
      opensHuman: count(r.opens_human),
      clicks: count(r.clicks),
      clicksHuman: count(r.clicks_human),
    })),
  };
}

/**
 * The campaign report: the live part, its links by human clicks (at most `limit` links), and its bounces,
 * complaints and messages not sent by reason (app_public.campaign_bounce_reasons, the first 10 of each kind).
 */
export async function readCampaignReport(client: pg.ClientBase, campaignId: string, limit = 50): Promise<CampaignReport | undefined> {
  const live = await readLiveReport(client, campaignId);
  if (!live) return undefined;
  const { rows } = await client.query(
    `select url, sum(clicks_human) as clicks_human, sum(clicks_machine) as clicks_machine,
       count(*) filter (where clicks_human > 0) as messages_human
     from app_public.link_clicks
     where campaign_id = $1
     group by url
     order by sum(clicks_human) desc, sum(clicks_machine) desc, url
     limit $2`,
    [campaignId, limit],
  );
  const reasons = await client.query(
    "select kind, status, reason, events, last_at from app_public.campaign_bounce_reasons($1, 10)",
    [campaignId],
  );
  return {
    ...live,
    reasons: reasons.rows.map((r: Row) => ({
      kind: r.kind as string,
      status: r.status as string | null,
      reason: r.reason as string | null,
      events: count(r.events),
      lastAt: (r.last_at as Date | null) ?? null,
    })),
    links: rows.map((r: Row) => ({
      url: r.url as string,
      clicksHuman: count(r.clicks_human),
      clicksMachine: count(r.clicks_machine),
      messagesHuman: count(r.messages_human),
    })),
  };
}

export interface Subscriber {
  id: string;
  email: string;
  name: string;
  status: string;
}

/** A subscriber by id (digits) or email (any case), or undefined. */
export async function findSubscriber(client: pg.ClientBase, query: string): Promise<Subscriber | undefined> {
  const q = query.trim();
  const { rows } = /^\d{1,18}$/.test(q)
    ? await client.query("select id, email, name, status from app_public.subscribers where id = $1", [q])
    : await client.query("select id, email, name, status from app_public.subscribers where lower(email) = lower($1)", [q]);
  const r = rows[0] as Row | undefined;
  return r && { id: String(r.id), email: r.email as string, name: r.name as string, status: r.status as string };
}

export interface TimelineEntry {
  at: Date;
  kind: string;
  campaignId: string | null;
  campaignName: string | null;
  listName: string | null;
  status: string | null;
  detail: string | null;
  url: string | null;
  machine: boolean | null;
  machineReason: string | null;
  source: string | null;
}

/** app_public.subscriber_timeline, at most `limit` entries (the earliest). */
export async function readTimeline(client: pg.ClientBase, subscriberId: string, limit = 500): Promise<TimelineEntry[]> {
  const { rows } = await client.query(
    `select at, kind, campaign_id, campaign_name, list_name, status, coalesce(detail, bounce_type) as detail, url, machine,
       machine_reason, source
     from app_public.subscriber_timeline($1)
     limit $2`,
    [subscriberId, limit],
  );
  return rows.map((r: Row) => ({
    at: r.at as Date,
    kind: r.kind as string,
    campaignId: r.campaign_id === null ? null : String(r.campaign_id),
    campaignName: r.campaign_name as string | null,
    listName: r.list_name as string | null,
    status: r.status as string | null,
    detail: r.detail as string | null,
    url: r.url as string | null,
    machine: r.machine as boolean | null,
    machineReason: r.machine_reason as string | null,
    source: r.source as string | null,
  }));
}

export interface FailureRate {
  campaigns: number;
  accepted: number;
  failed: number;
  rate: number | null;
  aboveThreshold: boolean;
}

export interface SenderUse {
  id: string;
  name: string;
  fromAddress: string;
  limits: { minute: number | null; hour: number | null; day: number | null };
  sent: { minute: number; hour: number; day: number };
  capacityNow: number;
  pausedUntil: Date | null;
  windowOpen: boolean;
  failure: { day: FailureRate; week: FailureRate };
}

/** Every sender with its quota use now (senders_quota_use) and its failure rates (app_hidden.sender_failure_rates). */
export async function readSenders(client: pg.ClientBase): Promise<SenderUse[]> {
  const { rows } = await client.query(
    `select s.id, s.name, s.from_address, s.per_minute_limit, s.per_hour_limit, s.per_day_limit,
       q.sent_last_minute, q.sent_last_hour, q.sent_last_day, q.capacity_now, q.paused_until, q.window_open,
       (select jsonb_object_agg(f.window_name, jsonb_build_object('campaigns', f.campaigns, 'accepted', f.accepted,
          'failed', f.failed, 'rate', f.failure_rate, 'above', f.above_threshold))
        from app_hidden.sender_failure_rates as f where f.sender_id = s.id) as failure
     from app_public.senders as s
     cross join lateral app_public.senders_quota_use(s) as q
     order by s.id`,
  );
  const rate = (f: Row | undefined): FailureRate => ({
    campaigns: count(f?.campaigns),
    accepted: count(f?.accepted),
    failed: count(f?.failed),
    rate: f?.rate === null || f?.rate === undefined ? null : Number(f.rate),
    aboveThreshold: f?.above === true,
  });
  return rows.map((r: Row) => {
    const failure = (r.failure ?? {}) as Record<string, Row>;
    return {
      id: String(r.id),
      name: r.name as string,
      fromAddress: r.from_address as string,
      limits: { minute: r.per_minute_limit as number | null, hour: r.per_hour_limit as number | null, day: r.per_day_limit as number | null },
      sent: { minute: count(r.sent_last_minute), hour: count(r.sent_last_hour), day: count(r.sent_last_day) },
      capacityNow: count(r.capacity_now),
      pausedUntil: (r.paused_until as Date | null) ?? null,
      windowOpen: r.window_open as boolean,
      failure: { day: rate(failure["24 hours"]), week: rate(failure["7 days"]) },
    };
  });
}

export interface Health {
  unattributed: { sender: string; age: string; events: number; oldestReceivedAt: Date }[];
  unattributedTotal: number;
  oldestUnattributedAt: Date | null;
  lag: { attributedBy: string | null; events: number; p50: number | null; p95: number | null; p99: number | null; max: number | null; isTotal: boolean }[];
}

/**
 * Attribution health: monitor_unattributed_events, and the attribution lag of the newest `sample` events of the
 * last day (attribution_lag_recent: monitor_attribution_lag's numbers without reading all of a day's events).
 */
export async function readHealth(client: pg.ClientBase, sample = 10_000): Promise<Health> {
  const unattributed = await client.query(
    "select sender, age, events, oldest_received_at from app_public.monitor_unattributed_events order by age, sender",
  );
  const lag = await client.query(
    `select attributed_by, events, p50_seconds, p95_seconds, p99_seconds, max_seconds, is_total
     from app_public.attribution_lag_recent($1) order by is_total, attributed_by`,
    [sample],
  );
  const rows = unattributed.rows.map((r: Row) => ({
    sender: r.sender as string,
    age: r.age as string,
    events: count(r.events),
    oldestReceivedAt: r.oldest_received_at as Date,
  }));
  const oldest = rows.reduce<Date | null>((min, r) => (min === null || r.oldestReceivedAt < min ? r.oldestReceivedAt : min), null);
  const seconds = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    unattributed: rows,
    unattributedTotal: rows.reduce((sum, r) => sum + r.events, 0),
    oldestUnattributedAt: oldest,
    lag: lag.rows.map((r: Row) => ({
      attributedBy: r.attributed_by as string | null,
      events: count(r.events),
      p50: seconds(r.p50_seconds),
      p95: seconds(r.p95_seconds),
      p99: seconds(r.p99_seconds),
      max: seconds(r.max_seconds),
      isTotal: r.is_total as boolean,
    })),
  };
}
