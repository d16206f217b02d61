--! Previous: sha1:a72ac66c22017328c338beeab9aee75f2568c9be
--! Hash: sha1:707e612a365610d0b33d4c03de068b47136b896c
--! Message: Nothing lost, nothing stuck: poisoned events kept as text, dead workers' jobs unlocked, race-free signing secret, quota of crashed claims given back, send jobs replaced not retired

-- == ingestion: one statement per job; poisoned events isolated and kept verbatim ==

alter table app_public.raw_events add column if not exists event_text text;
comment on column app_public.raw_events.event_text is
  'The event as received (JSON text), kept when it could not be stored as jsonb or under its own keys (a NUL character or a lone surrogate in a string, nesting too deep, an id or source too long for the index); event is then NULL and problem says why. NULL for every other event.';

drop view if exists app_public.monitor_problem_events;
create view app_public.monitor_problem_events with (security_invoker = true) as
  select e.id, e.source, e.event_id, e.problem, e.received_at, e.event, e.event_text
  from app_public.raw_events as e
  where e.problem is not null;
comment on view app_public.monitor_problem_events is
  'Events that could not be interpreted or stored as JSON, with the reason and the event as received; kept, never dropped.';
grant select on app_public.monitor_problem_events to :DATABASE_ADMIN, :DATABASE_READONLY;

create or replace function app_private.ingest_events(batch jsonb)
  returns table (received integer, inserted integer, duplicates integer)
  language sql
  set search_path from current
as $$
  with delivery as materialized (
    -- One delivery (an object) or several (an array of them, as an ingest_events job holds).
    select
      d.delivery,
      d.position as delivery_position,
      coalesce(app_private.to_timestamptz(d.delivery->>'receivedAt'), now()) as received_at,
      nullif(d.delivery->>'subscriptionName', '') as subscription_name,
      case when d.delivery->>'deliveryCount' ~ '^[0-9]{1,9}$' then (d.delivery->>'deliveryCount')::integer end as delivery_count
    from jsonb_array_elements(case jsonb_typeof(batch) when 'array' then batch else jsonb_build_array(batch) end)
         with ordinality as d(delivery, position)
    where jsonb_typeof(d.delivery) = 'object'
  ),
  batch_event as (
    select
      e.event,
      d.delivery_position,
      e.position,
      d.received_at,
      d.subscription_name,
      d.delivery_count,
      case
        when d.delivery->>'schema' in ('eventgrid', 'cloudevents') then d.delivery->>'schema'
        when jsonb_typeof(e.event) = 'object' and e.event ? 'specversion' then 'cloudevents'
        else 'eventgrid'
      end as event_schema
    from delivery as d,
      jsonb_array_elements(
        case jsonb_typeof(d.delivery->'events')
          when 'array' then d.delivery->'events'
          when 'object' then jsonb_build_array(d.delivery->'events')
          else '[]'::jsonb
        end
      ) with ordinality as e(event, position)
  ),
  envelope as (
    select
      event,
      delivery_position,
      position,
      event_schema,
      received_at,
      subscription_name,
      delivery_count,
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
      -- Copies of one event in one job (deliveries queued together) make one row.
      case when event_id is null then 1 else count(*) over same_event end as copies,
      case when event_id is null then 1 else row_number() over (same_event order by delivery_position, position) end as copy,
      case when event_id is null then received_at else min(received_at) over same_event end as first_received_at,
      case when event_id is null then received_at else max(received_at) over same_event end as latest_received_at,
      case when event_id is null then delivery_count else max(delivery_count) over same_event end as most_deliveries
    from timed
    window same_event as (partition by lower(source), event_id)
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
      subscription_name,
      most_deliveries,
      copies,
      first_received_at,
      latest_received_at
    from checked
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
$$;
comment on function app_private.ingest_events(jsonb) is
  'Stores Event Grid deliveries in one INSERT. Batch: one delivery or an array of them (an ingest_events job), each {"schema": "eventgrid"|"cloudevents", "receivedAt": ISO time, "deliveryCount": int|null, "subscriptionName": text|null, "events": [...]}. Idempotent on (source compared case-insensitively, event id): a redelivery raises times_received and delivery_count instead of adding a row. An event that cannot be interpreted is kept with its problem. Raises only for content the table cannot hold (an id longer than its index allows, say): app_private.ingest_job isolates such an event. Returns how many events the batch held, how many were new, and how many were duplicates.';

create or replace function app_private.store_unreadable_event(event_text text, event_id text, source text,
                                                               delivery jsonb, problem text)
  returns table (received integer, inserted integer, duplicates integer)
  language plpgsql
  set search_path from current
as $$
#variable_conflict use_column
declare
  is_new boolean;
begin
  -- Keys the unique index can hold: an id or source that is missing or too long is replaced by a SHA-256
  -- digest (of itself, or of the event's text), the same for every redelivery of the event.
  insert into app_public.raw_events as r (source, event_id, event_schema, event_text, problem,
                                          subscription_name, delivery_count, received_at, last_received_at)
  select
    case when store_unreadable_event.source is null then ''
         when length(store_unreadable_event.source) <= 512 then store_unreadable_event.source
         else 'sha256:' || encode(sha256(convert_to(store_unreadable_event.source, 'UTF8')), 'hex') end,
    case when length(store_unreadable_event.event_id) between 1 and 512 then store_unreadable_event.event_id
         else 'sha256:' || encode(sha256(convert_to(coalesce(nullif(store_unreadable_event.event_id, ''),
                                                             store_unreadable_event.event_text), 'UTF8')), 'hex') end,
    case when d->>'schema' in ('eventgrid', 'cloudevents') then d->>'schema' else 'eventgrid' end,
    store_unreadable_event.event_text,
    store_unreadable_event.problem,
    nullif(d->>'subscriptionName', ''),
    case when d->>'deliveryCount' ~ '^[0-9]{1,9}$' then (d->>'deliveryCount')::integer end,
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now()),
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now())
  from (select coalesce(store_unreadable_event.delivery, '{}'::jsonb) as d) as delivery_fields
  on conflict (lower(source), event_id) do update set
    delivery_count = greatest(r.delivery_count, excluded.delivery_count),
    times_received = r.times_received + 1,
    last_received_at = greatest(r.last_received_at, excluded.last_received_at)
  returning (xmax = 0) into is_new;
  return query select 1, is_new::integer, (not is_new)::integer;
