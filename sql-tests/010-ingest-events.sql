-- app_private.ingest_events: one batch, stored as received, keys extracted, idempotent, never raises.

-- The mixed Event Grid batch (two engagement events, two delivery reports, both timestamp spellings).
create temporary table ingest_result as
select * from app_private.ingest_events($json${
  "schema": "eventgrid", "receivedAt": "2026-11-27T10:06:00Z", "deliveryCount": 0, "subscriptionName": "mailroom",
  "events": [
  {"id": "e1a2b3c4-0003-4000-8000-000000000003",
   "topic": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/mailroom-acs",
   "subject": "sender/news@news.example.com/message/9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b",
   "data": {"sender": "news@news.example.com", "recipient": "ada@example.org",
            "messageId": "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b",
            "internetMessageId": "<5b1e2f9a-6c7d-4e8f-9a0b-1c2d3e4f5a6b@news.example.com>",
            "userActionTimestamp": "2026-11-27T10:01:12.1303595+00:00", "engagementContext": "",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "engagementType": "view"},
   "eventType": "Microsoft.Communication.EmailEngagementTrackingReportReceived",
   "dataVersion": "1.0", "metadataVersion": "1", "eventTime": "2026-11-27T10:01:12.688Z"},
  {"id": "e1a2b3c4-0004-4000-8000-000000000004",
   "topic": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/mailroom-acs",
   "subject": "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
   "data": {"sender": "news@news.example.com", "recipient": "Ada@Example.org",
            "messageId": "7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
            "userActionTimeStamp": "2026-11-27T10:02:40.745555+00:00",
            "engagementContext": "https://shop.example.com/sale?utm_source=mailroom",
            "userAgent": "Mozilla/5.0 (iPhone)", "engagementType": "Click"},
   "eventType": "Microsoft.Communication.EmailEngagementTrackingReportReceived",
   "dataVersion": "1.0", "metadataVersion": "1", "eventTime": "2026-11-27T10:02:41.001Z"},
  {"id": "d1a2b3c4-0001-4000-8000-000000000001",
   "topic": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/mailroom-acs",
   "subject": "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
   "data": {"sender": "news@news.example.com", "recipient": "ada@example.org",
            "messageId": "7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
            "internetMessageId": "<5b1e2f9a-6c7d-4e8f-9a0b-1c2d3e4f5a6b@news.example.com>",
            "status": "Delivered",
            "deliveryStatusDetails": {"statusMessage": "No error.", "recipientMailServerHostName": "mx.example.org"},
            "deliveryAttemptTimestamp": "2026-11-27T10:04:31.2855749+00:00"},
   "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
   "dataVersion": "1.0", "metadataVersion": "1", "eventTime": "2026-11-27T10:04:31.822Z"},
  {"id": "d1a2b3c4-0002-4000-8000-000000000002",
   "topic": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/mailroom-acs",
   "subject": "sender/news@news.example.com/message/0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
   "data": {"sender": "news@news.example.com", "recipient": "nobody@example.org",
            "messageId": "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
            "internetMessageId": "<0d1c2b3a-4f5e-4d6c-8b7a-9f8e7d6c5b4a@news.example.com>",
            "status": "bounced",
            "deliveryStatusDetails": {"statusMessage": "550 5.1.1 The email account that you tried to reach does not exist."},
            "deliveryAttemptTimeStamp": "2026-11-27T10:05:02.11+00:00"},
   "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
   "dataVersion": "1.0", "metadataVersion": "1", "eventTime": "2026-11-27T10:05:02.500Z"}
]}$json$::jsonb);

do $$
declare
  view_event app_public.raw_events;
  click_event app_public.raw_events;
  delivered_event app_public.raw_events;
  bounced_event app_public.raw_events;
