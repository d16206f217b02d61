-- How long attribution takes now, for the dashboard's health page: monitor_attribution_lag's numbers over the most
-- recently received `events` events of the last day (default 10,000) instead of all of the day's. The view reads
-- every event attributed in the last day, which after a campaign of a million messages is over a million rows and
-- seconds; this reads the newest events by raw_events_received_at_idx and their message_events rows by primary key:
-- milliseconds, whatever the day's volume. Events not attributed (pending, test sends, other types) are not in it,
-- so a sample may hold fewer rows than asked for. `since`: the oldest receipt in the sample.
-- Security invoker: the caller's privileges and row level security apply.
create or replace function app_public.attribution_lag_recent(events integer default 10000)
returns table (attributed_by text, events bigint, p50_seconds double precision, p95_seconds double precision,
               p99_seconds double precision, max_seconds double precision, is_total boolean, since timestamptz) as $$
  with recent as materialized (
    select e.id, e.received_at from app_public.raw_events as e
    where e.received_at > now() - interval '1 day'
    order by e.received_at desc
    limit attribution_lag_recent.events
  ),
  lag as (
    -- Each event's message_events row by primary key (a lateral lookup: a hash join would read the whole table).
    select me.attributed_by, r.received_at, extract(epoch from me.attributed_at - r.received_at)::double precision as seconds
    from recent as r
    cross join lateral (
      select x.attributed_by, x.attributed_at from app_public.message_events as x where x.raw_event_id = r.id limit 1
    ) as me
  )
  select l.attributed_by, count(*),
    percentile_cont(0.5) within group (order by l.seconds),
    percentile_cont(0.95) within group (order by l.seconds),
    percentile_cont(0.99) within group (order by l.seconds),
    max(l.seconds),
    grouping(l.attributed_by) = 1,
    min(l.received_at)
  from lag as l
  group by rollup (l.attributed_by)
  order by grouping(l.attributed_by), l.attributed_by
$$ language sql stable security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_public.attribution_lag_recent(events integer) is 'Seconds from receiving an event to attributing it, as monitor_attribution_lag, over the most recently received `events` events of the last day (default 10,000): per key (attributed_by) and for all keys (is_total), with the oldest receipt in the sample (since). Reads the newest events by index, so it costs milliseconds whatever the day''s volume; for the dashboard''s health page.';

revoke all on function app_public.attribution_lag_recent(events integer) from public;
grant execute on function app_public.attribution_lag_recent(events integer) to :DATABASE_ADMIN;
grant execute on function app_public.attribution_lag_recent(events integer) to :DATABASE_READONLY;
