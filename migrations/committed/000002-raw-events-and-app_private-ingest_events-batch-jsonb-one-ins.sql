--! Previous: sha1:b258a631a1c01621a3dbb3b2841eabadc9065a73
--! Hash: sha1:a91bfa31e2b00ed0754606a4db2756a2799601c0
--! Message: raw events and app_private.ingest_events(batch jsonb): one INSERT per batch, idempotent on (source, event id)

-- Raw events: every Event Grid / CloudEvents event exactly as received, and the one function the
-- ingest task calls with each batch. Everything derived from events (attribution, message state,
-- engagement, bounces, rollups) is added by later migrations as triggers on this table.
drop function if exists app_private.ingest_events(jsonb);
drop table if exists app_public.raw_events cascade;
drop function if exists app_private.normalize_delivery_status(text);
drop function if exists app_private.normalize_internet_message_id(text);
drop function if exists app_private.to_uuid(text);
drop function if exists app_private.to_timestamptz(text);

-- Parsers that never raise: bad input from the outside world gives NULL, and the caller records why.

create function app_private.to_timestamptz(value text) returns timestamptz as $$
  select case
    when value ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]{1,12})?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
     and substr(value, 1, 4) <> '0000'
    then case
      when substr(value, 9, 2)::integer
           <= extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                               + interval '1 month - 1 day')
      then case
        when value ~ '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' and substr(value, 11) ~ '[Zz+-]'
        then value::timestamptz
        else value::timestamp at time zone 'UTC'
      end
    end
  end
$$ language sql stable parallel safe;
comment on function app_private.to_timestamptz(text) is
  'An ISO 8601 time as timestamptz (UTC when it has no offset), or NULL when it is not a valid ISO 8601 time. Never raises.';

create function app_private.to_uuid(value text) returns uuid as $$
  select case
    when value ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' then value::uuid
  end
$$ language sql immutable parallel safe;
comment on function app_private.to_uuid(text) is
  'The text as a UUID, or NULL when it is not one. Never raises.';

create function app_private.normalize_internet_message_id(value text) returns text as $$
  select case
    when nullif(btrim(value), '') is null then null
    when btrim(value) like '<%>' then lower(btrim(value))
    else '<' || lower(btrim(value)) || '>'
  end
$$ language sql immutable parallel safe;
comment on function app_private.normalize_internet_message_id(text) is
  'The key an RFC Message-ID is matched by: trimmed, lower case, in angle brackets. Mailroom generates its '
  'Message-IDs in lower case, so this is exactly the value stored on the message.';

create function app_private.normalize_delivery_status(value text) returns text as $$
  select case lower(btrim(value))
    when 'delivered' then 'Delivered'
    when 'expanded' then 'Expanded'
    when 'bounced' then 'Bounced'
    when 'suppressed' then 'Suppressed'
    when 'filteredspam' then 'FilteredSpam'
    when 'quarantined' then 'Quarantined'
    when 'failed' then 'Failed'
    else nullif(btrim(value), '')
  end
$$ language sql immutable parallel safe;
comment on function app_private.normalize_delivery_status(text) is
  'A delivery report status in ACS''s documented spelling whatever its case (delivered -> Delivered); '
  'an unknown status is returned as received, trimmed.';

create table app_public.raw_events (
  id bigint primary key generated always as identity,
  source text not null default '',
  event_id text,
  event_schema text not null check (event_schema in ('eventgrid', 'cloudevents')),
  event_type text,
  subject text,
  event_time timestamptz,
  event jsonb not null,
  internet_message_id text,
  operation_id uuid,
  recipient text,
  sender text,
  status text,
  status_message text,
  engagement_type text,
  engagement_context text,
  user_agent text,
  occurred_at timestamptz,
  problem text,
  subscription_name text,
  delivery_count integer,
  times_received integer not null default 1 check (times_received >= 1),
  received_at timestamptz not null default now(),
  last_received_at timestamptz not null default now(),
  message_id bigint,
  attributed_by text check (attributed_by in ('internet_message_id', 'operation_id_and_recipient', 'operation_id')),
  attributed_at timestamptz,
  check ((message_id is null) = (attributed_by is null) and (message_id is null) = (attributed_at is null))
);
create unique index raw_events_source_event_id_key on app_public.raw_events (lower(source), event_id);
create index raw_events_received_at_idx on app_public.raw_events (received_at);

comment on table app_public.raw_events is
  'Every event Event Grid delivered, as received, one row per (source topic, event id) whatever the number of '
  'deliveries. Written only by app_private.ingest_events; everything else about messages is derived from it.';
comment on column app_public.raw_events.source is
  'The topic (Event Grid schema) or source (CloudEvents): the ACS resource. Compared case-insensitively.';
comment on column app_public.raw_events.event_id is
  'The event id given by Event Grid; unique per source. NULL only for an event that had none (see problem).';
comment on column app_public.raw_events.event_schema is 'eventgrid or cloudevents: the envelope it came in.';
comment on column app_public.raw_events.event_type is
  'eventType / type as received, e.g. Microsoft.Communication.EmailDeliveryReportReceived. Unknown types are kept.';
