// Prometheus metrics at GET /metrics. Two kinds:
// - this process's own counters and histograms (HTTP latency, webhook deliveries and events received,
//   ACS send results), kept by prom-client in one registry per process;
// - numbers read from PostgreSQL at each scrape, true for every process sharing the database (events
//   ingested and attributed, unattributed events, attribution lag, messages by send status, throttled
//   senders, the job queue). One query per scrape, bounded by a statement timeout.
import client from "prom-client";
import type pg from "pg";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequestDuration = new client.Histogram({
  name: "mailroom_http_request_duration_seconds",
  help: "Time to answer HTTP requests, by route and status.",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const webhookDeliveries = new client.Counter({
  name: "mailroom_webhook_deliveries_total",
  help: "Event Grid deliveries (HTTP requests to /webhooks/acs) by the status answered.",
  labelNames: ["status"] as const,
  registers: [registry],
});

export const trackingHits = new client.Counter({
  name: "mailroom_tracking_hits_total",
  help: "Requests to the open pixel and click redirect, by outcome: open, click, honeypot (stored, then answered), preview (a preview's link: answered, not stored), refused (404: not a genuine token), malformed (400), unavailable (503: could not be stored).",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export const webhookEventsReceived = new client.Counter({
  name: "mailroom_webhook_events_received_total",
  help: "Events acknowledged with 200 (stored in a job), by envelope schema.",
  labelNames: ["schema"] as const,
  registers: [registry],
});

export const acsSendResults = new client.Counter({
  name: "mailroom_acs_send_results_total",
  help: "Answers to send requests from ACS in this process: accepted, failed (permanent), throttled (429), unknown (5xx, timeout, network).",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

/** The route label: a fixed set, so that tokens and ids in URLs never become label values. */
export function routeLabel(path: string): string {
  if (path === "/webhooks/acs") return "/webhooks/acs";
  if (path.startsWith("/graphql")) return "/graphql";
  if (path.startsWith("/unsubscribe")) return "/unsubscribe";
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") return path;
  // The dashboard: its live streams apart, as each lasts as long as its page is open.
  if (/^\/campaigns\/[^/]+\/live$/.test(path)) return "/campaigns/:id/live";
  if (path === "/" || path === "/sign-in" || path === "/sign-out" || path === "/subscribers" || path === "/senders"
    || path === "/health" || path.startsWith("/campaigns") || path.startsWith("/dashboard/")) return "dashboard";
  return "other";
}

interface Sample {
  name: string;
  help: string;
  type: "gauge" | "counter";
  values: { labels?: Record<string, string>; value: number }[];
}

function format(samples: Sample[]): string {
  const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return samples
    .map((s) => {
      const lines = [`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`];
      for (const v of s.values) {
        const labels = v.labels
          ? `{${Object.entries(v.labels).map(([k, l]) => `${k}="${escape(l)}"`).join(",")}}`
          : "";
        lines.push(`${s.name}${labels} ${Number.isFinite(v.value) ? v.value : "NaN"}`);
      }
      return lines.join("\n");
    })
    .join("\n");
}

/** The numbers PostgreSQL knows, in one statement. */
export const DATABASE_METRICS_QUERY = `
  with stats as (
    select relname, n_tup_ins from pg_stat_user_tables
    where (schemaname, relname) in (('app_public', 'raw_events'), ('app_public', 'message_events'))
  ),
  recent as (
    -- The most recently attributed events (newest raw events first, by primary key).
    select extract(epoch from me.attributed_at - e.received_at) as lag
    from app_public.message_events as me
    join app_public.raw_events as e on e.id = me.raw_event_id
    order by me.raw_event_id desc
    limit 1000
  ),
  jobs as (
    select
      count(*) filter (where j.locked_at is null and j.run_at <= now() and j.attempts < j.max_attempts) as runnable,
      count(*) filter (where j.locked_at is not null) as running,
      -- Failed on its last attempt: unlocked, attempts used up, and an error recorded. Not a job running its
      -- last attempt (locked), nor one graphile-worker took the key from because it was replaced while locked
      -- (attempts set to max_attempts, no error of its own; send jobs are no longer left that way).
      count(*) filter (where j.locked_at is null and j.attempts >= j.max_attempts and j.last_error is not null) as failed_permanently,
      count(*) filter (where j.last_error is not null and j.attempts < j.max_attempts) as failed_retrying,
      coalesce(extract(epoch from now() - min(j.run_at) filter (where j.locked_at is null and j.run_at <= now()
                                                                 and j.attempts < j.max_attempts)), 0) as oldest_age
    from graphile_worker._private_jobs as j
  )
  select
    coalesce((select n_tup_ins from stats where relname = 'raw_events'), 0) as raw_events_inserted,
    coalesce((select n_tup_ins from stats where relname = 'message_events'), 0) as events_attributed,
    (select count(*) from app_private.pending_events) as events_unattributed,
    (select count(*) from app_public.raw_events where problem is not null) as events_with_problem,
    (select coalesce(percentile_cont(0.5) within group (order by lag), 0) from recent) as lag_p50,
    (select coalesce(percentile_cont(0.95) within group (order by lag), 0) from recent) as lag_p95,
    (select coalesce(max(lag), 0) from recent) as lag_max,
    (select coalesce(jsonb_object_agg(status, n), '{}') from (
       select 'queued' as status, sum(queued) as n from app_public.campaign_rollups
       union all select 'sending', sum(sending) from app_public.campaign_rollups
       union all select 'accepted', sum(accepted) from app_public.campaign_rollups
       union all select 'failed', sum(send_failed) from app_public.campaign_rollups
       union all select 'cancelled', sum(cancelled) from app_public.campaign_rollups
       union all select 'skipped', sum(skipped) from app_public.campaign_rollups
     ) as s where n is not null) as messages_by_send_status,
    (select count(*) from app_private.sender_throttles where paused_until > now()) as senders_throttled,
    jobs.*
  from jobs`;

const DATABASE_DOWN = format([
  { name: "mailroom_database_up", help: "1 when the metrics query succeeded.", type: "gauge", values: [{ value: 0 }] },
]);

export async function databaseMetrics(pool: pg.Pool): Promise<string> {
  let connection: pg.PoolClient;
  try {
    connection = await pool.connect();
  } catch {
    return DATABASE_DOWN;
  }
  try {
    await connection.query("begin read only");
    await connection.query("set local statement_timeout = '5s'");
    const { rows } = await connection.query(DATABASE_METRICS_QUERY);
    await connection.query("commit");
    const r = rows[0];
    const n = (v: unknown) => Number(v ?? 0);
    const bySendStatus = r.messages_by_send_status as Record<string, string>;
    return format([
      { name: "mailroom_database_up", help: "1 when the metrics query succeeded.", type: "gauge", values: [{ value: 1 }] },
      { name: "mailroom_raw_events_inserted_total", help: "Distinct events stored (redeliveries not counted), since PostgreSQL's statistics were last reset.", type: "counter", values: [{ value: n(r.raw_events_inserted) }] },
      { name: "mailroom_events_attributed_total", help: "Events attributed to a message, since PostgreSQL's statistics were last reset.", type: "counter", values: [{ value: n(r.events_attributed) }] },
      { name: "mailroom_events_unattributed", help: "Delivery and engagement events waiting for their message.", type: "gauge", values: [{ value: n(r.events_unattributed) }] },
      { name: "mailroom_events_with_problem", help: "Events stored but not interpretable (see raw_events.problem).", type: "gauge", values: [{ value: n(r.events_with_problem) }] },
      {
        name: "mailroom_attribution_lag_seconds",
        help: "Seconds from receiving an event to attributing it, over the 1,000 most recently stored attributed events.",
        type: "gauge",
        values: [
          { labels: { quantile: "0.5" }, value: n(r.lag_p50) },
          { labels: { quantile: "0.95" }, value: n(r.lag_p95) },
          { labels: { quantile: "1" }, value: n(r.lag_max) },
        ],
      },
      {
        name: "mailroom_messages",
        help: "Messages by send status, over all campaigns.",
        type: "gauge",
        values: Object.entries(bySendStatus).map(([status, value]) => ({ labels: { send_status: status }, value: n(value) })),
      },
      { name: "mailroom_senders_throttled", help: "Senders paused now after ACS answered 429.", type: "gauge", values: [{ value: n(r.senders_throttled) }] },
      {
        name: "mailroom_jobs",
        help: "graphile-worker jobs by state: runnable (waiting, due), running (locked by a worker), failed_retrying (failed, will be retried), failed_permanently (failed on its last attempt; kept until removed).",
        type: "gauge",
        values: [
          { labels: { state: "runnable" }, value: n(r.runnable) },
          { labels: { state: "running" }, value: n(r.running) },
          { labels: { state: "failed_retrying" }, value: n(r.failed_retrying) },
          { labels: { state: "failed_permanently" }, value: n(r.failed_permanently) },
        ],
      },
      { name: "mailroom_job_queue_oldest_seconds", help: "Age of the oldest runnable job that no worker has taken yet.", type: "gauge", values: [{ value: n(r.oldest_age) }] },
    ]);
  } catch {
    await connection.query("rollback").catch(() => undefined);
    return DATABASE_DOWN;
  } finally {
    connection.release();
  }
}

export async function metricsText(pool: pg.Pool): Promise<string> {
  return `${await registry.metrics()}\n${await databaseMetrics(pool)}\n`;
}
