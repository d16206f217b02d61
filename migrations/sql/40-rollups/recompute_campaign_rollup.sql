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
  select * into rollup from app_public.campaign_rollup_from_events(campaign_id);
  insert into app_public.campaign_rollups select rollup.*
  on conflict on constraint campaign_rollups_pkey do update set
    recipients = excluded.recipients, queued = excluded.queued, sending = excluded.sending,
    accepted = excluded.accepted, send_failed = excluded.send_failed, cancelled = excluded.cancelled,
    skipped = excluded.skipped, delivered = excluded.delivered, expanded = excluded.expanded,
    bounced_hard = excluded.bounced_hard, bounced_soft = excluded.bounced_soft, suppressed = excluded.suppressed,
    filtered_spam = excluded.filtered_spam, quarantined = excluded.quarantined,
    delivery_failed = excluded.delivery_failed, unknown_status = excluded.unknown_status,
    unique_opens_human = excluded.unique_opens_human, unique_opens = excluded.unique_opens,
    opens_human = excluded.opens_human, opens = excluded.opens,
    unique_clicks_human = excluded.unique_clicks_human, unique_clicks = excluded.unique_clicks,
    clicks_human = excluded.clicks_human, clicks = excluded.clicks,
    unsubscribes = excluded.unsubscribes, complaints = excluded.complaints;
  return rollup;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.recompute_campaign_rollup(campaign_id bigint) is 'Repairs a campaign: re-derives its messages'' state from their events and rewrites its rollup from scratch (campaign_rollup_from_events). Returns the new rollup.';

revoke all on function app_public.recompute_campaign_rollup(campaign_id bigint) from public;
grant execute on function app_public.recompute_campaign_rollup(campaign_id bigint) to :DATABASE_ADMIN;
