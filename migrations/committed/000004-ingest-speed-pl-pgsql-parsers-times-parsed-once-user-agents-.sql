--! Previous: sha1:04f6d87b195e065bedb9003d12bc1e0c9eff1f8d
--! Hash: sha1:c2cd9eed55a3a05c467fb1d0d9fb811a5879916e
--! Message: Ingest speed: PL/pgSQL parsers, times parsed once, user agents matched once per batch, no per-row FK checks on derived tables

-- Ingest speed: parsers in PL/pgSQL (cheaper per call than non-inlinable SQL functions), each time parsed once
-- per event, one user-agent match per distinct user agent of a batch, and no per-row foreign key checks on
-- the high-volume derived tables (message_events, pending_events are written only by the attribution triggers,
-- which take their ids from the rows they join). campaign_rollup_from_events without a correlated subquery.

alter table app_public.message_events drop constraint if exists message_events_raw_event_id_fkey,
  drop constraint if exists message_events_message_id_fkey, drop constraint if exists message_events_campaign_id_fkey;
alter table app_private.pending_events drop constraint if exists pending_events_raw_event_id_fkey;
comment on table app_public.message_events is
  'Each delivery report and engagement event attributed to a message: which key matched, when, and what it '
  'means (status, bounce type, view or click, URL, machine or human). Inserted exactly once per raw event, only by '
  'the attribution triggers; raw_event_id, message_id and campaign_id refer to raw_events, messages and campaigns '
  '(not declared as foreign keys: a check per row would cost more than the whole insert).';

create or replace function app_private.to_timestamptz(value text) returns timestamptz as $$
begin
  if value !~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]{1,12})?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
     or substr(value, 1, 4) = '0000'
     or substr(value, 9, 2)::integer > extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                                                       + interval '1 month - 1 day') then
    return null;
  end if;
  if substr(value, 11) ~ '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' then
    return value::timestamptz;
  end if;
  return value::timestamp at time zone 'UTC';
end;
$$ language plpgsql stable parallel safe;

create or replace function app_private.to_uuid(value text) returns uuid as $$
begin
  if value ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' then
    return value::uuid;
  end if;
  return null;
end;
$$ language plpgsql immutable parallel safe;

create or replace function app_private.normalize_internet_message_id(value text) returns text as $$
declare
  trimmed text := lower(btrim(value));
begin
  if trimmed is null or trimmed = '' then
    return null;
  elsif trimmed like '<%>' then
    return trimmed;
  end if;
  return '<' || trimmed || '>';
end;
$$ language plpgsql immutable parallel safe;

create or replace function app_private.normalize_delivery_status(value text) returns text as $$
declare
  trimmed text := btrim(value);
begin
  return case lower(trimmed)
    when 'delivered' then 'Delivered'
    when 'expanded' then 'Expanded'
    when 'bounced' then 'Bounced'
    when 'suppressed' then 'Suppressed'
    when 'filteredspam' then 'FilteredSpam'
    when 'quarantined' then 'Quarantined'
    when 'failed' then 'Failed'
    else nullif(trimmed, '')
  end;
end;
$$ language plpgsql immutable parallel safe;

