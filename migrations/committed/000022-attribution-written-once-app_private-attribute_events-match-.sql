--! Previous: sha1:4b2a9b3cd9c9a8626d155120a32578e19c178b56
--! Hash: sha1:af82d26ded355571fe5121f080414157e21cf4f9
--! Message: Attribution written once (app_private.attribute_events: match, lock, record, apply in one statement); the Message-ID checked on insert only; row trigger functions without SET

-- Row-level trigger functions that only compute values carry no SET clause: a function with one is called through
-- a slower path that saves, sets and restores the setting on every call (measured: 5.5 instead of 1.9 microseconds
-- per updated row of messages). They name nothing a search path could change: every function and type they use is
-- built in, or qualified.

create or replace function app_private.tg__timestamps() returns trigger
language plpgsql
as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then pg_catalog.now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= pg_catalog.now()
                         then old.updated_at + interval '1 millisecond' else pg_catalog.now() end);
  return new;
end;
$$;
alter function app_private.tg__timestamps() reset all;

create or replace function app_private.tg_list_memberships__status_changed() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    new.status_changed_at = pg_catalog.now();
    if new.status = 'confirmed' then new.confirmed_at = pg_catalog.now(); end if;
    if new.status = 'unsubscribed' then new.unsubscribed_at = pg_catalog.now(); end if;
  end if;
  return new;
end;
$$;
alter function app_private.tg_list_memberships__status_changed() reset all;

create or replace function app_private.tg_subscribers__normalize() returns trigger
language plpgsql
as $$
begin
  new.email = pg_catalog.btrim(new.email);
  return new;
end;
$$;
alter function app_private.tg_subscribers__normalize() reset all;

-- A message's Message-ID is checked when the row is inserted, not on every update: the keys never change (trigger
-- _060_keys_immutable), and a CHECK constraint is evaluated on every update of the row (measured: 14.0 instead of
-- 7.9 ms per 1,000 updated messages). Inserting a malformed one fails as the constraint did (23514).
create or replace function app_private.is_internet_message_id(value text) returns boolean
language sql immutable parallel safe
as $$
  select value ~ '^<[-0-9a-f]+@[-.0-9a-z]+>$' and strpos(value, '@') = 38
$$;
comment on function app_private.is_internet_message_id(text) is
  'Whether the text is a Message-ID as Mailroom generates them: <uuid@sending-domain>, in lower case.';

create or replace function app_private.tg_messages__internet_message_id() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.internet_message_id is null then
    new.internet_message_id = app_private.new_internet_message_id(
      (select sending_domain from app_public.senders where id = new.sender_id));
  end if;
  if not coalesce(app_private.is_internet_message_id(new.internet_message_id), false) then
    raise exception 'message Message-ID % is not <uuid@sending-domain> in lower case', new.internet_message_id
      using errcode = '23514', table = 'messages', column = 'internet_message_id';
  end if;
  return new;
end;
$$;
comment on function app_private.tg_messages__internet_message_id() is
  'Generates the Message-ID of a message inserted without one (start_campaign generates them in its INSERT), and refuses a malformed one (23514).';

drop trigger if exists _050_internet_message_id on app_public.messages;
create trigger _050_internet_message_id
  before insert on app_public.messages
  for each row
  when (new.internet_message_id is null or not coalesce(app_private.is_internet_message_id(new.internet_message_id), false))
  execute function app_private.tg_messages__internet_message_id();

alter table app_public.messages drop constraint if exists messages_internet_message_id_check;

