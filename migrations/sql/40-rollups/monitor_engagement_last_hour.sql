create or replace view app_public.monitor_engagement_last_hour with (security_invoker = true) as
select me.campaign_id, c.name,
  count(*) filter (where me.engagement_type = 'view' and me.machine_reason is null) as opens_human,
  count(*) filter (where me.engagement_type = 'view' and me.machine_reason is not null) as opens_machine,
  count(*) filter (where me.engagement_type = 'click' and me.machine_reason is null) as clicks_human,
  count(*) filter (where me.engagement_type = 'click' and me.machine_reason is not null) as clicks_machine
from app_public.message_events as me join app_public.campaigns as c on c.id = me.campaign_id
where me.kind = 'engagement' and me.ignored_reason is null and me.occurred_at > now() - interval '1 hour'
group by me.campaign_id, c.name;

comment on view app_public.monitor_engagement_last_hour is 'Opens and clicks in the last hour, per campaign.';

grant select on app_public.monitor_engagement_last_hour to :DATABASE_ADMIN;
grant select on app_public.monitor_engagement_last_hour to :DATABASE_READONLY;
