create or replace function app_private.attribute_events(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  rederive_ids bigint[];
  unmatched_ids bigint[];
  hourly_delta app_public.campaign_engagement_hourly[];
begin
  execute $statement$
    -- Step 1, match: each event to its message, the messages locked.
    with batch_event as materialized (
      -- The events that can be attributed (delivery and engagement reports that could be interpreted), each with
      -- its message by the attribution rule: by Message-ID; else by operation id and recipient; else by operation
      -- id when the event names no recipient. Nothing else; no message when nothing matches.
      -- Mailroom's own hits name their message's operation id in a signed token: attributed by the token.
      select e.id as raw_event_id, app_private.event_kind(e.event_type) as kind,
        coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at, e.status, e.status_message,
        e.engagement_type, e.user_agent, app_private.engagement_source(e.event_type) as source,
        -- The link a click names (a Mailroom tracking URL reported by Azure: the link inside it).
        case when app_private.event_kind(e.event_type) = 'engagement' then app_private.tracked_link(e.engagement_context) end as url,
        e.http_method, e.honeypot, e.ip_address,
        coalesce(by_message_id.id, by_operation_id.id) as message_id,
        case when by_message_id.id is not null then 'internet_message_id'
             when by_operation_id.id is null then null
             when app_private.engagement_source(e.event_type) = 'mailroom' then 'tracking_token'
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
      select m.id, m.campaign_id, m.subscriber_id, m.accepted_at, m.opens_human, m.opens_machine, m.clicks_human,
        m.clicks_machine, m.delivery_status,
        m.delivery_status_message, m.delivery_status_at
      from app_public.messages as m
      where m.id = any(array(select message_id from batch_event where message_id is not null))
      order by m.id
      for no key update
    ),
    event as materialized (
      -- The matched events with their message's current state.
      select b.raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, b.attributed_by, b.kind, b.occurred_at,
        b.status, b.status_message, b.engagement_type, b.user_agent, b.source, b.http_method, b.honeypot, b.ip_address,
        b.url,
        c.engagement_tracking,
        case when b.kind = 'engagement'
             then app_private.engagement_ignored_reason(c.engagement_tracking, b.source, b.engagement_type, b.url) end
          as ignored_reason,
        m.accepted_at, m.clicks_human + m.clicks_machine as earlier_clicks,
        m.opens_human + m.opens_machine + m.clicks_human + m.clicks_machine as earlier_engagement,
        m.delivery_status, m.delivery_status_at,
        case when m.delivery_status_at is not null
             then app_private.delivery_report_rank(current_status.precedence, m.delivery_status_at, m.delivery_status,
                                                   m.delivery_status_message) end as current_rank,
        case when b.kind = 'delivery_report'
             then app_private.delivery_report_rank(ds.precedence, b.occurred_at, b.status, b.status_message) end as rank
      from batch_event as b
      join locked as m on m.id = b.message_id
      left join app_public.campaigns as c on c.id = m.campaign_id and b.kind = 'engagement'
      left join app_public.delivery_statuses as ds on ds.status = b.status
      left join app_public.delivery_statuses as current_status on current_status.status = m.delivery_status
    ),
    -- Step 2, record: what each event means (engagement classified, bounce rules), recorded once, with its bounce
    -- and suppression.
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
    request as (
      -- What the request of a Mailroom hit says (honeypot, HEAD, a listed address range), once per distinct request.
      select d.http_method, d.honeypot, d.ip_address, app_private.request_machine_reason(d.http_method, d.honeypot, d.ip_address) as reason
      from (select distinct http_method, honeypot, ip_address from event where source = 'mailroom') as d
    ),
    attributed as materialized (
      select e.*, rule.bounce_type, coalesce(rule.blocklist_subscriber, false) as blocklists,
        agent.reason as user_agent_reason, request.reason as request_reason,
        -- Engagement that counts nowhere has no machine reason either (ignored_reason says why).
        case when e.kind = 'engagement' and e.ignored_reason is null
             then app_private.engagement_machine_reason(coalesce(request.reason, agent.reason), e.occurred_at, e.accepted_at,
                                                        e.delivery_status, e.delivery_status_at, null, null, s) end as machine_reason
      from event as e
      cross join app_public.engagement_settings as s
      left join agent on e.engagement_type is not null and agent.user_agent = e.user_agent
      left join request on e.source = 'mailroom' and request.http_method is not distinct from e.http_method
                       and request.honeypot is not distinct from e.honeypot and request.ip_address is not distinct from e.ip_address
      left join rule on e.kind = 'delivery_report' and rule.status = e.status
                    and rule.status_message = coalesce(e.status_message, '')
    ),
    recorded as (
      insert into app_public.message_events (
        raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
        bounce_type, blocklists, engagement_type, url, user_agent_reason, machine_reason, engagement_source,
        request_reason, honeypot, ignored_reason
      )
      select raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
        bounce_type, blocklists, engagement_type, url, user_agent_reason, machine_reason, source,
        request_reason, coalesce(honeypot, false), ignored_reason
      from attributed
      on conflict (raw_event_id) do nothing
      returning raw_event_id
    ),
    new_event as materialized (
      -- Only the events recorded now: an event is applied once.
      select a.* from attributed as a where a.raw_event_id in (select r.raw_event_id from recorded as r)
    ),
    locked_subscriber as materialized (
      -- The subscribers that a bounce or a suppression may change (here, and in the bounce policy's trigger), locked
      -- in id order before either touches them: one order for every job.
      select l.id, l.status from app_public.subscribers as l
      where l.id in (select subscriber_id from new_event where bounce_type is not null or blocklists)
      order by l.id
      for no key update
    ),
    bounced as (
      -- One bounce per delivery report that the rules call a bounce.
      insert into app_public.bounces (subscriber_id, message_id, campaign_id, raw_event_id, bounce_type, status, detail, occurred_at)
      select n.subscriber_id, n.message_id, n.campaign_id, n.raw_event_id, n.bounce_type, n.status, n.status_message, n.occurred_at
      from new_event as n
      where n.bounce_type is not null and n.subscriber_id in (select l.id from locked_subscriber as l)
      on conflict (raw_event_id) do nothing
    ),
    suppressed as (
      -- Suppressed: ACS will not send to the address; blocklist the subscriber (by id), counting no bounce.
      update app_public.subscribers as s set status = 'blocklisted'
      from locked_subscriber as l
      where s.id = l.id and l.status <> 'blocklisted' and l.id in (select subscriber_id from new_event where blocklists)
    ),
    -- Step 3, apply to messages: per message, what the recorded events add, and the report that wins.
    counted as (
      -- The new engagement that counts (ignored_reason NULL), and the rest of the new events.
      select n.*, n.kind = 'engagement' and n.ignored_reason is null as counts from new_event as n
    ),
    incoming as (
      -- Per message: the new views and clicks, and whether a rule that looks at other events of the message may
      -- change them, in which case the message is re-derived from all of its events: the burst rule (a click while
      -- the message has another, the honeypot's included), and with both sources the rule that counts an open or
      -- click seen by Azure and by Mailroom once (engagement while the message has other engagement).
      select n.message_id,
        count(*) filter (where n.counts and n.engagement_type = 'click') > 0
          and count(*) filter (where n.counts and n.engagement_type = 'click') + max(n.earlier_clicks) > 1
        or max(n.engagement_tracking) = 'both' and count(*) filter (where n.counts) > 0
          and count(*) filter (where n.counts) + max(n.earlier_engagement) > 1
          as rederive,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as opens_human,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is not null) as opens_machine,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as clicks_human,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is not null) as clicks_machine,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null and n.source = 'mailroom')
          as opens_human_mailroom,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null and n.source = 'mailroom')
          as clicks_human_mailroom,
        min(n.occurred_at) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as first_opened_at,
        max(n.occurred_at) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as last_opened_at,
        min(n.occurred_at) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as first_clicked_at,
        max(n.occurred_at) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as last_clicked_at
      from counted as n
      group by n.message_id
    ),
    report as (
      -- Per message: the highest-ranking new delivery report (delivery_report_rank: precedence, time, then content,
      -- so that equal ranks are equal reports), and whether it outranks the current one.
      select distinct on (n.message_id) n.message_id, n.status, n.status_message, n.occurred_at, n.bounce_type,
        n.current_rank is null or n.rank > n.current_rank as outranks
      from new_event as n
      where n.kind = 'delivery_report'
      order by n.message_id, n.rank desc
    ),
    change as materialized (
      select i.message_id, i.rederive, coalesce(r.outranks, false) as outranks,
        r.status, r.status_message, r.occurred_at, r.bounce_type, i.opens_human, i.opens_machine, i.clicks_human,
        i.clicks_machine, i.opens_human_mailroom, i.clicks_human_mailroom, i.first_opened_at, i.last_opened_at, i.first_clicked_at, i.last_clicked_at
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
        opens_human_mailroom = m.opens_human_mailroom + c.opens_human_mailroom,
        clicks_human_mailroom = m.clicks_human_mailroom + c.clicks_human_mailroom,
        first_opened_at = least(m.first_opened_at, c.first_opened_at),
        last_opened_at = greatest(m.last_opened_at, c.last_opened_at),
        first_clicked_at = least(m.first_clicked_at, c.first_clicked_at),
        last_clicked_at = greatest(m.last_clicked_at, c.last_clicked_at),
        updated_at = now()
      from change as c
      -- Every message the batch changes, those to re-derive included (refresh_messages then corrects them): the
      -- rollup trigger of this statement locks the rollups of all the batch's campaigns, in campaign order, so that
      -- a later statement of the transaction never takes one it does not hold yet (two jobs would deadlock).
      where m.id = c.message_id
        and (c.outranks or c.opens_human + c.opens_machine + c.clicks_human + c.clicks_machine > 0)
    )
    select (select array_agg(c.message_id) filter (where c.rederive) from change as c),
      (select array_agg(b.raw_event_id) from batch_event as b where b.message_id is null),
      -- What the recorded events add to campaign_engagement_hourly (engagement_hourly_delta_query: the one rule).
      (select array_agg(row(h.*)::app_public.campaign_engagement_hourly order by h.campaign_id, h.hour)
       from ($statement$ || app_private.engagement_hourly_delta_query(
    'select 1 as sign, campaign_id, occurred_at, kind, engagement_type, machine_reason, ignored_reason from new_event')
    || ') as h)'
  into rederive_ids, unmatched_ids, hourly_delta
  using raw_event_ids;

  -- Step 4 continued: the opens and clicks per hour, after the statement whose trigger on messages updated the
  -- campaigns' rollups (so that the rollup rows are always locked before the hourly rows).
  perform app_private.add_engagement_hourly(hourly_delta);
  if rederive_ids is not null then
    perform app_private.refresh_messages(rederive_ids);
  end if;
  return unmatched_ids;
end;
$$;

comment on function app_private.attribute_events(raw_event_ids bigint[]) is 'Steps 1 to 3 of ingestion (see attribute_new_events): matches raw events (by id) to messages by the attribution rule, records each once in message_events (with bounces and suppression; engagement with its source, its request''s and user agent''s reasons, and why it counts nowhere: engagement_ignored_reason), and applies them to their messages: a report that outranks the current one by delivery_report_rank, views and clicks that count added as classified by engagement_machine_reason. A click while the message has another (burst rule), and engagement of a campaign tracking both while the message has other engagement, re-derives the message with refresh_messages. Step 4, the rollup, follows from the trigger on messages; then the recorded engagement is added to campaign_engagement_hourly (add_engagement_hourly). Returns the ids of the events (delivery and engagement reports without a problem) that match no message; events of other types or with a problem are left alone.';

revoke all on function app_private.attribute_events(raw_event_ids bigint[]) from public;