end;
$$;
comment on function app_private.store_unreadable_event(text, text, text, jsonb, text) is
  'Keeps one event that cannot be stored as jsonb or under its own keys: its text as received in raw_events.event_text, with the problem and its delivery''s schema, receivedAt, deliveryCount and subscriptionName (read as ingest_events reads them); no effects follow. Idempotent like ingest_events: the id and source when they are short enough for the index, else a SHA-256 digest of them (or of the text).';

create or replace function app_private.ingest_job(job_id bigint)
  returns table (received integer, inserted integer, duplicates integer)
  language plpgsql
  set search_path from current
as $$
declare
  payload json;
  deliveries jsonb;
  delivery json;
  header jsonb;
  event jsonb;
  result record;
  stored boolean;
begin
  -- The job's payload as the receiver wrote it, read here: it is not parsed and written again on the way.
  select case json_typeof(j.payload) when 'array' then j.payload else json_build_array(j.payload) end
    into payload
  from graphile_worker._private_jobs as j where j.id = job_id;
  if payload is null then
    raise exception 'job % does not exist', job_id using errcode = 'P0002';
  end if;
  received := 0; inserted := 0; duplicates := 0;

  -- 1. Parse. The receiver sets aside every event PostgreSQL cannot hold as jsonb (see "unstorable" below), so
  --    this fails only for a job written some other way; then each delivery that cannot be parsed is kept as text.
  begin
    deliveries := payload::jsonb;
  exception when data_exception or program_limit_exceeded then
    deliveries := '[]';
    for delivery in select d.value from json_array_elements(payload) as d loop
      begin
        deliveries := deliveries || jsonb_build_array(delivery::jsonb);
      exception when data_exception or program_limit_exceeded then
        select * into result from app_private.store_unreadable_event(delivery::text, null, null, null,
          'delivery cannot be stored as JSON: ' || sqlerrm);
        received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
      end;
    end loop;
  end;

  -- 2. Store every event in one statement; the triggers on raw_events attribute them.
  begin
    select * into result from app_private.ingest_events(deliveries);
    stored := true;
  exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
    stored := false;
  end;
  if stored then
    received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
  else
    -- Some content cannot be stored: isolate it, event by event. A content error never fails the job, so
    -- the job is never retried for it and no other event waits for it.
    for header, event in
      select d.value - 'events' - 'unstorable', e.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'events') when 'array' then d.value->'events' else '[]' end) as e
    loop
      begin
        select * into result from app_private.ingest_events(header || jsonb_build_object('events', jsonb_build_array(event)));
      exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
        select * into result from app_private.store_unreadable_event(event::text, event->>'id',
          case when header->>'schema' = 'cloudevents' then coalesce(event->>'source', event->>'topic')
               else coalesce(event->>'topic', event->>'source') end,
          header, 'cannot be stored: ' || sqlerrm);
      end;
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;

  -- 3. The events the receiver set aside, kept as text with the receiver's reason.
  if strpos(payload::text, '"unstorable"') > 0 then
    for header, event in
      select d.value - 'events' - 'unstorable', u.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'unstorable') when 'array' then d.value->'unstorable' else '[]' end) as u
    loop
      select * into result from app_private.store_unreadable_event(event->>'text', event->>'id', event->>'source',
        header, coalesce(event->>'problem', 'cannot be stored as JSON'));
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;
  return next;
