create or replace function app_public.recompute_campaign_rollup(campaign_id bigint) returns app_public.campaign_rollups as $$
declare
  rollup app_public.campaign_rollups;
  message_ids bigint[];
begin
  -- In chunks of 1,000 messages, the size of an ingest batch, so that a campaign of millions never makes one huge statement.
  for message_ids in
    select array_agg(id) from (
      select m.id, (row_number() over (order by m.id) - 1) / 1000 as chunk
      from app_public.messages as m where m.campaign_id = recompute_campaign_rollup.campaign_id
    ) as numbered
    group by chunk
  loop
    perform app_private.refresh_messages(message_ids);
  end loop;
  -- Every message of the campaign is now locked (refresh_messages, until commit), so no other transaction can be
  -- waiting to add to this rollup: rewrite it from the messages, by the rule of the incremental path.
  delete from app_public.campaign_rollups as r where r.campaign_id = recompute_campaign_rollup.campaign_id;
  execute 'insert into app_public.campaign_rollups select * from ('
    || app_private.rollup_delta_query('select 1 as sign, m.* from app_public.messages as m where m.campaign_id = $1')
    || ') as delta returning *'
  into rollup using campaign_id;
  if rollup.campaign_id is null then
    insert into app_public.campaign_rollups (campaign_id) values (recompute_campaign_rollup.campaign_id) returning * into rollup;
  end if;
  -- The opens and clicks per hour, rewritten from the events by the rule of the incremental path
  -- (engagement_hourly_delta_query), after the rollup row (the lock order of add_engagement_hourly).
  delete from app_public.campaign_engagement_hourly as h where h.campaign_id = recompute_campaign_rollup.campaign_id;
  execute 'insert into app_public.campaign_engagement_hourly select * from ('
    || app_private.engagement_hourly_delta_query(
         'select 1 as sign, me.campaign_id, me.occurred_at, me.kind, me.engagement_type, me.machine_reason, me.ignored_reason
          from app_public.message_events as me where me.campaign_id = $1')
    || ') as delta order by hour'
  using campaign_id;
  return rollup;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.recompute_campaign_rollup(campaign_id bigint) is 'Repairs a campaign: re-derives its messages'' state from their events (refresh_messages) and rewrites its rollup from its messages (rollup_delta_query, the rule of the incremental path) and its opens and clicks per hour from its events (engagement_hourly_delta_query). Returns the new rollup. campaign_rollup_from_events computes the same numbers independently, from the raw events.';

revoke all on function app_public.recompute_campaign_rollup(campaign_id bigint) from public;
grant execute on function app_public.recompute_campaign_rollup(campaign_id bigint) to :DATABASE_ADMIN;
