-- A campaign's delivery reports and engagement computed from scratch from the raw events, by the rules alone
-- (attribution rule, delivery_report_rank, bounce rules, which engagement counts, engagement_machine_reason),
-- without reading message_events or the derived columns of messages: the oracle that campaign_rollup_from_events
-- and campaign_engagement_hourly_from_events add up, each its own way, to check the incremental pipeline against.
-- One row per message with a delivery report (kind 'delivery_report': the report of highest rank, its status and
-- bounce type) and one per engagement event that counts (kind 'engagement': its type, source, time, machine or not).
create or replace function app_private.campaign_events_from_raw(campaign_id bigint)
returns table (message_id bigint, kind text, status text, bounce_type text, engagement_type text, source text,
               occurred_at timestamptz, is_machine boolean) as $$
  with settings as (select * from app_public.engagement_settings),
  msg as (
    select * from app_public.messages as m where m.campaign_id = campaign_events_from_raw.campaign_id
  ),
  candidate as materialized (
    select e.*, app_private.event_kind(e.event_type) as kind
    from app_public.raw_events as e
    where e.problem is null and app_private.event_kind(e.event_type) is not null
      and e.id in (select r.id from app_public.raw_events as r join msg on msg.internet_message_id = r.internet_message_id
                   union
                   select r.id from app_public.raw_events as r join msg on msg.operation_id = r.operation_id)
  ),
  matched as (
    select c.id, m.id as message_id, 1 as rank
    from candidate as c join app_public.messages as m on m.internet_message_id = c.internet_message_id
    union all
    select c.id, m.id, 2
    from candidate as c join app_public.messages as m on m.operation_id = c.operation_id
    where lower(m.recipient) = c.recipient
    union all
    select c.id, m.id, 3
    from candidate as c join app_public.messages as m on m.operation_id = c.operation_id
    where c.recipient is null
  ),
  attributed as materialized (
    select c.*, b.message_id, m.accepted_at
    from (select distinct on (id) id, message_id from matched order by id, rank) as b
    join candidate as c on c.id = b.id
    join msg as m on m.id = b.message_id
  ),
  report as materialized (
    select distinct on (a.message_id) a.message_id, a.status, coalesce(a.occurred_at, a.event_time, a.received_at) as occurred_at,
      rule.bounce_type
    from attributed as a
    left join app_public.delivery_statuses as ds on ds.status = a.status
    left join lateral (
      select r.bounce_type from app_public.bounce_rules as r
      where r.status = a.status
        and (r.status_message_pattern is null or coalesce(a.status_message, '') ~* r.status_message_pattern)
      order by r.position limit 1
    ) as rule on true
    where a.kind = 'delivery_report'
    order by a.message_id, app_private.delivery_report_rank(ds.precedence, coalesce(a.occurred_at, a.event_time, a.received_at),
                                                            a.status, a.status_message) desc
  ),
  tracking as (
    select c.engagement_tracking from app_public.campaigns as c where c.id = campaign_events_from_raw.campaign_id
  ),
  engagement as materialized (
    select e.*, app_private.engagement_ignored_reason(t.engagement_tracking, e.source, e.engagement_type, e.url) as own_ignored,
      t.engagement_tracking
    from (
      select a.id, a.message_id, a.engagement_type, app_private.tracked_link(a.engagement_context) as url, a.user_agent,
             a.accepted_at, app_private.engagement_source(a.event_type) as source, coalesce(a.honeypot, false) as honeypot,
             app_private.request_machine_reason(a.http_method, a.honeypot, a.ip_address) as request_reason,
             coalesce(a.occurred_at, a.event_time, a.received_at) as occurred_at
      from attributed as a where a.kind = 'engagement'
    ) as e
    left join tracking as t on true
  ),
  duplicate as materialized (
    select e.id
    from engagement as e cross join settings as s
    where e.engagement_tracking = 'both' and e.source = 'azure' and e.own_ignored is null
      and exists (select 1 from engagement as o
                  where o.message_id = e.message_id and o.source = 'mailroom' and o.own_ignored is null and not o.honeypot
                    and o.engagement_type = e.engagement_type and (e.engagement_type = 'view' or o.url = e.url)
                    and o.occurred_at between e.occurred_at - make_interval(secs => s.source_overlap_seconds)
                                          and e.occurred_at + make_interval(secs => s.source_overlap_seconds))
  ),
  burst as materialized (
    select e.id, count(distinct o.url) filter (where o.engagement_type = 'click' and o.url is not null) as distinct_links,
      bool_or(o.honeypot and not e.honeypot) as honeypot_near
    from engagement as e cross join settings as s
    join engagement as o on o.message_id = e.message_id
    where e.engagement_type = 'click' and o.engagement_type = 'click' and o.own_ignored is null
      and o.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                            and e.occurred_at + make_interval(secs => s.burst_seconds)
    group by e.id
  ),
  agent as materialized (
    select d.user_agent, app_private.user_agent_machine_reason(d.user_agent) as reason
    from (select distinct user_agent from engagement where user_agent is not null) as d
  ),
  classified as materialized (
    select e.message_id, e.engagement_type, e.source, e.occurred_at,
      app_private.engagement_machine_reason(coalesce(e.request_reason, a.reason), e.occurred_at, e.accepted_at, r.status,
                                            r.occurred_at, b.distinct_links, b.honeypot_near, s) is not null as is_machine
    from engagement as e cross join app_public.engagement_settings as s
    left join agent as a on a.user_agent = e.user_agent
    left join burst as b on b.id = e.id
    left join report as r on r.message_id = e.message_id
    where e.own_ignored is null and e.id not in (select d.id from duplicate as d)
  )
  select r.message_id, 'delivery_report', r.status, r.bounce_type, null, null, r.occurred_at, null from report as r
  union all
  select c.message_id, 'engagement', null, null, c.engagement_type, c.source, c.occurred_at, c.is_machine from classified as c
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp set work_mem to '256MB' set enable_nestloop to off;

comment on function app_private.campaign_events_from_raw(campaign_id bigint) is 'A campaign''s delivery reports of highest rank (one per message) and engagement events that count, classified, computed from the raw events by the rules alone (not from message_events): what the oracles campaign_rollup_from_events and campaign_engagement_hourly_from_events add up.';

revoke all on function app_private.campaign_events_from_raw(campaign_id bigint) from public;