end;
$$;
comment on function app_private.ingest_job(bigint) is
  'Stores the deliveries of one ingest_events job (its payload in graphile_worker._private_jobs, read as written; the public jobs view leaves the payload out). One statement for the whole job. When some content cannot be stored, the job is split event by event and each event that still cannot be stored is kept as text with its problem (store_unreadable_event); the events the receiver set aside as "unstorable" (nested too deep, a NUL character, a lone surrogate, an id or source too long) are kept the same way. Content never fails the job; only a transient error does, and graphile-worker retries it.';

-- == workers: jobs held by a worker that died are unlocked within a minute, never while it lives ==

create or replace function app_private.hold_worker_lock(pool_id text) returns void
  language sql volatile
as $$
  -- Class 7361005, one lock per graphile-worker pool id, held by the session for as long as the pool lives.
  select pg_advisory_lock(7361005, hashtext(pool_id))
$$;
comment on function app_private.hold_worker_lock(text) is
  'Taken by each worker process, on a connection of its own, for each of its graphile-worker pools (session advisory lock 7361005, hashtext(pool id)). PostgreSQL releases it the moment that connection ends: a pool whose lock nobody holds is dead.';

create or replace function app_private.release_worker_lock(pool_id text) returns void
  language sql volatile
as $$
  select pg_advisory_unlock(7361005, hashtext(pool_id)) and true
$$;
comment on function app_private.release_worker_lock(text) is
  'Gives up the liveness lock of a worker pool that has stopped.';

create or replace function app_private.release_jobs_of_dead_workers(locked_before timestamptz) returns text[]
  language plpgsql volatile
  set search_path from current
as $$
declare
  dead text[];
begin
  select array_agg(distinct j.locked_by) into dead
  from graphile_worker._private_jobs as j
  where j.locked_by is not null
    and j.locked_at < locked_before
    and not exists (
      select 1 from pg_locks as l
      where l.locktype = 'advisory' and l.granted
        and l.database = (select d.oid from pg_database as d where d.datname = current_database())
        and l.classid = 7361005 and l.objsubid = 2
        and l.objid::bigint = (hashtext(j.locked_by)::bigint & 4294967295));
  if dead is not null then
    perform graphile_worker.force_unlock_workers(dead);
  end if;
  return coalesce(dead, '{}');
