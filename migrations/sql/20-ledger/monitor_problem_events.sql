create or replace view app_public.monitor_problem_events with (security_invoker = true) as
  select e.id, e.source, e.event_id, e.problem, e.received_at, e.event, e.event_text
  from app_public.raw_events as e
  where e.problem is not null;

comment on view app_public.monitor_problem_events is 'Events that could not be interpreted or stored as JSON, with the reason and the event as received; kept, never dropped.';

grant select on app_public.monitor_problem_events to :DATABASE_ADMIN;
grant select on app_public.monitor_problem_events to :DATABASE_READONLY;
