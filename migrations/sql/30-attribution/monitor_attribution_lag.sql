-- How long attribution takes: seconds from receiving an event to attributing it, over the last day, per key used,
-- and over all keys together. The row of all keys has is_total true (and attributed_by NULL, as GROUP BY ROLLUP
-- gives it); with no event in the last day it is the only row, with 0 events. is_total comes last so that the
-- view's earlier columns keep their places (create or replace view may only append columns).
create or replace view app_public.monitor_attribution_lag with (security_invoker = true) as
select me.attributed_by, count(*) as events,
  percentile_cont(0.5) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p50_seconds,
  percentile_cont(0.95) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p95_seconds,
  percentile_cont(0.99) within group (order by extract(epoch from me.attributed_at - e.received_at)) as p99_seconds,
  max(extract(epoch from me.attributed_at - e.received_at)) as max_seconds,
  grouping(me.attributed_by) = 1 as is_total
from app_public.message_events as me join app_public.raw_events as e on e.id = me.raw_event_id
where me.attributed_at > now() - interval '1 day'
group by rollup (me.attributed_by);

comment on view app_public.monitor_attribution_lag is 'Seconds from receiving an event to attributing it, over the last day, per key used (attributed_by), and over all keys together (the row with is_total true, attributed_by NULL).';
comment on column app_public.monitor_attribution_lag.attributed_by is 'The key the events were attributed by: internet_message_id, operation_id_and_recipient, operation_id; NULL on the row of all keys (is_total).';
comment on column app_public.monitor_attribution_lag.is_total is 'True on the one row that counts the events attributed by every key together.';

grant select on app_public.monitor_attribution_lag to :DATABASE_ADMIN;
grant select on app_public.monitor_attribution_lag to :DATABASE_READONLY;