end;
$$;
comment on function app_private.release_jobs_of_dead_workers(timestamptz) is
  'Unlocks, with graphile-worker''s force_unlock_workers, the jobs locked before the given time by worker pools whose liveness lock (hold_worker_lock) nobody holds: their process is gone. Returns the pools'' ids. Run every 10 s by each worker process.';

-- == sending: signing secret race; quota of reclaimed leases; send jobs replaced, not retired ==

-- The secret of that name, stored as the candidate on first use. Three statements, not one: when another
-- transaction stores the secret at the same moment, the insert waits for it and then does nothing, and only a
-- statement begun after that commit can see its row (one statement's snapshot predates it, and returned NULL).
create or replace function app_private.signing_secret(name text, candidate text) returns text
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  stored text;
begin
  select s.secret into stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  if found then
    return stored;
  end if;
  insert into app_private.signing_secrets (name, secret) values (signing_secret.name, candidate)
  on conflict do nothing
  returning secret into stored;
  if found then
    return stored;
  end if;
  select s.secret into strict stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  return stored;
end;
$$;
comment on function app_private.signing_secret(text, text) is
  'The secret of that name, stored as the candidate (a fresh random value) on first use. Never NULL: when another transaction stores it at the same time, that transaction''s secret is returned once it commits (in READ COMMITTED, which every caller uses).';

-- A claim's reservation lists the messages whose fate it still waits for. When the claim is recorded, the
-- reservation is settled as before. When its worker dies first, the messages come back in doubt after the lease
-- and are looked up: each one ACS does not know was never sent, and gives its slot back; each one found stays
-- counted; the reservation is settled once none is left in doubt.
alter table app_private.sender_sends add column if not exists message_ids bigint[];
comment on column app_private.sender_sends.message_ids is
  'While unsettled: the claimed messages whose outcome is not known yet (ids of app_public.messages). NULL once settled.';
comment on table app_private.sender_sends is
  'Batches of messages handed to a sender. While unsettled, ends_at is the end of the claim''s lease (the latest a request can reach ACS); once settled, when the last request ended, and sends is the number that may have counted at ACS (accepted, refused or unknown; not 429s or messages never sent). A claim whose worker died before recording it is settled by the look-ups of its messages: those ACS does not know are given back, and ends_at stays the end of the lease. A batch counts in a window while ends_at is inside it.';
create index if not exists sender_sends_open_idx on app_private.sender_sends (sender_id) where not settled;

create or replace function app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer)
returns table (
  message_id bigint, sender_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text,
  recipient text, look_up boolean, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb,
  list_id bigint, list_name text
) as $$
declare
  campaign app_public.campaigns;
  lease interval := make_interval(secs => lease_seconds);
  room integer := max_messages;
  senders bigint[];
  capacities integer[];
  take integer;
  ids bigint[];
