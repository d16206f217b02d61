create or replace view app_public.monitor_attribution_lag with (security_invoker = true) as
select me.attributed_by, count(*) as events,
  percentile_cont(0.5) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p50_seconds,
  percentile_cont(0.95) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p95_seconds,
  percentile_cont(0.99) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p99_seconds,
  max(extract(epoch from me.attributed_at - e.received_at)) as max_seconds
from app_public.message_events as me join app_public.raw_events as e on e.id = me.raw_event_id
where me.attributed_at > now() - interval '1 day'
group by rollup (me.attributed_by);

comment on view app_public.monitor_attribution_lag is 'Seconds from receiving an event to attributing it, over the last day, per key used (and overall: attributed_by NULL).';

grant select on app_public.monitor_attribution_lag to :DATABASE_ADMIN;
grant select on app_public.monitor_attribution_lag to :DATABASE_READONLY;