comment on column app_public.raw_events.event_time is 'eventTime / time of the envelope.';
comment on column app_public.raw_events.event is 'The event exactly as received (envelope and data).';
comment on column app_public.raw_events.internet_message_id is
  'data.internetMessageId, normalised (lower case, angle brackets): the RFC Message-ID Mailroom set on the message.';
comment on column app_public.raw_events.operation_id is
  'data.messageId when it is a UUID: the ACS operation id of the send request.';
comment on column app_public.raw_events.recipient is 'data.recipient, trimmed and in lower case.';
comment on column app_public.raw_events.sender is 'data.sender (the from-address), trimmed and in lower case.';
comment on column app_public.raw_events.status is
  'Delivery reports: data.status in ACS''s spelling (Delivered, Expanded, Bounced, Suppressed, FilteredSpam, '
  'Quarantined, Failed) whatever the case received; an unknown status as received.';
comment on column app_public.raw_events.status_message is 'Delivery reports: data.deliveryStatusDetails.statusMessage.';
comment on column app_public.raw_events.engagement_type is 'Engagement reports: data.engagementType in lower case (view, click).';
comment on column app_public.raw_events.engagement_context is 'Engagement reports: data.engagementContext, the clicked URL for a click.';
comment on column app_public.raw_events.user_agent is 'Engagement reports: data.userAgent.';
comment on column app_public.raw_events.occurred_at is
  'When it happened: deliveryAttemptTimestamp / userActionTimestamp (either spelling), else the event time.';
comment on column app_public.raw_events.problem is
  'Why the event could not be interpreted (not an object, missing id, missing type, unparseable time, ...); '
  'NULL for a good event. Such events are kept but have no effects.';
comment on column app_public.raw_events.subscription_name is 'The aeg-subscription-name header of its first delivery.';
comment on column app_public.raw_events.delivery_count is 'The highest aeg-delivery-count header seen for this event.';
comment on column app_public.raw_events.times_received is 'How many times this event was received (1 + duplicates).';
comment on column app_public.raw_events.received_at is 'When it was first received.';
comment on column app_public.raw_events.last_received_at is 'When it was last received.';
comment on column app_public.raw_events.message_id is 'The message this event is attributed to; NULL while unattributed.';
comment on column app_public.raw_events.attributed_by is
  'Which key attributed it: internet_message_id, operation_id_and_recipient, or operation_id (one-recipient message).';
comment on column app_public.raw_events.attributed_at is 'When it was attributed.';

alter table app_public.raw_events enable row level security;
create policy select_all on app_public.raw_events for select to :DATABASE_ADMIN, :DATABASE_READONLY using (true);
grant select on app_public.raw_events to :DATABASE_ADMIN, :DATABASE_READONLY;

-- The ingest contract. One call per graphile-worker job, with the job payload:
--   {"schema": "eventgrid" | "cloudevents", "receivedAt": ISO time, "deliveryCount": int | null,
--    "subscriptionName": text | null, "events": [event, ...]}
-- One INSERT for the whole batch; idempotent on (source, event id); never raises for bad events.
create function app_private.ingest_events(batch jsonb)
returns table (received integer, inserted integer, duplicates integer) as $$
  with batch_event as (
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
      app_private.to_timestamptz(event_time_text) as event_time,
      coalesce(data->>'deliveryAttemptTimestamp', data->>'deliveryAttemptTimeStamp',
               data->>'userActionTimestamp', data->>'userActionTimeStamp') as occurred_text
    from envelope
  ),
  checked as (
    select
      interpreted.*,
      app_private.to_timestamptz(occurred_text) as occurred_time,
      case
        when not is_object then 'not a JSON object'
        when event_id is null then 'missing id'
        when event_type is null then 'missing event type'
        when event_time_text is not null and event_time is null then 'unparseable event time'
        when occurred_text is not null and app_private.to_timestamptz(occurred_text) is null
          then 'unparseable delivery attempt or user action time'
        when lower(event_type) in ('microsoft.communication.emaildeliveryreportreceived',
                                   'microsoft.communication.emailengagementtrackingreportreceived')
             and data is null then 'missing data'
      end as problem,
      case when event_id is null then 1 else count(*) over (partition by lower(source), event_id) end as copies,
      case when event_id is null then 1 else row_number() over (partition by lower(source), event_id order by position) end as copy
    from interpreted
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
      nullif(batch->>'subscriptionName', ''),
      case when batch->>'deliveryCount' ~ '^[0-9]{1,9}$' then (batch->>'deliveryCount')::integer end,
      copies,
      coalesce(app_private.to_timestamptz(batch->>'receivedAt'), now()),
      coalesce(app_private.to_timestamptz(batch->>'receivedAt'), now())
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
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.ingest_events(jsonb) is
  'Stores one batch of Event Grid deliveries in one INSERT. Payload: {"schema": "eventgrid"|"cloudevents", '
  '"receivedAt": ISO time, "deliveryCount": int|null, "subscriptionName": text|null, "events": [...]}. '
  'Idempotent on (source compared case-insensitively, event id): a redelivery raises times_received and '
  'delivery_count instead of adding a row. An event that cannot be interpreted is kept with its problem. '
  'Returns how many events the batch held, how many were new, and how many were duplicates.';