create or replace function app_private.ingest_events(batch jsonb)
returns table (received integer, inserted integer, duplicates integer) as $$
  with batch_settings as materialized (
    select
      coalesce(app_private.to_timestamptz(batch->>'receivedAt'), now()) as received_at,
      nullif(batch->>'subscriptionName', '') as subscription_name,
      case when batch->>'deliveryCount' ~ '^[0-9]{1,9}$' then (batch->>'deliveryCount')::integer end as delivery_count
  ),
  batch_event as (
    select
      e.event,
      e.position,
      case
        when batch->>'schema' in ('eventgrid', 'cloudevents') then batch->>'schema'
        when jsonb_typeof(e.event) = 'object' and e.event ? 'specversion' then 'cloudevents'
        else 'eventgrid'
      end as event_schema
    from jsonb_array_elements(
      case jsonb_typeof(batch->'events')
        when 'array' then batch->'events'
        when 'object' then jsonb_build_array(batch->'events')
        else '[]'::jsonb
      end
    ) with ordinality as e(event, position)
  ),
  envelope as (
    select
      event,
      position,
      event_schema,
      jsonb_typeof(event) = 'object' as is_object,
      coalesce(case when event_schema = 'cloudevents' then coalesce(event->>'source', event->>'topic')
                    else coalesce(event->>'topic', event->>'source') end, '') as source,
      nullif(event->>'id', '') as event_id,
      nullif(case when event_schema = 'cloudevents' then coalesce(event->>'type', event->>'eventType')
                  else coalesce(event->>'eventType', event->>'type') end, '') as event_type,
      case when event_schema = 'cloudevents' then coalesce(event->>'time', event->>'eventTime')
           else coalesce(event->>'eventTime', event->>'time') end as event_time_text,
      event->>'subject' as subject,
      case when jsonb_typeof(event->'data') = 'object' then event->'data' end as data
    from batch_event
  ),
  interpreted as (
    select
      envelope.*,
      coalesce(data->>'deliveryAttemptTimestamp', data->>'deliveryAttemptTimeStamp',
               data->>'userActionTimestamp', data->>'userActionTimeStamp') as occurred_text
    from envelope
  ),
  timed as materialized (
    -- Materialised so that each time is parsed once per event, however often it is referred to below.
    select interpreted.*, app_private.to_timestamptz(event_time_text) as event_time,
      app_private.to_timestamptz(occurred_text) as occurred_time
    from interpreted
  ),
  checked as (
    select
      timed.*,
      case
        when not is_object then 'not a JSON object'
        when event_id is null then 'missing id'
        when event_type is null then 'missing event type'
        when event_time_text is not null and event_time is null then 'unparseable event time'
        when occurred_text is not null and occurred_time is null
          then 'unparseable delivery attempt or user action time'
        when lower(event_type) in ('microsoft.communication.emaildeliveryreportreceived',
                                   'microsoft.communication.emailengagementtrackingreportreceived')
             and data is null then 'missing data'
      end as problem,
      case when event_id is null then 1 else count(*) over (partition by lower(source), event_id) end as copies,
      case when event_id is null then 1 else row_number() over (partition by lower(source), event_id order by position) end as copy
    from timed
  ),
  stored as (
    insert into app_public.raw_events (
      source, event_id, event_schema, event_type, subject, event_time, event,
      internet_message_id, operation_id, recipient, sender, status, status_message,
      engagement_type, engagement_context, user_agent, occurred_at, problem,
      subscription_name, delivery_count, times_received, received_at, last_received_at
    )
    select
      source, event_id, event_schema, event_type, subject, event_time, event,
      app_private.normalize_internet_message_id(data->>'internetMessageId'),
      app_private.to_uuid(btrim(data->>'messageId')),
      nullif(lower(btrim(data->>'recipient')), ''),
      nullif(lower(btrim(data->>'sender')), ''),
      app_private.normalize_delivery_status(data->>'status'),
      case when jsonb_typeof(data->'deliveryStatusDetails') = 'object'
           then data->'deliveryStatusDetails'->>'statusMessage' end,
      nullif(lower(btrim(coalesce(data->>'engagementType', data->>'engagement'))), ''),
      nullif(data->>'engagementContext', ''),
      nullif(data->>'userAgent', ''),
      coalesce(occurred_time, event_time),
      problem,
      s.subscription_name,
      s.delivery_count,
      copies,
      s.received_at,
      s.received_at
    from checked cross join batch_settings as s
    where copy = 1
    order by lower(source), event_id
    on conflict (lower(source), event_id) do update set
      delivery_count = greatest(raw_events.delivery_count, excluded.delivery_count),
      times_received = raw_events.times_received + excluded.times_received,
      last_received_at = greatest(raw_events.last_received_at, excluded.last_received_at)
    returning (xmax = 0) as is_new
  )
  select
    (select count(*) from batch_event)::integer,
    (select count(*) filter (where is_new) from stored)::integer,
    ((select count(*) from batch_event) - (select count(*) filter (where is_new) from stored))::integer
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

