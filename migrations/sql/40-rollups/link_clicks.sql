create or replace view app_public.link_clicks with (security_invoker = true) as
select me.message_id, me.campaign_id, me.url,
  count(*) filter (where me.machine_reason is null) as clicks_human,
  count(*) filter (where me.machine_reason is not null) as clicks_machine,
  min(me.occurred_at) as first_clicked_at, max(me.occurred_at) as last_clicked_at
from app_public.message_events as me
where me.kind = 'engagement' and me.engagement_type = 'click'
group by me.message_id, me.campaign_id, me.url;

comment on view app_public.link_clicks is 'Clicks per message and URL, human and machine.';

grant select on app_public.link_clicks to :DATABASE_ADMIN;
grant select on app_public.link_clicks to :DATABASE_READONLY;
