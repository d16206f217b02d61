--! Previous: sha1:7c5ef0ebf7225d9292bbb1141555f27eacdebcaa
--! Hash: sha1:1451da97f3c98010d8f15ac2f08e7db3c937281a
--! Message: Ingestion applies what each event changes to its message (a report that outranks the current one, views and clicks added) in the statement that records it, instead of re-deriving every touched message from all of its events; parsers cheaper

-- Ingestion applies what new events change to their messages instead of re-deriving each touched message from
-- all of its events. A delivery report changes the message only when it outranks the report the message has
-- (precedence, then deliveryAttemptTimestamp); a view or a click adds to the counts and times. Engagement is
-- classified once, when attributed (user agent, time since acceptance). A message is still re-derived from all of
-- its events (refresh_messages) when the burst rule may apply (a click while the message has another), when a
-- new report ties with its current one (the tie is broken by raw event id, which the message does not keep), or
-- when its acceptance time changes (the rollup trigger, as before). The result does not depend on the order of
-- arrival: each step is a maximum, a sum, a least or a greatest over the message's events.

-- The "too soon after acceptance" rule, in one place (attribution and refresh_messages).
create or replace function app_private.too_soon_after_acceptance(occurred_at timestamptz, accepted_at timestamptz,
                                                                  minimum_seconds numeric)
returns text
language sql stable parallel safe
as $$
  select case when occurred_at < accepted_at + make_interval(secs => minimum_seconds)
              then 'less than ' || minimum_seconds || ' s after acceptance' end
$$;
comment on function app_private.too_soon_after_acceptance(timestamptz, timestamptz, numeric) is
  'The machine reason of engagement that came sooner than minimum_seconds after ACS accepted the message, or NULL.';
revoke all on function app_private.too_soon_after_acceptance(timestamptz, timestamptz, numeric) from public;

-- Recording an attribution and applying its effects become one function, called by both attribution triggers
-- (events for known messages, and pending events when their message appears). It locks the messages first, in id
-- order (concurrent batches wait for each other and never deadlock), so that it reads each message as last
-- committed and nobody changes it before the end of the transaction; then one statement records the events,
-- classifies engagement by the event alone (user agent, time since the acceptance it now sees), records bounces and
-- suppressions, and updates the messages. Each event is read once; its user agent and its bounce rule are looked
-- up once per distinct value in the batch. The statement trigger on message_events that did this is gone.
drop trigger if exists _500_effects on app_public.message_events;
drop function if exists app_private.tg_message_events__effects();

create or replace function app_private.record_attributions(raw_event_ids bigint[], message_ids bigint[], keys text[])
returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
set plan_cache_mode to force_custom_plan
as $$
declare
  rederive_ids bigint[];