begin
  -- Shares the campaign's row lock with other claims; pause and cancel (which lock it for update) wait for
  -- running claims and are seen by every later one.
  select * into campaign from app_public.campaigns as c where c.id = claim_messages.campaign_id for share;
  if not found then
    return;
  end if;
  -- Then the campaign's senders (in id order), before any message: reservations of every process are
  -- serialised per sender, the capacity below sees every reservation committed before, and every claim takes
  -- its locks in the same order (campaign, senders, messages, rollup), so claims never deadlock.
  perform 1 from app_public.senders as s
  where s.id = campaign.sender_id
     or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = campaign.id)
  order by s.id
  for update;

  -- Messages whose outcome is unknown (a 5xx, timeout or network error, or a worker that died holding them)
  -- come back when their lease ends, still 'sending', with their sender: the worker looks them up at ACS
  -- before anything else. This happens whatever the campaign's status. Their look-ups settle the reservation
  -- of a claim that was never recorded (record_send_outcomes finds it by message).
  return query
  with in_doubt as (
    select m.id from app_public.messages as m
    where m.campaign_id = campaign.id and m.send_status = 'sending' and m.lease_expires_at <= now()
    order by m.lease_expires_at, m.id
    limit room
    for update skip locked
  )
  update app_public.messages as m set lease_expires_at = now() + lease
  from in_doubt
  where m.id = in_doubt.id
  returning m.id, m.sender_id, null::bigint, m.operation_id, m.internet_message_id, m.recipient, true,
    m.subscriber_id, null::text, null::jsonb, null::bigint, null::text;
  get diagnostics room = row_count;
  room := max_messages - room;
  if room <= 0 or campaign.status <> 'running' then
    return;
  end if;

  -- New sends: the campaign's senders with capacity, most remaining capacity first; each takes what it can of
  -- what is left of the claim.
  select array_agg(x.id order by x.capacity desc, x.id), array_agg(least(x.capacity, room) order by x.capacity desc, x.id)
  into senders, capacities
  from (
    select s.id, app_private.sender_capacity(s) as capacity
    from app_public.senders as s
    where s.id = campaign.sender_id
       or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = campaign.id)
  ) as x
  where x.capacity > 0;
  take := least(room, (select sum(c) from unnest(capacities) as c));
  if take is null or take <= 0 then
    return;
  end if;

  -- The first queued messages, locked; then everything else reads them by primary key (a plan for the claim's
  -- size, not the campaign's).
  select array_agg(q.id order by q.id) into ids
  from (
    select m.id from app_public.messages as m
    where m.campaign_id = campaign.id and m.send_status = 'queued'
    order by m.id
    limit take
    for update skip locked
  ) as q;
  if ids is null then
    return;
  end if;

  return query
  with shares as (
    select sh.sender_id, sum(sh.capacity) over (order by sh.n) - sh.capacity as first, sum(sh.capacity) over (order by sh.n) as last
    from unnest(senders, capacities) with ordinality as sh(sender_id, capacity, n)
  ),
  assigned as (
    select q.id, sh.sender_id
    from unnest(ids) with ordinality as q(id, n)
    join shares as sh on q.n - 1 >= sh.first and q.n - 1 < sh.last
  ),
  reserved as (
    insert into app_private.sender_sends (sender_id, sends, ends_at, message_ids)
    select a.sender_id, count(*), now() + lease, array_agg(a.id order by a.id) from assigned as a group by a.sender_id
    returning id, sender_sends.sender_id
  ),
  claimed as (
    update app_public.messages as m
    set send_status = 'sending', sender_id = a.sender_id, lease_expires_at = now() + lease,
        send_attempts = m.send_attempts + 1
    from assigned as a
    where m.id = a.id
    returning m.id, m.sender_id, m.operation_id, m.internet_message_id, m.recipient, m.subscriber_id
  )
  select c.id, c.sender_id, r.id, c.operation_id, c.internet_message_id, c.recipient, false,
         c.subscriber_id, s.name, s.attributes, l.id, l.name
  from claimed as c
  join reserved as r on r.sender_id = c.sender_id
  join app_public.subscribers as s on s.id = c.subscriber_id
  left join lateral (
    select l.id, l.name
    from app_public.campaign_lists as cl
    join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = c.subscriber_id
    join app_public.lists as l on l.id = cl.list_id
    where cl.campaign_id = campaign.id
    order by l.id
    limit 1
  ) as l on true;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.claim_messages(bigint, integer, integer) is
  'Claims up to max_messages of a campaign for one worker, with a lease of lease_seconds (FOR UPDATE SKIP LOCKED, so any number of workers may claim at once). First messages in doubt whose lease ended (look_up: ask ACS before sending again), then, while the campaign is running, queued messages for the senders with capacity (quota windows, send window, 429 pause), reserved in sender_sends with the ids of the messages.';

create or replace function app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer default 5000, max_attempts integer default 10)
returns void as $$
  -- outcomes: [{"id": message id, "outcome": ..., "code"?, "error"?, "retryAfterMs"?, "senderSendId"?}, ...] where outcome is
  --   accepted   ACS answered 202, or a look-up found the operation
  --   failed     ACS refused the message for good (4xx other than 429): code and error are ACS's
  --   unknown    5xx, timeout or network error: stays 'sending' until its lease ends after a backoff, then is looked up
  --   not_found  a look-up found no such operation: nothing was sent; queued again
  --   throttled  429: queued again (the caller pauses the sender first: app_private.pause_sender)
  --   not_sent   claimed but never handed to ACS (the worker stopped): queued again
  --   not_looked_up  a message in doubt whose look-up was never made (the worker stopped, or the sender has no
  --              connection string): stays 'sending', in doubt, its lease ending after retryAfterMs (at once
  --              without); only a look-up ever queues a message in doubt again
  -- and senderSendId is the claim's reservation for a message sent under it (a look-up has none).
  -- Reservations (app_private.sender_sends) settled:
  --   a batch sent under its reservation: the reservation ends now, counting what may have counted at ACS (all
  --     but 429s and messages never sent);
  --   look-ups of messages whose claim was never recorded (its worker died): that claim's reservation, found by
  --     its list of open messages, gives back each message ACS did not know (it was never sent), keeps each one
  --     found, and is settled (its end unchanged: the end of the lease) once none of its messages is in doubt.
  with o as (
    select (x ->> 'id')::bigint as id, x ->> 'outcome' as outcome, x ->> 'code' as code, x ->> 'error' as error,
           (x ->> 'retryAfterMs')::bigint as retry_after_ms, (x ->> 'senderSendId')::bigint as sender_send_id
    from jsonb_array_elements(outcomes) as x
  ),
  updated as (
    update app_public.messages as m set
      send_status = case
        when o.outcome = 'accepted' then 'accepted'
        when o.outcome = 'failed' then 'failed'
        when o.outcome in ('unknown', 'not_looked_up') then 'sending'
        when c.status = 'cancelled' then 'cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      send_status_reason = case
        when o.outcome = 'failed' then o.code
        when o.outcome in ('unknown', 'not_looked_up') then null
        when o.outcome = 'accepted' then null
        when c.status = 'cancelled' then 'campaign cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'attempts exhausted'
        else null end,
      accepted_at = case when o.outcome = 'accepted' then coalesce(m.accepted_at, now()) else m.accepted_at end,
      lease_expires_at = case
        when o.outcome = 'unknown'
          then now() + least(interval '10 minutes',
                             interval '1 millisecond' * retry_base_ms
                               * power(2, greatest(m.send_attempts - 1, 0)))
        when o.outcome = 'not_looked_up' then now() + interval '1 millisecond' * coalesce(o.retry_after_ms, 0)
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(m.send_attempts - 1, 0) else m.send_attempts end,
      last_error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_looked_up' and o.error is not null
          then left(coalesce(o.code || ': ', '') || o.error || '; not looked up yet', 2000)
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        else m.last_error end
    from o, app_public.campaigns as c
    where m.id = o.id and c.id = m.campaign_id and m.send_status = 'sending'
    returning m.id, m.sender_id
  ),
  concerned as (
    select o.id as message_id, o.outcome, o.sender_send_id as reservation, true as sent
    from o
    where o.sender_send_id is not null
    union all
    select u.id, o.outcome, s.id, false
    from o
    join updated as u on u.id = o.id
    join app_private.sender_sends as s on s.sender_id = u.sender_id and not s.settled and u.id = any(s.message_ids)
    where o.sender_send_id is null
  ),
  locked as (
    -- As they are now, in id order (two callers never deadlock); one settled meanwhile is left alone.
    select s.id, s.sends, s.message_ids
    from app_private.sender_sends as s
    where s.id in (select c.reservation from concerned as c) and not s.settled
    order by s.id
    for update
  ),
  counted as (
    select l.id,
           l.sends - count(*) filter (
             where (case when c.sent then c.outcome in ('throttled', 'not_sent') else c.outcome = 'not_found' end)
               and (l.message_ids is null or c.message_id = any(l.message_ids))) as sends,
           bool_or(c.sent) as closes,
           l.message_ids,
           array_agg(c.message_id) filter (where c.outcome not in ('unknown', 'not_looked_up')) as resolved
    from locked as l
    join concerned as c on c.reservation = l.id
    group by l.id, l.sends, l.message_ids
  ),
  change as (
    select x.id, x.sends, x.closes,
           case when x.closes then null
                else array(select m from unnest(x.message_ids) as m
                           where m <> all(coalesce(x.resolved, '{}'::bigint[])) order by m) end as still_open
    from counted as x
  ),
  kept as (
    update app_private.sender_sends as s set
      sends = ch.sends,
      ends_at = case when ch.closes then now() else s.ends_at end,
      settled = ch.closes or cardinality(ch.still_open) = 0,
      message_ids = case when ch.closes or cardinality(ch.still_open) = 0 then null else ch.still_open end
    from change as ch
    where s.id = ch.id and ch.sends > 0
  )
  delete from app_private.sender_sends as s
  using change as ch
  where s.id = ch.id and ch.sends <= 0;
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.record_send_outcomes(jsonb, integer, integer) is
  'Records what happened to claimed messages, in one statement (see the outcomes in the body), and settles the quota reservations: a batch''s own when it was sent, and for look-ups the reservation of a claim whose worker died before recording it, which gives back the messages ACS does not know. Only messages still ''sending'' are changed. Takes no sender lock (claims take those before message and rollup locks; this takes message, rollup and reservation locks, the reservations in id order), so the two never deadlock.';