begin
  assert (select (received, inserted, duplicates) = (4, 4, 0) from ingest_result), 'four events received, four new';
  select * into view_event from app_public.raw_events where event_id = 'e1a2b3c4-0003-4000-8000-000000000003';
  select * into click_event from app_public.raw_events where event_id = 'e1a2b3c4-0004-4000-8000-000000000004';
  select * into delivered_event from app_public.raw_events where event_id = 'd1a2b3c4-0001-4000-8000-000000000001';
  select * into bounced_event from app_public.raw_events where event_id = 'd1a2b3c4-0002-4000-8000-000000000002';

  assert view_event.event_schema = 'eventgrid', 'the schema is recorded';
  assert view_event.event_type = 'Microsoft.Communication.EmailEngagementTrackingReportReceived', 'event type';
  assert view_event.event_time = '2026-11-27T10:01:12.688Z', 'event time';
  assert view_event.internet_message_id = '<5b1e2f9a-6c7d-4e8f-9a0b-1c2d3e4f5a6b@news.example.com>', 'internetMessageId';
  assert view_event.operation_id = '9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b', 'messageId as operation id';
  assert view_event.engagement_type = 'view', 'engagement type';
  assert view_event.engagement_context is null, 'an empty engagement context is NULL';
  assert date_trunc('millisecond', view_event.occurred_at) = '2026-11-27T10:01:12.130+00:00', 'userActionTimestamp';
  assert view_event.source like '/subscriptions/%/CommunicationServices/mailroom-acs', 'topic as source';
  assert view_event.event->'data'->>'userAgent' like 'Mozilla%', 'the event is stored as received';
  assert view_event.problem is null, 'a good event has no problem';
  assert view_event.delivery_count = 0 and view_event.times_received = 1, 'delivery count and counter';
  assert view_event.subscription_name = 'mailroom', 'subscription name';
  assert view_event.received_at = '2026-11-27T10:06:00Z', 'received at';
  assert not exists (select 1 from app_public.message_events where raw_event_id = view_event.id), 'nothing to attribute to';

  assert click_event.internet_message_id is null, 'the click has no internetMessageId';
  assert click_event.recipient = 'ada@example.org', 'the recipient is in lower case';
  assert click_event.engagement_type = 'click', 'engagement type Click -> click';
  assert click_event.engagement_context = 'https://shop.example.com/sale?utm_source=mailroom', 'the clicked URL';
  assert click_event.occurred_at = '2026-11-27T10:02:40.745555+00:00', 'userActionTimeStamp';

  assert delivered_event.status = 'Delivered' and delivered_event.status_message = 'No error.', 'status';
  assert date_trunc('millisecond', delivered_event.occurred_at) = '2026-11-27T10:04:31.285+00:00', 'deliveryAttemptTimestamp';
  assert bounced_event.status = 'Bounced', 'status bounced -> Bounced';
  assert bounced_event.occurred_at = '2026-11-27T10:05:02.11+00:00', 'deliveryAttemptTimeStamp';
  assert bounced_event.sender = 'news@news.example.com', 'sender';
end
$$;

-- A redelivery (topic in another case, a higher delivery count) and a duplicate inside one batch.
create temporary table redelivery_result as
select * from app_private.ingest_events($json${
  "schema": "eventgrid", "receivedAt": "2026-11-27T10:16:00Z", "deliveryCount": 3, "subscriptionName": "mailroom",
  "events": [
  {"id": "d1a2b3c4-0001-4000-8000-000000000001",
   "topic": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/resourceGroups/mailroom-rg/providers/Microsoft.Communication/CommunicationServices/MAILROOM-ACS",
   "subject": "s", "data": {"status": "Delivered"},
   "eventType": "Microsoft.Communication.EmailDeliveryReportReceived", "eventTime": "2026-11-27T10:04:31.822Z"},
  {"id": "new-1", "topic": "/t", "subject": "s", "data": {"status": "Delivered"},
   "eventType": "Microsoft.Communication.EmailDeliveryReportReceived", "eventTime": "2026-11-27T10:04:31.822Z"},
  {"id": "new-1", "topic": "/T", "subject": "s", "data": {"status": "Delivered"},
   "eventType": "Microsoft.Communication.EmailDeliveryReportReceived", "eventTime": "2026-11-27T10:04:31.822Z"}
]}$json$::jsonb);

do $$
begin
  assert (select (received, inserted, duplicates) = (3, 1, 2) from redelivery_result), 'three received, one new, two duplicates';
  assert (select count(*) from app_public.raw_events where event_id = 'd1a2b3c4-0001-4000-8000-000000000001') = 1,
    'a redelivery adds no row';
  assert (select (delivery_count, times_received, received_at, last_received_at)
                 = (3, 2, '2026-11-27T10:06:00Z'::timestamptz, '2026-11-27T10:16:00Z'::timestamptz)
          from app_public.raw_events where event_id = 'd1a2b3c4-0001-4000-8000-000000000001'),
    'a redelivery records the higher delivery count, the counter and the last time received';
  assert (select times_received from app_public.raw_events where event_id = 'new-1') = 2,
    'a duplicate inside one batch is counted, not stored twice';
  assert (select status from app_public.raw_events where event_id = 'd1a2b3c4-0001-4000-8000-000000000001') = 'Delivered',
    'the first copy is kept as it was';
