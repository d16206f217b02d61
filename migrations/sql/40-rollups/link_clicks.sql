create or replace view app_public.link_clicks with (security_invoker = true) as
select me.message_id, me.campaign_id, me.url,
  count(*) filter (where me.machine_reason is null) as clicks_human,
  count(*) filter (where me.machine_reason is not null) as clicks_machine,
  min(me.occurred_at) as first_clicked_at, max(me.occurred_at) as last_clicked_at,
  count(*) filter (where me.machine_reason is null and me.engagement_source = 'azure') as clicks_human_azure,
  count(*) filter (where me.machine_reason is null and me.engagement_source = 'mailroom') as clicks_human_mailroom
from app_public.message_events as me
where me.kind = 'engagement' and me.engagement_type = 'click' and me.ignored_reason is null and not me.honeypot
group by me.message_id, me.campaign_id, me.url;

comment on view app_public.link_clicks is 'Clicks that count, per message and original URL (a Mailroom tracking URL is shown as the link it stands for), human and machine, and the human ones by source. Clicks on unsubscribe links, the honeypot link and engagement that counts nowhere (message_events.ignored_reason) are left out.';

grant select on app_public.link_clicks to :DATABASE_ADMIN;
grant select on app_public.link_clicks to :DATABASE_READONLY;
