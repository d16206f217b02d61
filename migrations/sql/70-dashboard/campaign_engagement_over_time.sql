-- A campaign's opens and clicks per hour, for the dashboard's chart: all that count (human and machine) and the
-- human ones. Read from the per-hour summary app_public.campaign_engagement_hourly, kept current by ingestion, when
-- the database has it; a database without it (before its migration) gets the same numbers from message_events
-- through the index by campaign and time (message_events_campaign_id_occurred_at_idx), which costs a read of the
-- campaign's engagement events, in the same UTC hours. Engagement that counts nowhere (ignored_reason) and honeypot hits are left out,
-- as in link_clicks. Security invoker: the caller's privileges and row level security apply.
create or replace function app_hidden.campaign_engagement_over_time(campaign_id bigint)
returns table (hour timestamptz, opens bigint, opens_human bigint, clicks bigint, clicks_human bigint) as $$
#variable_conflict use_column
begin
  if to_regclass('app_public.campaign_engagement_hourly') is not null then
    return query execute
      'select h.hour, h.opens::bigint, h.opens_human::bigint, h.clicks::bigint, h.clicks_human::bigint
       from app_public.campaign_engagement_hourly as h where h.campaign_id = $1 order by h.hour'
      using campaign_engagement_over_time.campaign_id;
    return;
  end if;
  return query
    select date_bin('1 hour', me.occurred_at, timestamptz '2000-01-01 00:00+00'),
      count(*) filter (where me.engagement_type = 'view'),
      count(*) filter (where me.engagement_type = 'view' and me.machine_reason is null),
      count(*) filter (where me.engagement_type = 'click'),
      count(*) filter (where me.engagement_type = 'click' and me.machine_reason is null)
    from app_public.message_events as me
    where me.campaign_id = campaign_engagement_over_time.campaign_id
      and me.kind = 'engagement' and me.ignored_reason is null and not me.honeypot
    group by 1
    order by 1;
end;
$$ language plpgsql stable security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.campaign_engagement_over_time(campaign_id bigint) is 'A campaign''s opens and clicks per hour (all that count, and the human ones), from app_public.campaign_engagement_hourly when the database has it, else from message_events. For the dashboard''s chart.';

revoke all on function app_hidden.campaign_engagement_over_time(campaign_id bigint) from public;
grant execute on function app_hidden.campaign_engagement_over_time(campaign_id bigint) to :DATABASE_ADMIN;
grant execute on function app_hidden.campaign_engagement_over_time(campaign_id bigint) to :DATABASE_READONLY;