end
$$;

-- CloudEvents, single event (an object instead of an array is accepted too).
select * from app_private.ingest_events($json${
  "schema": "cloudevents", "receivedAt": "2026-11-27T10:05:00Z", "deliveryCount": null, "subscriptionName": null,
  "events": [{"specversion": "1.0", "type": "Microsoft.Communication.EmailEngagementTrackingReportReceived",
    "source": "/subscriptions/x/CommunicationServices/ce-acs", "id": "ce-1", "time": "2026-11-27T10:02:41.001Z",
    "subject": "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
    "data": {"recipient": "ada@example.org", "messageId": "7F3C1D2E-0A4B-4C5D-8E9F-102132435465",
             "userActionTimeStamp": "2026-11-27T10:02:40Z", "engagementType": "CLICK",
             "engagementContext": "https://example.com/a", "userAgent": "x"}}]}$json$::jsonb);
select * from app_private.ingest_events($json${"schema": "cloudevents", "receivedAt": "2026-11-27T10:05:00Z",
  "events": {"specversion": "1.0", "type": "Microsoft.Communication.EmailDeliveryReportReceived",
    "source": "/subscriptions/x/CommunicationServices/ce-acs", "id": "ce-2", "time": "2026-11-27T10:02:41Z",
    "data": {"recipient": "ada@example.org", "messageId": "7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
             "status": "FILTEREDSPAM", "deliveryAttemptTimeStamp": "2026-11-27T10:02:40Z"}}}$json$::jsonb);

do $$
begin
  assert (select (event_schema, source, event_type, event_time, operation_id, engagement_type, occurred_at, delivery_count)
                 is not distinct from ('cloudevents', '/subscriptions/x/CommunicationServices/ce-acs',
                    'Microsoft.Communication.EmailEngagementTrackingReportReceived',
                    '2026-11-27T10:02:41.001Z'::timestamptz, '7f3c1d2e-0a4b-4c5d-8e9f-102132435465'::uuid, 'click',
                    '2026-11-27T10:02:40Z'::timestamptz, null::integer)
          from app_public.raw_events where event_id = 'ce-1'), 'CloudEvents fields are read';
  assert (select status from app_public.raw_events where event_id = 'ce-2') = 'FilteredSpam', 'a single CloudEvent object';
end
$$;

-- Bad data never raises and is never lost: each bad event is a row with its problem; the good ones go in.
create temporary table bad_result as
select * from app_private.ingest_events($json${
  "schema": "eventgrid", "receivedAt": "not a time", "deliveryCount": "many",
  "events": [
    42,
    "a string",
    null,
    [1, 2],
    {"topic": "/t", "eventType": "Microsoft.Communication.EmailDeliveryReportReceived", "eventTime": "2026-11-27T10:00:00Z", "data": {}},
    {"id": "no-type", "topic": "/t", "eventTime": "2026-11-27T10:00:00Z", "data": {}},
    {"id": "bad-time", "topic": "/t", "eventType": "X.Y", "eventTime": "2026-02-30T10:00:00Z"},
    {"id": "bad-attempt-time", "topic": "/t", "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
     "eventTime": "2026-11-27T10:00:00Z", "data": {"status": "Delivered", "deliveryAttemptTimestamp": "yesterday"}},
    {"id": "no-data", "topic": "/t", "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
     "eventTime": "2026-11-27T10:00:00Z", "data": "oops"},
    {"id": "unknown-type", "topic": "/t", "eventType": "Contoso.Something.Happened", "eventTime": "2026-11-27T10:00:00Z",
     "data": {"anything": true}},
    {"id": "odd-status", "topic": "/t", "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
     "eventTime": "2026-11-27T10:00:00+02", "data": {"status": " Deferred ", "messageId": "not-a-uuid",
     "internetMessageId": "ABC@Example.COM"}},
    {"id": "no-topic", "eventType": "X.Y", "eventTime": "2026-11-27T10:00:00"}
  ]}$json$::jsonb);