-- A campaign's send job is replaced, never retired. graphile-worker's add_job, given the key of a job that is
-- locked (running, or held by a worker that died), takes the key off that job and sets its attempts to
-- max_attempts, so that it never runs again: a job with its attempts exhausted, counted with the jobs that
-- failed though it failed at nothing. Every worker queues the send job of each campaign with work left when it
-- starts (queue_sending_jobs), so every unclean stop ended that way, and so did a job queueing itself for later.
-- The locked job is removed instead: a live worker still finishes its run (completing or failing a removed job
-- changes nothing), and the new job carries on from the ledger.
create or replace function app_private.queue_send_job(campaign_id bigint, run_at timestamptz default null) returns void
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  delete from graphile_worker._private_jobs as j
  where j.key = 'send_campaign:' || queue_send_job.campaign_id and j.locked_at is not null;
  perform app_private.add_job('send_campaign', json_build_object('campaignId', queue_send_job.campaign_id),
                              run_at => queue_send_job.run_at, job_key => 'send_campaign:' || queue_send_job.campaign_id);
end;
$$;
comment on function app_private.queue_send_job(bigint, timestamptz) is
  'Queues the campaign''s send job (key send_campaign:ID) for run_at (NULL: now), replacing a waiting one. A locked one (running, or held by a worker that died) is removed rather than left to graphile-worker, which would keep it with its attempts exhausted as if it had failed.';

