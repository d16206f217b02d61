--! Previous: sha1:1451da97f3c98010d8f15ac2f08e7db3c937281a
--! Hash: sha1:4b2a9b3cd9c9a8626d155120a32578e19c178b56
--! Message: Attribution takes its messages' row locks in the statement that records the events: each message looked up once per batch instead of twice

-- Attribution takes its messages' row locks (in id order) in the statement that records the events, instead of a
-- statement before it: the locked rows, read as last committed, are the messages' current state, so each message is
-- looked up once per batch instead of twice.
create or replace function app_private.record_attributions(raw_event_ids bigint[], message_ids bigint[], keys text[])
returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
set plan_cache_mode to force_custom_plan
as $$
declare
  rederive_ids bigint[];
begin
  with locked as materialized (
    -- The messages, locked in id order and read as last committed.
    select m.id, m.campaign_id, m.subscriber_id, m.accepted_at, m.clicks_human, m.clicks_machine, m.delivery_status,
      m.delivery_status_at
    from app_public.messages as m
    where m.id = any(message_ids)
    order by m.id
    for update
  ),
  event as materialized (
    -- The events with their message's current state.
    select e.id as raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, a.attributed_by,
      app_private.event_kind(e.event_type) as kind, coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at,
      e.status, e.status_message, e.engagement_type, e.engagement_context, e.user_agent, m.accepted_at,
      m.clicks_human + m.clicks_machine as earlier_clicks, m.delivery_status_at as current_status_at,
      coalesce(current_status.precedence, 0) as current_precedence, coalesce(ds.precedence, 0) as precedence
    from unnest(raw_event_ids, message_ids, keys) as a(raw_event_id, message_id, attributed_by)
    join app_public.raw_events as e on e.id = a.raw_event_id
    join locked as m on m.id = a.message_id
    left join app_public.delivery_statuses as ds on ds.status = e.status
    left join app_public.delivery_statuses as current_status on current_status.status = m.delivery_status
  ),
  agent as (
    select d.user_agent, app_private.user_agent_machine_reason(d.user_agent) as reason
    from (select distinct user_agent from event where engagement_type is not null and user_agent is not null) as d
  ),
  rule as (
    -- The first bounce rule (by position) matching each distinct status and status message of the batch.
    select d.status, d.status_message, r.bounce_type, r.blocklist_subscriber
    from (select distinct status, coalesce(status_message, '') as status_message
          from event where kind = 'delivery_report' and status is not null) as d
    join lateral (
      select r.bounce_type, r.blocklist_subscriber
      from app_public.bounce_rules as r
      where r.status = d.status and (r.status_message_pattern is null or d.status_message ~* r.status_message_pattern)
      order by r.position
      limit 1
    ) as r on true
  ),
  attributed as materialized (
    select e.*, rule.bounce_type, coalesce(rule.blocklist_subscriber, false) as blocklists,
      agent.reason as user_agent_reason,
      case when e.kind = 'engagement'
           then coalesce(agent.reason, app_private.too_soon_after_acceptance(e.occurred_at, e.accepted_at,
                                                                              s.minimum_seconds_after_acceptance)) end
        as machine_reason
    from event as e
    cross join app_public.engagement_settings as s
    left join agent on e.engagement_type is not null and agent.user_agent = e.user_agent
    left join rule on e.kind = 'delivery_report' and rule.status = e.status
                  and rule.status_message = coalesce(e.status_message, '')
  ),
  recorded as (
    insert into app_public.message_events (
      raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
      bounce_type, blocklists, engagement_type, url, user_agent_reason, machine_reason
    )
    select raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
      bounce_type, blocklists, engagement_type, engagement_context, user_agent_reason, machine_reason
    from attributed
    on conflict (raw_event_id) do nothing
    returning raw_event_id
  ),
  new_event as materialized (
    -- Only the events recorded now: an event is applied once.
    select a.* from attributed as a join recorded as r on r.raw_event_id = a.raw_event_id
  ),
  bounced as (
    -- One bounce per delivery report that the rules call a bounce.
    insert into app_public.bounces (subscriber_id, message_id, campaign_id, raw_event_id, bounce_type, status, detail, occurred_at)
    select subscriber_id, message_id, campaign_id, raw_event_id, bounce_type, status, status_message, occurred_at
    from new_event
    where bounce_type is not null
    on conflict (raw_event_id) do nothing
  ),
  suppressed as (
    -- Suppressed: ACS will not send to the address; blocklist the subscriber (by id), counting no bounce.
    update app_public.subscribers as s set status = 'blocklisted'
    where s.id in (select subscriber_id from new_event where blocklists) and s.status <> 'blocklisted'
  ),
  incoming as (
    -- Per message: the new views and clicks, and whether the burst rule may reclassify its clicks (a click while
    -- the message has another), in which case the message is re-derived from all of its events.
    select n.message_id,
      count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'click') > 0
        and count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'click') + max(n.earlier_clicks) > 1
        as rederive,
      count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'view' and n.machine_reason is null) as opens_human,
      count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'view' and n.machine_reason is not null) as opens_machine,
      count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'click' and n.machine_reason is null) as clicks_human,
      count(*) filter (where n.kind = 'engagement' and n.engagement_type = 'click' and n.machine_reason is not null) as clicks_machine,
      min(n.occurred_at) filter (where n.kind = 'engagement' and n.engagement_type = 'view' and n.machine_reason is null) as first_opened_at,
      max(n.occurred_at) filter (where n.kind = 'engagement' and n.engagement_type = 'view' and n.machine_reason is null) as last_opened_at,
      min(n.occurred_at) filter (where n.kind = 'engagement' and n.engagement_type = 'click' and n.machine_reason is null) as first_clicked_at,
      max(n.occurred_at) filter (where n.kind = 'engagement' and n.engagement_type = 'click' and n.machine_reason is null) as last_clicked_at
    from new_event as n
    group by n.message_id
  ),
  report as (
    -- Per message: the highest-ranking new delivery report (the order of refresh_messages), against the current
    -- one (none while delivery_status_at is NULL).
    select distinct on (n.message_id) n.message_id, n.status, n.status_message, n.occurred_at, n.bounce_type,
      n.current_status_at is null
        or (n.precedence, n.occurred_at) > (n.current_precedence, n.current_status_at) as outranks,
      n.current_status_at is not null
        and (n.precedence, n.occurred_at) = (n.current_precedence, n.current_status_at) as ties
    from new_event as n
    where n.kind = 'delivery_report'
    order by n.message_id, n.precedence desc, n.occurred_at desc, n.raw_event_id desc
  ),
  change as materialized (
    select i.message_id, i.rederive or coalesce(r.ties, false) as rederive, coalesce(r.outranks, false) as outranks,
      r.status, r.status_message, r.occurred_at, r.bounce_type, i.opens_human, i.opens_machine, i.clicks_human,
      i.clicks_machine, i.first_opened_at, i.last_opened_at, i.first_clicked_at, i.last_clicked_at
    from incoming as i left join report as r on r.message_id = i.message_id
  ),
  applied as (
    update app_public.messages as m set
      delivery_status = case when c.outranks then c.status else m.delivery_status end,
      delivery_status_message = case when c.outranks then c.status_message else m.delivery_status_message end,
      delivery_status_at = case when c.outranks then c.occurred_at else m.delivery_status_at end,
      bounce_type = case when c.outranks then c.bounce_type else m.bounce_type end,
      opens_human = m.opens_human + c.opens_human,
      opens_machine = m.opens_machine + c.opens_machine,
      clicks_human = m.clicks_human + c.clicks_human,
      clicks_machine = m.clicks_machine + c.clicks_machine,
      first_opened_at = least(m.first_opened_at, c.first_opened_at),
      last_opened_at = greatest(m.last_opened_at, c.last_opened_at),
      first_clicked_at = least(m.first_clicked_at, c.first_clicked_at),
      last_clicked_at = greatest(m.last_clicked_at, c.last_clicked_at)
    from change as c
    where m.id = c.message_id and not c.rederive
      and (c.outranks or c.opens_human + c.opens_machine + c.clicks_human + c.clicks_machine > 0)
  )
  select array_agg(c.message_id) filter (where c.rederive) into rederive_ids from change as c;

  if rederive_ids is not null then
    perform app_private.refresh_messages(rederive_ids);
  end if;
end;
$$;