do $$
begin
  assert (select (received, inserted, duplicates) = (12, 12, 0) from bad_result), 'every bad event is kept';
  assert (select count(*) from app_public.raw_events where problem = 'not a JSON object') = 4, 'scalars, null, arrays';
  assert (select count(*) from app_public.raw_events where problem = 'missing id') = 1, 'missing id';
  assert (select problem from app_public.raw_events where event_id = 'no-type') = 'missing event type', 'missing type';
  assert (select problem from app_public.raw_events where event_id = 'bad-time') = 'unparseable event time', 'Feb 30';
  assert (select problem from app_public.raw_events where event_id = 'bad-attempt-time')
    = 'unparseable delivery attempt or user action time', 'bad data timestamp';
  assert (select problem from app_public.raw_events where event_id = 'no-data') = 'missing data', 'data not an object';
  assert (select problem is null and event_type = 'Contoso.Something.Happened'
          from app_public.raw_events where event_id = 'unknown-type'), 'an unknown event type is stored as a good event';
  assert (select (problem is null, status, operation_id is null, internet_message_id, event_time)
                 = (true, 'Deferred', true, '<abc@example.com>', '2026-11-27T08:00:00Z'::timestamptz)
          from app_public.raw_events where event_id = 'odd-status'), 'unknown status kept; odd keys normalised';
  assert (select (source, event_time) = ('', '2026-11-27T10:00:00Z'::timestamptz)
          from app_public.raw_events where event_id = 'no-topic'), 'no topic; a time without offset is UTC';
  assert (select bool_and(received_at = now() and delivery_count is null)
          from app_public.raw_events where event_id = 'no-type'), 'a bad receivedAt or deliveryCount falls back';
  assert (select event = '42'::jsonb from app_public.raw_events where problem = 'not a JSON object' and jsonb_typeof(event) = 'number'),
    'the bad event is stored as received';
end
$$;

-- Batches that are not batches at all.
do $$
begin
  assert (select (received, inserted, duplicates) = (0, 0, 0) from app_private.ingest_events(null)), 'NULL';
  assert (select (received, inserted, duplicates) = (0, 0, 0) from app_private.ingest_events('{}')), 'no events';
  assert (select (received, inserted, duplicates) = (0, 0, 0) from app_private.ingest_events('[1]')), 'not an object';
  assert (select (received, inserted, duplicates) = (0, 0, 0) from app_private.ingest_events('{"events": "x"}')), 'events not an array';
end
$$;

-- The time parser never raises.
do $$
begin
  assert date_trunc('millisecond', app_private.to_timestamptz('2026-11-27T10:01:12.1303595+00:00')) = '2026-11-27 10:01:12.130+00', 'seven digits';
  assert app_private.to_timestamptz('2024-02-29T00:00:00Z') is not null, 'leap day';
  assert app_private.to_timestamptz('2025-02-29T00:00:00Z') is null, 'not a leap year';
  assert app_private.to_timestamptz('0000-01-01T00:00:00Z') is null, 'year zero';
  assert app_private.to_timestamptz('2026-11-27T24:00:00Z') is null, 'hour 24';
  assert app_private.to_timestamptz('2026-11-27T10:00:00+0530') = '2026-11-27T04:30:00Z', 'offset without colon';
  assert app_private.to_timestamptz('infinity') is null and app_private.to_timestamptz('') is null
     and app_private.to_timestamptz(null) is null and app_private.to_timestamptz('now') is null, 'words';
  assert app_private.to_timestamptz('2026-11-27T10:00:00.123456789012+00:00') is not null, 'twelve digits and an offset';
  assert app_private.to_timestamptz('2026-11-27T10:00:00.' || repeat('1', 200) || 'Z') is null, 'far too long';
  assert app_private.to_timestamptz('2026-11-27T10:00:00-05') = '2026-11-27T15:00:00Z', 'negative offset, hours only';
  assert app_private.to_timestamptz('2026-11-27 10:00') = '2026-11-27T10:00:00Z', 'no seconds, no offset: UTC';
  assert app_private.to_timestamptz('2026-11-27T10:00:00z') = '2026-11-27T10:00:00Z', 'lower-case z';
  assert app_private.to_timestamptz('2026-11-27T10:00:00+15:59') = '2026-11-26T18:01:00Z', 'the largest offset';
  assert app_private.to_timestamptz('2026-11-27T10:00:00+23:59') is null
     and app_private.to_timestamptz('2026-11-27T10:00:00.5-16:00') is null, 'offsets PostgreSQL cannot represent (the cast raised)';
  assert app_private.to_timestamptz('2026-11-30T10:00:00.1Z') = '2026-11-30T10:00:00.1Z'
     and app_private.to_timestamptz('2026-02-29T10:00:00.1Z') is null
     and app_private.to_timestamptz('2026-11-27T10:00:60Z') = '2026-11-27T10:01:00Z', 'days after the 28th, leap seconds';
  assert app_private.to_timestamptz('2026-11-27T10:0a:00Z') is null and app_private.to_timestamptz('2026-11-27T1-:00:00Z') is null
     and app_private.to_timestamptz('2026-13-27T10:00:00Z') is null and app_private.to_timestamptz('2026-11-27T10:00:00Z ') is null,
    'a letter, a sign, a month out of range, a trailing space';
