-- Reads the maintained table (campaign_engagement_hourly) rather than grouping message_events at every read.
create or replace view app_public.monitor_hourly_engagement with (security_invoker = true) as
select h.campaign_id, h.hour, h.opens_human, h.opens, h.clicks_human, h.clicks
from app_public.campaign_engagement_hourly as h
where h.opens <> 0 or h.clicks <> 0;

comment on view app_public.monitor_hourly_engagement is 'Opens and clicks per campaign and UTC hour, for charts: the rows of campaign_engagement_hourly with something in them.';

grant select on app_public.monitor_hourly_engagement to :DATABASE_ADMIN;
grant select on app_public.monitor_hourly_engagement to :DATABASE_READONLY;
