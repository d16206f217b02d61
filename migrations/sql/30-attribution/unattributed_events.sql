-- Runs with its owner's rights (security_invoker false): it reads app_private.pending_events, which the
-- request roles may not read themselves.
create or replace view app_public.unattributed_events with (security_invoker = false) as
select e.id, e.source, e.event_id, e.event_type, e.sender, e.recipient, e.internet_message_id, e.operation_id,
  e.occurred_at, e.received_at, now() - e.received_at as age
from app_private.pending_events as p join app_public.raw_events as e on e.id = p.raw_event_id;

comment on view app_public.unattributed_events is 'Delivery and engagement events that match no message (yet). They are attributed as soon as a matching message appears.';

grant select on app_public.unattributed_events to :DATABASE_ADMIN;
grant select on app_public.unattributed_events to :DATABASE_READONLY;
