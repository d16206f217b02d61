-- Adds an hourly engagement delta (engagement_hourly_delta_query's rows) to campaign_engagement_hourly, in the
-- transaction that changed the events.
--
-- Lock order: the campaigns' campaign_rollups rows first (campaign id order), then the hourly rows (key order).
-- Ingestion calls this after the statement whose trigger on messages updated those rollups, so the first step
-- takes nothing new there; it matters for recompute_campaign_rollup, and for an event re-derived from human to
-- machine while another of the same message goes the other way (the message's counts unchanged, so its rollup not
-- touched). Whoever writes a campaign's hourly rows thus holds its rollup row: concurrent jobs queue on the
-- rollup, as before, and never deadlock on the hourly rows.
create or replace function app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
begin
  if delta is null or cardinality(delta) = 0 then
    return;
  end if;
  perform 1 from app_public.campaign_rollups as r
  where r.campaign_id in (select d.campaign_id from unnest(delta) as d)
  order by r.campaign_id
  for update;
  insert into app_public.campaign_engagement_hourly as h (campaign_id, hour, opens, opens_human, clicks, clicks_human)
  select d.campaign_id, d.hour, sum(d.opens), sum(d.opens_human), sum(d.clicks), sum(d.clicks_human)
  from unnest(delta) as d
  group by d.campaign_id, d.hour
  order by d.campaign_id, d.hour
  on conflict (campaign_id, hour) do update set
    opens = h.opens + excluded.opens,
    opens_human = h.opens_human + excluded.opens_human,
    clicks = h.clicks + excluded.clicks,
    clicks_human = h.clicks_human + excluded.clicks_human;
end;
$$;

comment on function app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) is 'Adds per-hour deltas (rows of engagement_hourly_delta_query) to campaign_engagement_hourly: locks the campaigns'' rollup rows (campaign id order), then upserts the hours in key order, so that concurrent ingestion never deadlocks.';

revoke all on function app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) from public;