end
$$;

-- The UUID parser never raises either.
do $$
begin
  assert app_private.to_uuid('0193a5b2-7c41-7d3e-8f00-0123456789ab') = '0193a5b2-7c41-7d3e-8f00-0123456789ab', 'canonical';
  assert app_private.to_uuid('0193A5B2-7C41-7D3E-8F00-0123456789AB') = '0193a5b2-7c41-7d3e-8f00-0123456789ab', 'upper case';
  assert app_private.to_uuid('{0193a5b27c417d3e8f000123456789ab}') = '0193a5b2-7c41-7d3e-8f00-0123456789ab', 'braces, no hyphens';
  assert app_private.to_uuid('{0193a5b2-7c41-7d3e-8f00-0123456789ab') is null, 'an unclosed brace (the cast would raise)';
  assert app_private.to_uuid('0193a5b2-7c417d3e-8f00-0123456789ab') is null, 'some hyphens only';
  assert app_private.to_uuid('0193a5b2-7c41-7d3e-8f00-0123456789ag') is null, 'not hexadecimal';
  assert app_private.to_uuid('') is null and app_private.to_uuid(null) is null, 'nothing';
  assert app_private.to_uuid('{0193A5B2-7C41-7D3E-8F00-0123456789AB}') = '0193a5b2-7c41-7d3e-8f00-0123456789ab', 'braces, hyphens';
  assert app_private.to_uuid('0193a5b2-7c41-7d3e-8f00-0123456789-b') is null
     and app_private.to_uuid('0193a5b2-7c41-7d3e-8f00-01234567-9ab') is null, 'a hyphen in place of a digit';
  assert app_private.to_uuid('0193a5b27c417d3e8f000123456789a') is null
     and app_private.to_uuid('{{0193a5b27c417d3e8f000123456789ab}}') is null, '31 digits, double braces';
end
$$;

-- Only the owner writes raw events.
do $$
begin
  assert has_table_privilege('mailroom_readonly', 'app_public.raw_events', 'select'), 'read-only reads';
  assert not has_table_privilege('mailroom_readonly', 'app_public.raw_events', 'insert'), 'read-only cannot insert';
  assert not has_table_privilege('mailroom_admin', 'app_public.raw_events', 'insert'), 'admin cannot insert';
  assert not has_function_privilege('mailroom_admin', 'app_private.ingest_events(jsonb)', 'execute')
      or not has_schema_privilege('mailroom_admin', 'app_private', 'usage'), 'admin cannot ingest';
end
$$;

-- The functions that take a batch's ids are planned for each call's arrays (a generic plan cannot see them):
-- refresh_messages by its setting, attribute_events by running its statement dynamically, so that no setting
-- reaches what fires inside it (each foreign key check of a new bounce would be planned anew).
do $$
begin
  assert (select proconfig @> array['plan_cache_mode=force_custom_plan'] from pg_proc
          where oid = 'app_private.refresh_messages(bigint[])'::regprocedure), 'refresh_messages: custom plans';
  assert (select not exists (select 1 from unnest(proconfig) as c where c like 'plan_cache_mode=%')
                 and prosrc ~ 'execute \$statement\$' from pg_proc
          where oid = 'app_private.attribute_events(bigint[])'::regprocedure),
    'attribute_events: a dynamic statement, no plan_cache_mode setting';
end
$$;