begin
  perform 1 from app_public.messages where id = any(message_ids) order by id for update;

  with event as materialized (
    -- The events with their message's current state (locked above).
    select e.id as raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, a.attributed_by,
      app_private.event_kind(e.event_type) as kind, coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at,
      e.status, e.status_message, e.engagement_type, e.engagement_context, e.user_agent, m.accepted_at,
      m.clicks_human + m.clicks_machine as earlier_clicks, m.delivery_status_at as current_status_at,
      coalesce(current_status.precedence, 0) as current_precedence, coalesce(ds.precedence, 0) as precedence
    from unnest(raw_event_ids, message_ids, keys) as a(raw_event_id, message_id, attributed_by)
    join app_public.raw_events as e on e.id = a.raw_event_id
    join app_public.messages as m on m.id = a.message_id
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
comment on function app_private.record_attributions(bigint[], bigint[], text[]) is
  'Attributes raw events to messages (parallel arrays: event, message, key used), once per event, and applies their effects: bounces, suppression, and the messages'' delivery status, counts and times (a report that outranks the current one; views and clicks added). A click while the message has another (burst rule) or a report tying with the current one re-derives the message with refresh_messages. The rollup trigger on messages carries the change to the campaign.';

comment on column app_public.message_events.machine_reason is
  'Why this engagement is counted as machine (user agent, too soon after acceptance, burst of clicks); NULL = human. Set when the event is attributed; re-evaluated when another click arrives for the message, when its acceptance time changes, and by recompute_campaign_rollup (which also applies engagement_settings changed since).';

-- refresh_messages now re-derives a few messages per batch (a second click, a tied report), where it took all of
-- them. With the statistics of a young message_events table (before autovacuum first analyses it), PostgreSQL
-- then read the whole table for 70 messages instead of their index entries (measured: 52 ms instead of a few
-- per batch, and 415 ms once it also repeated the burst rule for every engagement row). The function touches
-- only the given messages' rows, so it never scans a table (enable_seqscan off), and the burst rule is computed
-- once (materialised). The "too soon after acceptance" rule comes from the same function as in attribution.
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
  classified as materialized (
    select e.raw_event_id, e.message_id, e.engagement_type, e.occurred_at, e.machine_reason as old_reason, coalesce(
      e.user_agent_reason,
      app_private.too_soon_after_acceptance(e.occurred_at, e.accepted_at, s.minimum_seconds_after_acceptance),
      case when b.distinct_links >= s.burst_distinct_links
           then 'burst: clicks on ' || b.distinct_links || ' links within ' || s.burst_seconds || ' s' end
    ) as machine_reason
    from engagement as e cross join settings as s left join burst as b on b.raw_event_id = e.raw_event_id
  ),
  reclassified as (
    update app_public.message_events as me set machine_reason = c.machine_reason
    from classified as c
    where me.raw_event_id = c.raw_event_id and c.machine_reason is distinct from c.old_reason
  ),
  report as (
    select distinct on (me.message_id) me.message_id, me.status, me.status_message, me.occurred_at, me.bounce_type
    from app_public.message_events as me
    left join app_public.delivery_statuses as ds on ds.status = me.status
    where me.message_id = any(message_ids) and me.kind = 'delivery_report'
    order by me.message_id, coalesce(ds.precedence, 0) desc, me.occurred_at desc, me.raw_event_id desc
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

-- The parsers of every event's keys, cheaper: PostgreSQL's regular expressions run bounded repetition ({4},
-- {1,12}) markedly slower than the same pattern spelled out, and a UUID's shape is checked by translating its digits
-- instead of by a pattern, in an SQL function that PostgreSQL inlines into the ingest statement (measured on
-- 200,000 values: the time parser 4.3 instead of 5.0 microseconds, the UUID check 0.4 instead of 2.6). The time
-- parser stays PL/pgSQL: as an SQL function it is not inlined where its argument is an expression, and then costs
-- more per call. The UUID parser also no longer raises on an unclosed brace.
create or replace function app_private.to_timestamptz(value text) returns timestamptz
language plpgsql stable parallel safe
as $_$
begin
  -- ISO 8601 (fraction and offset optional), with valid ranges and day of month; at most 38 characters, the
  -- longest such time with 12 digits of fraction (PostgreSQL refuses far longer input with an error).
  if length(value) > 38
     or value !~ '^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]+)?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
     or substr(value, 1, 4) = '0000'
     or substr(value, 9, 2)::integer > extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                                                       + interval '1 month - 1 day') then
    return null;
  end if;
  -- With its offset (Z, or a sign after the hour and minute) as given; without one, UTC.
  if upper(right(value, 1)) = 'Z' or strpos(substr(value, 17), '+') > 0 or strpos(substr(value, 17), '-') > 0 then
    return value::timestamptz;
  end if;
  return value::timestamp at time zone 'UTC';
end;
$_$;

create or replace function app_private.to_uuid(value text) returns uuid
language sql immutable parallel safe
as $$
  -- 32 hexadecimal digits, with the four hyphens or none, in braces or not.
  select case when translate(lower(value), '0123456789abcdef', '0000000000000000') in (
                     '00000000-0000-0000-0000-000000000000', '00000000000000000000000000000000',
                     '{00000000-0000-0000-0000-000000000000}', '{00000000000000000000000000000000}')
              then value::uuid end
$$;
comment on function app_private.to_uuid(text) is
  'The text as a UUID (32 hexadecimal digits in either case, with the four hyphens or none, in braces or not), or NULL. Never raises.';
