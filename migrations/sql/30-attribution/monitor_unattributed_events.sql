-- Runs with its owner's rights (security_invoker false): it reads app_private.pending_events, which the
-- request roles may not read themselves.
create or replace view app_public.monitor_unattributed_events with (security_invoker = false) as
select coalesce(e.sender, '(none)') as sender,
  case when now() - e.received_at < interval '5 minutes' then '1: < 5 min'
       when now() - e.received_at < interval '1 hour' then '2: < 1 h'
       when now() - e.received_at < interval '1 day' then '3: < 1 day'
       else '4: >= 1 day' end as age,
  count(*) as events, min(e.received_at) as oldest_received_at
from app_private.pending_events as p join app_public.raw_events as e on e.id = p.raw_event_id
group by 1, 2;

comment on view app_public.monitor_unattributed_events is 'Unattributed delivery and engagement events by sender and age.';

grant select on app_public.monitor_unattributed_events to :DATABASE_ADMIN;
grant select on app_public.monitor_unattributed_events to :DATABASE_READONLY;