-- One function attributes events, from their ids, for the three callers (new events, pending events when their
-- message appears, and attribute_pending_events): the rule is written once. It matches, locks the matched messages
-- in id order, records and applies, in one statement. It returns the events that match no message, for the caller
-- to keep pending. The statement is dynamic, so that it is planned for
-- each call's array (plan_cache_mode = force_custom_plan on the function also applied to what fires inside it: each
-- foreign key check of a new bounce was planned anew). The messages are locked FOR NO KEY UPDATE, the lock an UPDATE
-- of them takes: foreign key checks of concurrent bounces are not blocked.
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
      -- The events that can be attributed (delivery and engagement reports that could be interpreted).
      select e.id as raw_event_id, e.internet_message_id, e.operation_id, e.recipient,
        app_private.event_kind(e.event_type) as kind, coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at,
        e.status, e.status_message, e.engagement_type, e.engagement_context, e.user_agent
      from app_public.raw_events as e
      where e.id = any($1) and e.problem is null and app_private.event_kind(e.event_type) is not null
    ),
    matched as materialized (
      -- The attribution rule: by Message-ID; else by operation id and recipient; else by operation id when the event
      -- names no recipient. Nothing else.
      select ev.raw_event_id, coalesce(by_message_id.id, by_operation_id.id) as message_id,
        case when by_message_id.id is not null then 'internet_message_id'
             when ev.recipient is null then 'operation_id'
             else 'operation_id_and_recipient' end as attributed_by
      from batch_event as ev
      left join app_public.messages as by_message_id on by_message_id.internet_message_id = ev.internet_message_id
      left join lateral (
        select m.id from app_public.messages as m
        where by_message_id.id is null and m.operation_id = ev.operation_id
          and (ev.recipient is null or lower(m.recipient) = ev.recipient)
      ) as by_operation_id on true
      where by_message_id.id is not null or by_operation_id.id is not null
    ),
    locked as materialized (
      -- The matched messages, locked in id order and read as last committed (the lock follows a row updated since;
      -- looked up again by id, which unlike the row's address survives that).
      select m.id, m.campaign_id, m.subscriber_id, m.accepted_at, m.clicks_human, m.clicks_machine, m.delivery_status,
        m.delivery_status_at
      from app_public.messages as m
      where m.id = any(array(select message_id from matched))
      order by m.id
      for no key update
    ),
    event as materialized (
      -- The matched events with their message's current state.
      select b.raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, mt.attributed_by, b.kind, b.occurred_at,
        b.status, b.status_message, b.engagement_type, b.engagement_context, b.user_agent, m.accepted_at,
        m.clicks_human + m.clicks_machine as earlier_clicks, m.delivery_status_at as current_status_at,
        coalesce(current_status.precedence, 0) as current_precedence, coalesce(ds.precedence, 0) as precedence
      from matched as mt
      join batch_event as b on b.raw_event_id = mt.raw_event_id
      join locked as m on m.id = mt.message_id
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
    select (select array_agg(c.message_id) filter (where c.rederive) from change as c),
      (select array_agg(b.raw_event_id) from batch_event as b
       where not exists (select 1 from matched as mt where mt.raw_event_id = b.raw_event_id))
  $statement$
  into rederive_ids, unmatched_ids
  using raw_event_ids;

  if rederive_ids is not null then
    perform app_private.refresh_messages(rederive_ids);
  end if;
  return unmatched_ids;
end;
$$;
comment on function app_private.attribute_events(bigint[]) is
  'Attributes raw events (by id) to messages by the attribution rule, once per event, and applies their effects: bounces, suppression, and the messages'' delivery status, counts and times (a report that outranks the current one; views and clicks added). A click while the message has another (burst rule) or a report tying with the current one re-derives the message with refresh_messages. The rollup trigger on messages carries the change to the campaign. Returns the ids of the events (delivery and engagement reports without a problem) that match no message; events of other types or with a problem are left alone.';
revoke all on function app_private.attribute_events(bigint[]) from public;

create or replace function app_private.tg_raw_events__attribute() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  unmatched_ids bigint[];
begin
  perform pg_advisory_xact_lock_shared(7361003);
  unmatched_ids = app_private.attribute_events(array(select e.id from new_events as e));
  -- Events that match no message yet wait for it (see tg_messages__attribute_pending).
  insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
  select e.id, e.internet_message_id, e.operation_id, e.recipient
  from new_events as e join unnest(unmatched_ids) as u(id) on u.id = e.id
  where e.internet_message_id is not null or e.operation_id is not null;
  return null;
end;
$$;

create or replace function app_private.tg_messages__attribute_pending() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  candidate_ids bigint[];
  unmatched_ids bigint[];
begin
  insert into app_public.campaign_rollups (campaign_id)
  select distinct campaign_id from new_messages
  on conflict (campaign_id) do nothing;
  perform pg_advisory_xact_lock(7361003);
  if not exists (select 1 from app_private.pending_events) then
    return null;
  end if;
  -- The pending events that name one of the new messages; attribute_events applies the rule to them.
  select array_agg(c.raw_event_id) into candidate_ids
  from (
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.internet_message_id = p.internet_message_id
    union
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.operation_id = p.operation_id
  ) as c;
  if candidate_ids is not null then
    unmatched_ids = app_private.attribute_events(candidate_ids);
    delete from app_private.pending_events as p
    using (select unnest(candidate_ids) except select unnest(unmatched_ids)) as attributed(id)
    where p.raw_event_id = attributed.id;
  end if;
  return null;
end;
$$;

create or replace function app_private.attribute_pending_events() returns table (attributed_by text, events bigint)
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  candidate_ids bigint[];
  unmatched_ids bigint[];
begin
  -- The same lock as inserting messages: no event or message can slip in between while we look.
  perform pg_advisory_xact_lock(7361003);
  -- Pending rows of events that were attributed meanwhile are stale: remove them.
  delete from app_private.pending_events as p
  using app_public.message_events as me where me.raw_event_id = p.raw_event_id;
  select array_agg(p.raw_event_id) into candidate_ids from app_private.pending_events as p;
  if candidate_ids is null then
    return;
  end if;
  unmatched_ids = app_private.attribute_events(candidate_ids);
  delete from app_private.pending_events as p
  using (select unnest(candidate_ids) except select unnest(unmatched_ids)) as attributed(id)
  where p.raw_event_id = attributed.id;
  return query
  select me.attributed_by, count(*)
  from app_public.message_events as me
  join (select unnest(candidate_ids) except select unnest(unmatched_ids)) as attributed(id) on attributed.id = me.raw_event_id
  group by me.attributed_by
  order by 1;
end;
$$;

drop function if exists app_private.record_attributions(bigint[], bigint[], text[]);
