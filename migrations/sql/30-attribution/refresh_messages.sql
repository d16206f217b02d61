create or replace function app_private.refresh_messages(message_ids bigint[]) returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
set plan_cache_mode to force_custom_plan
set enable_seqscan to off
as $$
begin
  -- A consistent lock order keeps concurrent batches from deadlocking on shared messages.
  perform 1 from app_public.messages where id = any(message_ids) order by id for update;

  -- One pass over the events of the touched messages: engagement is classified (machine or human, with the
  -- reason: the user agent, too soon after acceptance, or a burst of clicks), changed reasons are written back,
  -- and the message's derived columns are computed from the classified events and the delivery reports.
  with settings as materialized (select * from app_public.engagement_settings),
  engagement as materialized (
    select me.raw_event_id, me.message_id, me.engagement_type, me.url, me.occurred_at, me.user_agent_reason,
           me.machine_reason, m.accepted_at
    from app_public.message_events as me
    join app_public.messages as m on m.id = me.message_id
    where me.message_id = any(message_ids) and me.kind = 'engagement'
  ),
  clicks as (
    select message_id, array_agg(url) as urls, array_agg(occurred_at) as times
    from engagement
    where engagement_type = 'click' and url is not null
    group by message_id
  ),
  burst as materialized (
    -- For each click, the distinct links clicked in the same message within burst_seconds of it.
    select e.raw_event_id,
      (select count(distinct other.url)
       from unnest(c.urls, c.times) as other(url, occurred_at)
       where other.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                   and e.occurred_at + make_interval(secs => s.burst_seconds)) as distinct_links
    from engagement as e
    join clicks as c on c.message_id = e.message_id
    cross join settings as s
    where e.engagement_type = 'click'
  ),
  report as materialized (
    -- The delivery report of highest rank (delivery_report_rank).
    select distinct on (me.message_id) me.message_id, me.status, me.status_message, me.occurred_at, me.bounce_type
    from app_public.message_events as me
    left join app_public.delivery_statuses as ds on ds.status = me.status
    where me.message_id = any(message_ids) and me.kind = 'delivery_report'
    order by me.message_id, app_private.delivery_report_rank(ds.precedence, me.occurred_at, me.status, me.status_message) desc
  ),
  classified as materialized (
    select e.raw_event_id, e.message_id, e.engagement_type, e.occurred_at, e.machine_reason as old_reason,
      app_private.engagement_machine_reason(e.user_agent_reason, e.occurred_at, e.accepted_at, r.status, r.occurred_at,
                                            b.distinct_links, s) as machine_reason
    from engagement as e cross join app_public.engagement_settings as s
    left join burst as b on b.raw_event_id = e.raw_event_id
    left join report as r on r.message_id = e.message_id
  ),
  reclassified as (
    update app_public.message_events as me set machine_reason = c.machine_reason
    from classified as c
    where me.raw_event_id = c.raw_event_id and c.machine_reason is distinct from c.old_reason
  ),
  engagement_counts as (
    select c.message_id,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null) as opens_human,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is not null) as opens_machine,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null) as clicks_human,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is not null) as clicks_machine,
      min(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as first_opened_at,
      max(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as last_opened_at,
      min(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as first_clicked_at,
      max(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as last_clicked_at
    from classified as c
    group by c.message_id
  ),
  derived as (
    select m.id, r.status, r.status_message, r.occurred_at, r.bounce_type,
      coalesce(e.opens_human, 0) as opens_human, coalesce(e.opens_machine, 0) as opens_machine,
      coalesce(e.clicks_human, 0) as clicks_human, coalesce(e.clicks_machine, 0) as clicks_machine,
      e.first_opened_at, e.last_opened_at, e.first_clicked_at, e.last_clicked_at
    from app_public.messages as m
    left join report as r on r.message_id = m.id
    left join engagement_counts as e on e.message_id = m.id
    where m.id = any(message_ids)
  )
  update app_public.messages as m set
    delivery_status = d.status, delivery_status_message = d.status_message, delivery_status_at = d.occurred_at,
    bounce_type = d.bounce_type, opens_human = d.opens_human, opens_machine = d.opens_machine,
    clicks_human = d.clicks_human, clicks_machine = d.clicks_machine,
    first_opened_at = d.first_opened_at, last_opened_at = d.last_opened_at,
    first_clicked_at = d.first_clicked_at, last_clicked_at = d.last_clicked_at
  from derived as d
  where m.id = d.id
    and (m.delivery_status, m.delivery_status_message, m.delivery_status_at, m.bounce_type, m.opens_human,
         m.opens_machine, m.clicks_human, m.clicks_machine, m.first_opened_at, m.last_opened_at,
         m.first_clicked_at, m.last_clicked_at)
        is distinct from
        (d.status, d.status_message, d.occurred_at, d.bounce_type, d.opens_human, d.opens_machine,
         d.clicks_human, d.clicks_machine, d.first_opened_at, d.last_opened_at, d.first_clicked_at, d.last_clicked_at);
end;
$$;

comment on function app_private.refresh_messages(message_ids bigint[]) is 'Re-derives the delivery status, bounce type, engagement classification, counts and times of the given messages from their message_events. The result depends only on the set of events, never on their order.';

revoke all on function app_private.refresh_messages(message_ids bigint[]) from public;
