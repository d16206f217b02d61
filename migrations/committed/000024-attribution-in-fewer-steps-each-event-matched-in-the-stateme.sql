--! Previous: sha1:76dfeaeb30cf156932dce4da44a1aa1d3313e904
--! Hash: sha1:2474cb89fe1cacd444749bb634bf288fc8c4efab
--! Message: Attribution in fewer steps (each event matched in the statement that reads it); the attribution update sets updated_at itself; the rollup trigger looks at the changed rows once

-- Attribution in fewer steps: each event is matched to its message in the statement that reads it, and the events
-- recorded now are picked by a semi-join instead of a sorted join. The attribution update sets updated_at itself;
-- the timestamps trigger on messages runs only for an update that does not move updated_at forward (or touches
-- created_at), so every other writer keeps the rule. The rollup trigger looks at the changed rows once for both
-- of its follow-ups (finished campaigns, changed acceptance times).

drop trigger if exists _100_timestamps on app_public.messages;
create trigger _100_timestamps
  before update on app_public.messages
  for each row
  when (new.updated_at <= old.updated_at or new.created_at is distinct from old.created_at)
  execute function app_private.tg__timestamps();

create or replace function app_private.attribute_events(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  rederive_ids bigint[];
  unmatched_ids bigint[];
begin
  execute $statement$
    with batch_event as materialized (
      -- The events that can be attributed (delivery and engagement reports that could be interpreted), each with
      -- its message by the attribution rule: by Message-ID; else by operation id and recipient; else by operation
      -- id when the event names no recipient. Nothing else; no message when nothing matches.
      select e.id as raw_event_id, app_private.event_kind(e.event_type) as kind,
        coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at, e.status, e.status_message,
        e.engagement_type, e.engagement_context, e.user_agent,
        coalesce(by_message_id.id, by_operation_id.id) as message_id,
        case when by_message_id.id is not null then 'internet_message_id'
             when by_operation_id.id is null then null
             when e.recipient is null then 'operation_id'
             else 'operation_id_and_recipient' end as attributed_by
      from app_public.raw_events as e
      left join app_public.messages as by_message_id on by_message_id.internet_message_id = e.internet_message_id
      left join lateral (
        select m.id from app_public.messages as m
        where by_message_id.id is null and m.operation_id = e.operation_id
          and (e.recipient is null or lower(m.recipient) = e.recipient)
      ) as by_operation_id on true
      where e.id = any($1) and e.problem is null and app_private.event_kind(e.event_type) is not null
    ),
    locked as materialized (
      -- The matched messages, locked in id order and read as last committed (the lock follows a row updated since;
      -- looked up again by id, which unlike the row's address survives that).
      select m.id, m.campaign_id, m.subscriber_id, m.accepted_at, m.clicks_human, m.clicks_machine, m.delivery_status,
        m.delivery_status_at
      from app_public.messages as m
      where m.id = any(array(select message_id from batch_event where message_id is not null))
      order by m.id
      for no key update
    ),
    event as materialized (
      -- The matched events with their message's current state.
      select b.raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, b.attributed_by, b.kind, b.occurred_at,
        b.status, b.status_message, b.engagement_type, b.engagement_context, b.user_agent, m.accepted_at,
        m.clicks_human + m.clicks_machine as earlier_clicks, m.delivery_status_at as current_status_at,
        coalesce(current_status.precedence, 0) as current_precedence, coalesce(ds.precedence, 0) as precedence
      from batch_event as b
      join locked as m on m.id = b.message_id
      left join app_public.delivery_statuses as ds on ds.status = b.status
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
      select a.* from attributed as a where a.raw_event_id in (select r.raw_event_id from recorded as r)
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
        last_clicked_at = greatest(m.last_clicked_at, c.last_clicked_at),
        updated_at = now()
      from change as c
      where m.id = c.message_id and not c.rederive
        and (c.outranks or c.opens_human + c.opens_machine + c.clicks_human + c.clicks_machine > 0)
    )
    select (select array_agg(c.message_id) filter (where c.rederive) from change as c),
      (select array_agg(b.raw_event_id) from batch_event as b where b.message_id is null)
  $statement$
  into rederive_ids, unmatched_ids
  using raw_event_ids;

  if rederive_ids is not null then
    perform app_private.refresh_messages(rederive_ids);
  end if;
  return unmatched_ids;
end;
$$;

create or replace function app_private.tg_messages__rollup() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $_$
declare
  changes text;
  campaign_ids bigint[];
  accepted_changed bigint[];
begin
  changes = case tg_op
    when 'INSERT' then 'select 1 as sign, * from new_messages'
    when 'UPDATE' then 'select 1 as sign, * from new_messages union all select -1, * from old_messages'
    else 'select -1 as sign, * from old_messages'
  end;
  execute format($query$
    with changed as (%s),
    delta as (
      select
        campaign_id,
        sum(sign) as recipients,
        sum(sign) filter (where send_status = 'queued') as queued,
        sum(sign) filter (where send_status = 'sending') as sending,
        sum(sign) filter (where send_status = 'accepted') as accepted,
        sum(sign) filter (where send_status = 'failed') as send_failed,
        sum(sign) filter (where send_status = 'cancelled') as cancelled,
        sum(sign) filter (where send_status = 'skipped') as skipped,
        sum(sign) filter (where delivery_status = 'Delivered') as delivered,
        sum(sign) filter (where delivery_status = 'Expanded') as expanded,
        sum(sign) filter (where bounce_type = 'hard') as bounced_hard,
        sum(sign) filter (where bounce_type = 'soft') as bounced_soft,
        sum(sign) filter (where delivery_status = 'Suppressed') as suppressed,
        sum(sign) filter (where delivery_status = 'FilteredSpam') as filtered_spam,
        sum(sign) filter (where delivery_status = 'Quarantined') as quarantined,
        sum(sign) filter (where delivery_status = 'Failed') as delivery_failed,
        sum(sign) filter (where delivery_status is not null and delivery_status not in
          ('Delivered', 'Expanded', 'Bounced', 'Suppressed', 'FilteredSpam', 'Quarantined', 'Failed')) as unknown_status,
        sum(sign) filter (where opens_human > 0) as unique_opens_human,
        sum(sign) filter (where opens_human + opens_machine > 0) as unique_opens,
        sum(sign * opens_human) as opens_human,
        sum(sign * (opens_human + opens_machine)) as opens,
        sum(sign) filter (where clicks_human > 0) as unique_clicks_human,
        sum(sign) filter (where clicks_human + clicks_machine > 0) as unique_clicks,
        sum(sign * clicks_human) as clicks_human,
        sum(sign * (clicks_human + clicks_machine)) as clicks,
        sum(sign) filter (where unsubscribed_at is not null) as unsubscribes,
        sum(sign) filter (where complained_at is not null) as complaints
      from changed
      group by campaign_id
    ),
    locked as (
      select r.campaign_id from app_public.campaign_rollups as r
      where r.campaign_id in (select campaign_id from delta)
      order by r.campaign_id
      for update
    )
    update app_public.campaign_rollups as r set
      recipients = r.recipients + coalesce(d.recipients, 0),
      queued = r.queued + coalesce(d.queued, 0),
      sending = r.sending + coalesce(d.sending, 0),
      accepted = r.accepted + coalesce(d.accepted, 0),
      send_failed = r.send_failed + coalesce(d.send_failed, 0),
      cancelled = r.cancelled + coalesce(d.cancelled, 0),
      skipped = r.skipped + coalesce(d.skipped, 0),
      delivered = r.delivered + coalesce(d.delivered, 0),
      expanded = r.expanded + coalesce(d.expanded, 0),
      bounced_hard = r.bounced_hard + coalesce(d.bounced_hard, 0),
      bounced_soft = r.bounced_soft + coalesce(d.bounced_soft, 0),
      suppressed = r.suppressed + coalesce(d.suppressed, 0),
      filtered_spam = r.filtered_spam + coalesce(d.filtered_spam, 0),
      quarantined = r.quarantined + coalesce(d.quarantined, 0),
      delivery_failed = r.delivery_failed + coalesce(d.delivery_failed, 0),
      unknown_status = r.unknown_status + coalesce(d.unknown_status, 0),
      unique_opens_human = r.unique_opens_human + coalesce(d.unique_opens_human, 0),
      unique_opens = r.unique_opens + coalesce(d.unique_opens, 0),
      opens_human = r.opens_human + coalesce(d.opens_human, 0),
      opens = r.opens + coalesce(d.opens, 0),
      unique_clicks_human = r.unique_clicks_human + coalesce(d.unique_clicks_human, 0),
      unique_clicks = r.unique_clicks + coalesce(d.unique_clicks, 0),
      clicks_human = r.clicks_human + coalesce(d.clicks_human, 0),
      clicks = r.clicks + coalesce(d.clicks, 0),
      unsubscribes = r.unsubscribes + coalesce(d.unsubscribes, 0),
      complaints = r.complaints + coalesce(d.complaints, 0)
    from delta as d
    where r.campaign_id = d.campaign_id and r.campaign_id in (select campaign_id from locked)
  $query$, changes);

  if tg_op = 'UPDATE' then
    -- Campaigns with nothing left to send are finished, and an acceptance time recorded after engagement changes
    -- the "too soon after acceptance" rule. (One pass over the changed rows for both; the events are then looked
    -- up, by index, only for messages whose acceptance changed.)
    select array_agg(distinct n.campaign_id)
             filter (where n.send_status is distinct from o.send_status and n.send_status not in ('queued', 'sending')),
           array_agg(n.id) filter (where n.accepted_at is distinct from o.accepted_at)
    into campaign_ids, accepted_changed
    from new_messages as n join old_messages as o on o.id = n.id;
    if campaign_ids is not null then
      perform app_private.finish_campaigns_if_done(campaign_ids);
    end if;
    if accepted_changed is not null then
      select array_agg(c.id) into accepted_changed
      from unnest(accepted_changed) as c(id)
      where exists (select 1 from app_public.message_events as me where me.message_id = c.id and me.kind = 'engagement');
    end if;
    if accepted_changed is not null then
      perform app_private.refresh_messages(accepted_changed);
    end if;
  end if;
  return null;
end;
$_$;