create or replace function app_private.record_attributions(raw_event_ids bigint[], message_ids bigint[], keys text[])
returns void as $$
  insert into app_public.message_events (
    raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
    bounce_type, blocklists, engagement_type, url, user_agent_reason
  )
  select
    e.id, m.id, m.campaign_id, a.attributed_by, app_private.event_kind(e.event_type),
    coalesce(e.occurred_at, e.event_time, e.received_at), e.status, e.status_message,
    rule.bounce_type, coalesce(rule.blocklist_subscriber, false), e.engagement_type, e.engagement_context,
    agent.reason
  from unnest(raw_event_ids, message_ids, keys) as a(raw_event_id, message_id, attributed_by)
  join app_public.raw_events as e on e.id = a.raw_event_id
  join app_public.messages as m on m.id = a.message_id
  -- Each distinct user agent of the batch is matched against machine_user_agents once.
  left join (
    select user_agent, app_private.user_agent_machine_reason(user_agent) as reason
    from (select distinct r.user_agent from app_public.raw_events as r
          where r.id = any(raw_event_ids) and r.engagement_type is not null and r.user_agent is not null) as d
  ) as agent on e.engagement_type is not null and agent.user_agent = e.user_agent
  left join lateral (
    select r.bounce_type, r.blocklist_subscriber
    from app_public.bounce_rules as r
    where app_private.event_kind(e.event_type) = 'delivery_report' and r.status = e.status
      and (r.status_message_pattern is null or coalesce(e.status_message, '') ~* r.status_message_pattern)
    order by r.position
    limit 1
  ) as rule on true
  on conflict (raw_event_id) do nothing;
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

create or replace function app_public.campaign_rollup_from_events(campaign_id bigint) returns app_public.campaign_rollups as $$
  with settings as (select * from app_public.engagement_settings),
  msg as (
    select * from app_public.messages as m where m.campaign_id = campaign_rollup_from_events.campaign_id
  ),
  candidate as (
    select e.*, app_private.event_kind(e.event_type) as kind
    from app_public.raw_events as e
    where e.problem is null and app_private.event_kind(e.event_type) is not null
      and (e.internet_message_id in (select internet_message_id from msg)
           or e.operation_id in (select operation_id from msg))
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
  attributed as (
    select c.*, b.message_id, m.accepted_at
    from (select distinct on (id) id, message_id from matched order by id, rank) as b
    join candidate as c on c.id = b.id
    join msg as m on m.id = b.message_id
  ),
  report as (
    select distinct on (a.message_id) a.message_id, a.status, rule.bounce_type
    from attributed as a
    left join app_public.delivery_statuses as ds on ds.status = a.status
    left join lateral (
      select r.bounce_type from app_public.bounce_rules as r
      where r.status = a.status
        and (r.status_message_pattern is null or coalesce(a.status_message, '') ~* r.status_message_pattern)
      order by r.position limit 1
    ) as rule on true
    where a.kind = 'delivery_report'
    order by a.message_id, coalesce(ds.precedence, 0) desc, coalesce(a.occurred_at, a.event_time, a.received_at) desc, a.id desc
  ),
  engagement as (
    select a.id, a.message_id, a.engagement_type, a.engagement_context as url, a.user_agent, a.accepted_at,
           coalesce(a.occurred_at, a.event_time, a.received_at) as occurred_at
    from attributed as a where a.kind = 'engagement'
  ),
  burst as (
    select e.id, count(distinct o.url) as distinct_links
    from engagement as e cross join settings as s
    join engagement as o on o.message_id = e.message_id
    where e.engagement_type = 'click' and o.engagement_type = 'click' and o.url is not null
      and o.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                            and e.occurred_at + make_interval(secs => s.burst_seconds)
    group by e.id
  ),
  agent as (
    select d.user_agent, app_private.user_agent_machine_reason(d.user_agent) is not null as is_machine
    from (select distinct user_agent from engagement where user_agent is not null) as d
  ),
  classified as (
    select e.message_id, e.engagement_type,
      coalesce(a.is_machine, false)
      or coalesce(e.occurred_at < e.accepted_at + make_interval(secs => s.minimum_seconds_after_acceptance), false)
      or coalesce(b.distinct_links >= s.burst_distinct_links, false) as is_machine
    from engagement as e cross join settings as s
    left join agent as a on a.user_agent = e.user_agent
    left join burst as b on b.id = e.id
  ),
  per_message as (
    select m.id, m.send_status, r.status as delivery_status, r.bounce_type,
      count(*) filter (where c.engagement_type = 'view' and not c.is_machine) as opens_human,
      count(*) filter (where c.engagement_type = 'view') as opens,
      count(*) filter (where c.engagement_type = 'click' and not c.is_machine) as clicks_human,
      count(*) filter (where c.engagement_type = 'click') as clicks,
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
    count(*) filter (where complained)
  from per_message
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;