create or replace function app_private.schedule_sending(campaign_id bigint) returns timestamptz
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  at timestamptz := app_private.next_send_at(campaign_id);
begin
  if at is not null then
    perform app_private.queue_send_job(campaign_id, greatest(at, now()));
  end if;
  return at;
end;
$$;

create or replace function app_public.resume_campaign(campaign_id bigint) returns app_public.campaigns
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'paused' then
    raise exception 'campaign % is %; only a paused campaign can be resumed', campaign.id, campaign.status
      using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'running', paused_at = null where id = campaign.id;
  perform app_private.finish_campaigns_if_done(array[campaign.id]);
  select * into campaign from app_public.campaigns where id = campaign.id;
  if campaign.status = 'running' then
    perform app_private.queue_send_job(campaign.id);
  end if;
  return campaign;
end;
$$;

-- Send jobs retired that way before: no key, attempts exhausted, no error (where graphile-worker's schema exists
-- already: a new database gets it after the migrations).
do $$
begin
  if to_regclass('graphile_worker._private_jobs') is not null then
    delete from graphile_worker._private_jobs as j
    using graphile_worker._private_tasks as t
    where t.id = j.task_id and t.identifier = 'send_campaign'
      and j.key is null and j.attempts >= j.max_attempts and j.last_error is null;
  end if;
end
$$;
