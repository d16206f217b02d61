create or replace view app_public.monitor_hourly_engagement with (security_invoker = true) as
select me.campaign_id, date_trunc('hour', me.occurred_at) as hour,
  count(*) filter (where me.engagement_type = 'view' and me.machine_reason is null) as opens_human,
  count(*) filter (where me.engagement_type = 'view') as opens,
  count(*) filter (where me.engagement_type = 'click' and me.machine_reason is null) as clicks_human,
  count(*) filter (where me.engagement_type = 'click') as clicks
from app_public.message_events as me
where me.kind = 'engagement' and me.ignored_reason is null
group by me.campaign_id, date_trunc('hour', me.occurred_at);

comment on view app_public.monitor_hourly_engagement is 'Opens and clicks per campaign and hour, for charts.';

grant select on app_public.monitor_hourly_engagement to :DATABASE_ADMIN;
grant select on app_public.monitor_hourly_engagement to :DATABASE_READONLY;
