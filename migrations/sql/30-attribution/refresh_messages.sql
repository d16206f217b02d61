create or replace function app_private.refresh_messages(message_ids bigint[]) returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
set plan_cache_mode to force_custom_plan
set enable_seqscan to off
as $$
declare
  hourly_delta app_public.campaign_engagement_hourly[];
begin
  -- A consistent lock order keeps concurrent batches from deadlocking on shared messages.
  perform 1 from app_public.messages where id = any(message_ids) order by id for update;

  -- One pass over the events of the touched messages: engagement is classified (counted or not, with the reason;
  -- machine or human, with the reason: the request, the user agent, too soon after acceptance, a burst of clicks or
  -- a honeypot hit near it), changed reasons are written back, and the message's derived columns are computed from
  -- the classified events and the delivery reports. What the changed classifications change per hour is returned
  -- (engagement_hourly_delta_query: the one rule) and added to campaign_engagement_hourly after the statement.
  execute format($statement$
  with settings as materialized (select * from app_public.engagement_settings),
  engagement as materialized (
    select me.raw_event_id, me.message_id, me.campaign_id, me.engagement_type, me.url, me.occurred_at, me.user_agent_reason,
           me.request_reason, me.honeypot, me.engagement_source, me.machine_reason, me.ignored_reason, m.accepted_at,
           c.engagement_tracking,
           app_private.engagement_ignored_reason(c.engagement_tracking, me.engagement_source, me.engagement_type, me.url)
             as own_ignored_reason
    from app_public.message_events as me
    join app_public.messages as m on m.id = me.message_id
    join app_public.campaigns as c on c.id = m.campaign_id
    where me.message_id = any($1) and me.kind = 'engagement'
  ),
  duplicate as materialized (
    -- Campaigns tracking both: an Azure open, or click on a link, within source_overlap_seconds of Mailroom's own of
    -- the same message (and link) is the same open or click, counted once (Mailroom's, which sees more of the request).
    select e.raw_event_id,
      'the same ' || e.engagement_type || ' as Mailroom''s own hit within ' || s.source_overlap_seconds::text || ' s' as reason
    from engagement as e cross join settings as s
    where e.engagement_tracking = 'both' and e.engagement_source = 'azure' and e.own_ignored_reason is null
      and exists (
        select 1 from engagement as own
        where own.message_id = e.message_id and own.engagement_source = 'mailroom' and own.own_ignored_reason is null
          and own.engagement_type = e.engagement_type and not own.honeypot
          and (e.engagement_type = 'view' or own.url = e.url)
          and own.occurred_at between e.occurred_at - make_interval(secs => s.source_overlap_seconds)
                                  and e.occurred_at + make_interval(secs => s.source_overlap_seconds))
  ),
  clicks as (
    select message_id, array_agg(url) as urls, array_agg(occurred_at) as times
    from engagement
    where engagement_type = 'click' and url is not null and own_ignored_reason is null
    group by message_id
  ),
  honeypot_hits as (
    select message_id, array_agg(occurred_at) as times from engagement where honeypot and own_ignored_reason is null group by message_id
  ),
  burst as materialized (
    -- For each click, the distinct links clicked in the same message within burst_seconds of it, and whether the
    -- message's honeypot link was hit that close.
    select e.raw_event_id,
      (select count(distinct other.url)
       from unnest(c.urls, c.times) as other(url, occurred_at)
       where other.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                   and e.occurred_at + make_interval(secs => s.burst_seconds)) as distinct_links,
      not e.honeypot and exists (
        select 1 from unnest(h.times) as hit(occurred_at)
        where hit.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                  and e.occurred_at + make_interval(secs => s.burst_seconds)) as honeypot_near
    from engagement as e
    left join clicks as c on c.message_id = e.message_id
    left join honeypot_hits as h on h.message_id = e.message_id
    cross join settings as s
    where e.engagement_type = 'click'
  ),
  report as materialized (
    -- The delivery report of highest rank (delivery_report_rank).
    select distinct on (me.message_id) me.message_id, me.status, me.status_message, me.occurred_at, me.bounce_type
    from app_public.message_events as me
    left join app_public.delivery_statuses as ds on ds.status = me.status
    where me.message_id = any($1) and me.kind = 'delivery_report'
    order by me.message_id, app_private.delivery_report_rank(ds.precedence, me.occurred_at, me.status, me.status_message) desc
  ),
  classified as materialized (
    select e.raw_event_id, e.message_id, e.campaign_id, e.engagement_type, e.engagement_source, e.occurred_at,
      e.machine_reason as old_reason, e.ignored_reason as old_ignored_reason,
      coalesce(e.own_ignored_reason, d.reason) as ignored_reason,
      -- Engagement that counts nowhere has no machine reason either.
      case when e.own_ignored_reason is null and d.reason is null
           then app_private.engagement_machine_reason(coalesce(e.request_reason, e.user_agent_reason), e.occurred_at,
                                                      e.accepted_at, r.status, r.occurred_at, b.distinct_links,
                                                      b.honeypot_near, s) end as machine_reason
    from engagement as e cross join app_public.engagement_settings as s
    left join burst as b on b.raw_event_id = e.raw_event_id
    left join duplicate as d on d.raw_event_id = e.raw_event_id
    left join report as r on r.message_id = e.message_id
  ),
  changed as materialized (
    select c.* from classified as c
    where (c.machine_reason, c.ignored_reason) is distinct from (c.old_reason, c.old_ignored_reason)
  ),
  reclassified as (
    update app_public.message_events as me set machine_reason = c.machine_reason, ignored_reason = c.ignored_reason
    from changed as c
    where me.raw_event_id = c.raw_event_id
  ),
  engagement_counts as (
    select c.message_id,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null) as opens_human,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is not null) as opens_machine,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null) as clicks_human,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is not null) as clicks_machine,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null and c.engagement_source = 'mailroom')
        as opens_human_mailroom,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null and c.engagement_source = 'mailroom')
        as clicks_human_mailroom,
      min(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as first_opened_at,
      max(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as last_opened_at,
      min(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as first_clicked_at,
      max(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as last_clicked_at
    from classified as c
    where c.ignored_reason is null
    group by c.message_id
  ),
  derived as (
    select m.id, r.status, r.status_message, r.occurred_at, r.bounce_type,
      coalesce(e.opens_human, 0) as opens_human, coalesce(e.opens_machine, 0) as opens_machine,
      coalesce(e.clicks_human, 0) as clicks_human, coalesce(e.clicks_machine, 0) as clicks_machine,
      coalesce(e.opens_human_mailroom, 0) as opens_human_mailroom, coalesce(e.clicks_human_mailroom, 0) as clicks_human_mailroom,
      e.first_opened_at, e.last_opened_at, e.first_clicked_at, e.last_clicked_at
    from app_public.messages as m
    left join report as r on r.message_id = m.id
    left join engagement_counts as e on e.message_id = m.id
    where m.id = any($1)
  ),
  rederived as (
  update app_public.messages as m set
    delivery_status = d.status, delivery_status_message = d.status_message, delivery_status_at = d.occurred_at,
    bounce_type = d.bounce_type, opens_human = d.opens_human, opens_machine = d.opens_machine,
    clicks_human = d.clicks_human, clicks_machine = d.clicks_machine,
    opens_human_mailroom = d.opens_human_mailroom, clicks_human_mailroom = d.clicks_human_mailroom,
    first_opened_at = d.first_opened_at, last_opened_at = d.last_opened_at,
    first_clicked_at = d.first_clicked_at, last_clicked_at = d.last_clicked_at
  from derived as d
  where m.id = d.id
    and (m.delivery_status, m.delivery_status_message, m.delivery_status_at, m.bounce_type, m.opens_human,
         m.opens_machine, m.clicks_human, m.clicks_machine, m.opens_human_mailroom, m.clicks_human_mailroom,
         m.first_opened_at, m.last_opened_at, m.first_clicked_at, m.last_clicked_at)
        is distinct from
        (d.status, d.status_message, d.occurred_at, d.bounce_type, d.opens_human, d.opens_machine,
         d.clicks_human, d.clicks_machine, d.opens_human_mailroom, d.clicks_human_mailroom, d.first_opened_at, d.last_opened_at, d.first_clicked_at, d.last_clicked_at)
  )
  select array_agg(row(h.*)::app_public.campaign_engagement_hourly order by h.campaign_id, h.hour) from (%s) as h
  $statement$, app_private.engagement_hourly_delta_query(
    'select -1 as sign, campaign_id, occurred_at, ''engagement'' as kind, engagement_type, old_reason as machine_reason,
       old_ignored_reason as ignored_reason from changed
     union all
     select 1, campaign_id, occurred_at, ''engagement'', engagement_type, machine_reason, ignored_reason from changed'))
  into hourly_delta
  using message_ids;

  -- After the statement, whose trigger on messages took the campaigns' rollup rows (add_engagement_hourly locks
  -- them first in any case): the rollup rows before the hourly rows, always.
  perform app_private.add_engagement_hourly(hourly_delta);
end;
$$;

comment on function app_private.refresh_messages(message_ids bigint[]) is 'Re-derives the delivery status, bounce type, engagement classification (counted or ignored, machine or human), counts and times of the given messages from their message_events, and adds what changed classifications change per hour to campaign_engagement_hourly. The result depends only on the set of events, never on their order.';

revoke all on function app_private.refresh_messages(message_ids bigint[]) from public;
