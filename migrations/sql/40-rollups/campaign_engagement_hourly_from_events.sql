-- The oracle of campaign_engagement_hourly: a campaign's opens and clicks per UTC hour computed from scratch from the
-- raw events (app_private.campaign_events_from_raw, as campaign_rollup_from_events), without reading message_events
-- or the maintained table. Tests compare the two; the hours with no engagement that counts are left out (the
-- maintained table may keep a row of zeros for such an hour).
create or replace function app_public.campaign_engagement_hourly_from_events(campaign_id bigint)
returns setof app_public.campaign_engagement_hourly as $$
  select campaign_engagement_hourly_from_events.campaign_id,
    date_bin('1 hour', e.occurred_at, timestamptz '2000-01-01 00:00+00') as hour,
    count(*) filter (where e.engagement_type = 'view') as opens,
    count(*) filter (where e.engagement_type = 'view' and not e.is_machine) as opens_human,
    count(*) filter (where e.engagement_type = 'click') as clicks,
    count(*) filter (where e.engagement_type = 'click' and not e.is_machine) as clicks_human
  from app_private.campaign_events_from_raw(campaign_engagement_hourly_from_events.campaign_id) as e
  where e.kind = 'engagement'
  group by 2
  order by 2
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.campaign_engagement_hourly_from_events(campaign_id bigint) is 'A campaign''s opens and clicks per UTC hour computed from scratch from the raw events (the rules alone, as campaign_rollup_from_events), without reading message_events or campaign_engagement_hourly: the oracle the maintained table is checked against. Hours with nothing that counts are left out. Slow (reads the raw events); for checks and repair.';

revoke all on function app_public.campaign_engagement_hourly_from_events(campaign_id bigint) from public;
grant execute on function app_public.campaign_engagement_hourly_from_events(campaign_id bigint) to :DATABASE_ADMIN;
grant execute on function app_public.campaign_engagement_hourly_from_events(campaign_id bigint) to :DATABASE_READONLY;
