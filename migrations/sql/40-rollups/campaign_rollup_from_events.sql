create or replace function app_public.campaign_rollup_from_events(campaign_id bigint) returns app_public.campaign_rollups as $$
  with msg as (
    select * from app_public.messages as m where m.campaign_id = campaign_rollup_from_events.campaign_id
  ),
  event as (select * from app_private.campaign_events_from_raw(campaign_rollup_from_events.campaign_id)),
  report as (select * from event as e where e.kind = 'delivery_report'),
  classified as (select * from event as e where e.kind = 'engagement'),
  per_message as (
    select m.id, m.send_status, r.status as delivery_status, r.bounce_type,
      count(*) filter (where c.engagement_type = 'view' and not c.is_machine) as opens_human,
      count(*) filter (where c.engagement_type = 'view') as opens,
      count(*) filter (where c.engagement_type = 'click' and not c.is_machine) as clicks_human,
      count(*) filter (where c.engagement_type = 'click') as clicks,
      count(*) filter (where c.engagement_type = 'view' and not c.is_machine and c.source = 'mailroom') as opens_human_mailroom,
      count(*) filter (where c.engagement_type = 'click' and not c.is_machine and c.source = 'mailroom') as clicks_human_mailroom,
      bool_or(u.message_id is not null) as unsubscribed,
      bool_or(complaint.message_id is not null) as complained
    from msg as m
    left join report as r on r.message_id = m.id
    left join classified as c on c.message_id = m.id
    left join (select distinct message_id from app_public.unsubscribes) as u on u.message_id = m.id
    left join (select distinct message_id from app_public.bounces where bounce_type = 'complaint') as complaint
      on complaint.message_id = m.id
    group by m.id, m.send_status, r.status, r.bounce_type
  )
  select
    campaign_rollup_from_events.campaign_id,
    count(*),
    count(*) filter (where send_status = 'queued'),
    count(*) filter (where send_status = 'sending'),
    count(*) filter (where send_status = 'accepted'),
    count(*) filter (where send_status = 'failed'),
    count(*) filter (where send_status = 'cancelled'),
    count(*) filter (where send_status = 'skipped'),
    count(*) filter (where delivery_status = 'Delivered'),
    count(*) filter (where delivery_status = 'Expanded'),
    count(*) filter (where bounce_type = 'hard'),
    count(*) filter (where bounce_type = 'soft'),
    count(*) filter (where delivery_status = 'Suppressed'),
    count(*) filter (where delivery_status = 'FilteredSpam'),
    count(*) filter (where delivery_status = 'Quarantined'),
    count(*) filter (where delivery_status = 'Failed'),
    count(*) filter (where delivery_status not in
      ('Delivered', 'Expanded', 'Bounced', 'Suppressed', 'FilteredSpam', 'Quarantined', 'Failed')),
    count(*) filter (where opens_human > 0),
    count(*) filter (where opens > 0),
    coalesce(sum(opens_human), 0),
    coalesce(sum(opens), 0),
    count(*) filter (where clicks_human > 0),
    count(*) filter (where clicks > 0),
    coalesce(sum(clicks_human), 0),
    coalesce(sum(clicks), 0),
    count(*) filter (where unsubscribed),
    count(*) filter (where complained),
    coalesce(sum(opens_human - opens_human_mailroom), 0),
    coalesce(sum(opens_human_mailroom), 0),
    coalesce(sum(clicks_human - clicks_human_mailroom), 0),
    coalesce(sum(clicks_human_mailroom), 0)
  from per_message
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp set work_mem to '256MB' set enable_nestloop to off;

comment on function app_public.campaign_rollup_from_events(campaign_id bigint) is 'A campaign''s numbers computed from scratch from the raw events (attribution rule, delivery status precedence, bounce rules, which engagement counts, machine classification), the ledger''s send status, unsubscribes and complaints, without reading the maintained rollup or the derived message columns. Slow (reads the raw events); for checks and repair.';

revoke all on function app_public.campaign_rollup_from_events(campaign_id bigint) from public;
grant execute on function app_public.campaign_rollup_from_events(campaign_id bigint) to :DATABASE_ADMIN;
grant execute on function app_public.campaign_rollup_from_events(campaign_id bigint) to :DATABASE_READONLY;
