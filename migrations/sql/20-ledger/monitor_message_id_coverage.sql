create or replace view app_public.monitor_message_id_coverage with (security_invoker = true) as
select m.campaign_id, count(*) as messages, count(m.internet_message_id) as with_message_id,
  round(100.0 * count(m.internet_message_id) / nullif(count(*), 0), 2) as percent_with_message_id,
  count(m.operation_id) as with_operation_id
from app_public.messages as m group by m.campaign_id;

comment on view app_public.monitor_message_id_coverage is 'Share of messages with a Message-ID and an operation id, per campaign: 100% by construction (NOT NULL, set at creation).';

grant select on app_public.monitor_message_id_coverage to :DATABASE_ADMIN;
grant select on app_public.monitor_message_id_coverage to :DATABASE_READONLY;
