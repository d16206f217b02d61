-- A campaign's opens and clicks per hour, for the dashboard's chart: all that count (human and machine) and the
-- human ones, from the per-hour summary app_public.campaign_engagement_hourly that the ingestion pipeline keeps
-- current (over all hours they add up to the rollup's opens, opens_human, clicks and clicks_human). One row per
-- hour with engagement, by the table's primary key (campaign_id, hour); hours are UTC hour boundaries.
-- Security invoker: the caller's privileges and row level security apply.
create or replace function app_hidden.campaign_engagement_over_time(campaign_id bigint)
returns table (hour timestamptz, opens bigint, opens_human bigint, clicks bigint, clicks_human bigint) as $$
  select h.hour, h.opens, h.opens_human, h.clicks, h.clicks_human
  from app_public.campaign_engagement_hourly as h
  where h.campaign_id = campaign_engagement_over_time.campaign_id
  order by h.hour
$$ language sql stable security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.campaign_engagement_over_time(campaign_id bigint) is 'A campaign''s opens and clicks per hour (all that count, and the human ones), from app_public.campaign_engagement_hourly. For the dashboard''s chart.';

revoke all on function app_hidden.campaign_engagement_over_time(campaign_id bigint) from public;
grant execute on function app_hidden.campaign_engagement_over_time(campaign_id bigint) to :DATABASE_ADMIN;
grant execute on function app_hidden.campaign_engagement_over_time(campaign_id bigint) to :DATABASE_READONLY;
