create or replace function app_private.ingest_events(batch jsonb)
  returns table (received integer, inserted integer, duplicates integer)
  language sql
  set search_path to app_public, app_private, app_hidden, public
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
      subscription_name, delivery_count, times_received, received_at, last_received_at,
      ip_address, http_method, honeypot
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
      latest_received_at,
      -- What only Mailroom's own tracking endpoint sees (Mailroom.EmailEngagementTracked).
      case when data ? 'ipAddress' then app_private.to_inet(data->>'ipAddress') end,
      case when data->>'httpMethod' in ('GET', 'HEAD') then data->>'httpMethod' end,
      case when jsonb_typeof(data->'honeypot') = 'boolean' then (data->>'honeypot')::boolean end
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

comment on function app_private.ingest_events(batch jsonb) is 'Stores Event Grid deliveries in one INSERT. Batch: one delivery or an array of them (an ingest_events job), each {"schema": "eventgrid"|"cloudevents", "receivedAt": ISO time, "deliveryCount": int|null, "subscriptionName": text|null, "events": [...]}. Idempotent on (source compared case-insensitively, event id): a redelivery raises times_received and delivery_count instead of adding a row. An event that cannot be interpreted is kept with its problem. Raises only for content the table cannot hold (an id longer than its index allows, say): app_private.ingest_job isolates such an event. Returns how many events the batch held, how many were new, and how many were duplicates.';

revoke all on function app_private.ingest_events(batch jsonb) from public;
