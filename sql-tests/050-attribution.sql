-- Attribution: by internetMessageId, else (operation id, recipient), else operation id when the event has no
-- recipient; never a guess; pending until the message appears, then attributed exactly once.

-- Helpers (temporary, gone at rollback): events in Event Grid shape, and a batch through the ingest function.
create function pg_temp.delivery(id text, imid text, opid uuid, recipient text, status text, at timestamptz,
                                 status_message text default 'No error.') returns jsonb as $$
  select jsonb_build_object('id', id, 'topic', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs',
    'subject', 'sender/news@news.example.com/message/' || opid, 'eventType', 'Microsoft.Communication.EmailDeliveryReportReceived',
    'eventTime', at, 'dataVersion', '1.0', 'metadataVersion', '1',
    'data', jsonb_strip_nulls(jsonb_build_object('sender', 'news@news.example.com', 'recipient', recipient, 'messageId', opid,
      'internetMessageId', imid, 'status', status, 'deliveryStatusDetails', jsonb_build_object('statusMessage', status_message),
      'deliveryAttemptTimestamp', at)))
$$ language sql;
create function pg_temp.engagement(id text, imid text, opid uuid, recipient text, kind text, at timestamptz,
                                   url text default null, user_agent text default 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0')
returns jsonb as $$
  select jsonb_build_object('id', id, 'topic', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs',
    'subject', 'sender/news@news.example.com/message/' || opid, 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
    'eventTime', at, 'dataVersion', '1.0', 'metadataVersion', '1',
    'data', jsonb_strip_nulls(jsonb_build_object('sender', 'news@news.example.com', 'recipient', recipient, 'messageId', opid,
      'internetMessageId', imid, 'engagementType', kind, 'engagementContext', coalesce(url, ''), 'userAgent', user_agent,
      'userActionTimestamp', at)))
$$ language sql;
create function pg_temp.ingest(variadic events jsonb[]) returns void as $$
  select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'deliveryCount', 0,
                                                      'events', to_jsonb(events)));
$$ language sql;
-- A sender, a list with confirmed subscribers a@, b@, c@, d@ (example.org), and a started campaign "C".
insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.lists (name, opt_in) values ('L', 'single');
insert into app_public.subscribers (email) values ('a@example.org'), ('b@example.org'), ('c@example.org'), ('d@example.org');
insert into app_public.list_memberships (list_id, subscriber_id, status)
select l.id, s.id, 'confirmed' from app_public.lists as l, app_public.subscribers as s;
insert into app_public.campaigns (name, sender_id) select 'C', id from app_public.senders;
insert into app_public.campaign_lists (campaign_id, list_id) select c.id, l.id from app_public.campaigns as c, app_public.lists as l;
select app_public.start_campaign(id) from app_public.campaigns where name = 'C';
create temporary view m as
select s.email, m.* from app_public.messages as m join app_public.subscribers as s on s.id = m.subscriber_id;

-- 1. internetMessageId (the view carries a messageId that is not the operation id, as seen in production).
select pg_temp.ingest(pg_temp.engagement('v1', (select internet_message_id from m where email = 'a@example.org'),
  gen_random_uuid(), 'a@example.org', 'view', now()));
-- 2. operation id and recipient (no internetMessageId, recipient in another case).
select pg_temp.ingest(pg_temp.engagement('c1', null, (select operation_id from m where email = 'b@example.org'),
  'B@Example.org', 'Click', now(), 'https://example.com/x'));
-- 3. operation id alone, the event having no recipient.
select pg_temp.ingest(pg_temp.engagement('v3', null, (select operation_id from m where email = 'c@example.org'), null, 'view', now()));
-- Not attributed: operation id with another recipient (never a guess); keys that match nothing; no keys at all.
select pg_temp.ingest(
  pg_temp.engagement('x1', null, (select operation_id from m where email = 'd@example.org'), 'someone@else.org', 'view', now()),
  pg_temp.engagement('x2', '<00000000-0000-4000-8000-000000000000@news.example.com>', gen_random_uuid(), 'd@example.org', 'view', now()),
  pg_temp.engagement('x3', null, null, 'd@example.org', 'view', now()));
-- Unknown event types and bad events are never attributed, even with good keys.
select app_private.ingest_events(jsonb_build_object('events', jsonb_build_array(
  jsonb_build_object('id', 'u1', 'topic', '/t', 'eventType', 'Contoso.Other', 'eventTime', now(),
                     'data', jsonb_build_object('internetMessageId', (select internet_message_id from m where email = 'd@example.org'))),
  jsonb_build_object('id', 'u2', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
                     'eventTime', 'garbage', 'data', jsonb_build_object('internetMessageId', (select internet_message_id from m where email = 'd@example.org'))))));

do $$
begin
  assert (select attributed_by from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'v1') = 'internet_message_id', 'by internetMessageId';
  assert (select me.message_id = (select id from m where email = 'a@example.org') from app_public.message_events me
          join app_public.raw_events e on e.id = me.raw_event_id where e.event_id = 'v1'), 'to the right message';
  assert (select attributed_by from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'c1') = 'operation_id_and_recipient', 'by operation id and recipient';
  assert (select attributed_by from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'v3') = 'operation_id', 'by operation id alone when the event has no recipient';
  assert (select count(*) from app_public.message_events) = 3, 'nothing else is attributed';
  assert (select array_agg(event_id order by event_id) from app_public.unattributed_events) = array['x1', 'x2'],
    'events with keys that match nothing wait, visibly';
  assert (select (opens_human, clicks_human) = (1, 0) from m where email = 'a@example.org'), 'a: one view';
  assert (select (opens_human, clicks_human) = (0, 1) from m where email = 'b@example.org'), 'b: one click';
  assert (select opens_human + opens_machine + clicks_human + clicks_machine from m where email = 'd@example.org') = 0,
    'd: nothing guessed';
  assert (select attributed_at = now() from app_public.message_events limit 1), 'when it was attributed';
end
$$;

-- Events for a message that does not exist yet (here: of a cancelled campaign, inserted later), then the message.
select pg_temp.ingest(
  pg_temp.delivery('late-d', '<11111111-1111-4111-8111-111111111111@news.example.com>',
                   '22222222-2222-4222-8222-222222222222', 'a@example.org', 'Delivered', now() - interval '1 min'),
  pg_temp.engagement('late-v', '<11111111-1111-4111-8111-111111111111@news.example.com>', gen_random_uuid(), 'a@example.org', 'view', now() + interval '1 minute'),
  pg_temp.engagement('late-c', null, '22222222-2222-4222-8222-222222222222', 'a@example.org', 'click', now() + interval '2 minutes', 'https://example.com/y'));
insert into app_public.campaigns (name, sender_id) select 'Old', id from app_public.senders;
select app_public.cancel_campaign(id) from app_public.campaigns where name = 'Old';

do $$
begin
  assert (select count(*) from app_public.unattributed_events where event_id like 'late-%') = 3, 'three pending';
  insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id, send_status)
  select c.id, s.id, c.sender_id, s.email, '<11111111-1111-4111-8111-111111111111@news.example.com>',
         '22222222-2222-4222-8222-222222222222', 'accepted'
  from app_public.campaigns as c, app_public.subscribers as s where c.name = 'Old' and s.email = 'a@example.org';
  assert (select count(*) from app_public.unattributed_events where event_id like 'late-%') = 0, 'no longer pending';
  assert (select array_agg(me.attributed_by order by e.event_id) from app_public.message_events me
          join app_public.raw_events e on e.id = me.raw_event_id where e.event_id like 'late-%')
    = array['operation_id_and_recipient', 'internet_message_id', 'internet_message_id'], 'each by its key';
  assert (select bool_and(me.campaign_id = c.id) from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id,
          app_public.campaigns c where e.event_id like 'late-%' and c.name = 'Old'), 'to the cancelled campaign';
  assert (select (delivered, unique_opens_human, opens_human, clicks_human) = (1, 1, 1, 1)
          from app_public.campaign_rollups r join app_public.campaigns c on c.id = r.campaign_id where c.name = 'Old'),
    'the cancelled campaign''s numbers count them, once';
  -- Redelivering them changes nothing.
  perform pg_temp.ingest(
    pg_temp.delivery('late-d', '<11111111-1111-4111-8111-111111111111@news.example.com>',
                     '22222222-2222-4222-8222-222222222222', 'a@example.org', 'Delivered', now() - interval '1 min'),
    pg_temp.engagement('late-v', '<11111111-1111-4111-8111-111111111111@news.example.com>', gen_random_uuid(), 'a@example.org', 'view', now()));
  assert (select (delivered, opens_human, clicks_human) = (1, 1, 1)
          from app_public.campaign_rollups r join app_public.campaigns c on c.id = r.campaign_id where c.name = 'Old'),
    'duplicates have no effect';
  assert (select count(*) from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id like 'late-%') = 3, 'attributed exactly once';
end
$$;

-- The production case from the fixtures: a view (other messageId) and a click (no internetMessageId) arrive
-- before the delivery report; all three land on one message.
do $$
declare
  target m;
begin
  select * into target from m where email = 'd@example.org';
  perform pg_temp.ingest(
    pg_temp.engagement('f-view', target.internet_message_id, '9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b', 'd@example.org', 'view', now()),
    pg_temp.engagement('f-click', null, target.operation_id, 'd@example.org', 'Click', now(), 'https://shop.example.com/sale'));
  perform pg_temp.ingest(pg_temp.delivery('f-dr', target.internet_message_id, target.operation_id, 'd@example.org', 'Delivered', now() - interval '1 min'));
  assert (select (delivery_status, opens_human, clicks_human) = ('Delivered', 1, 1) from m where email = 'd@example.org'),
    'one message, three events';
end
$$;

-- Every write moves a message's updated_at forward: the attribution's update sets it, any other write gets it from
-- the trigger (here all in one transaction, where now() stands still).
do $$
declare
  target m;
  before_event timestamptz;
  before_write timestamptz;
begin
  select * into target from m where email = 'd@example.org';
  select updated_at into before_event from app_public.messages where id = target.id;
  perform pg_temp.ingest(pg_temp.engagement('u-view', target.internet_message_id, null, 'd@example.org', 'view', now()));
  select updated_at into before_write from app_public.messages where id = target.id;
  assert before_write > before_event, 'an attributed event moves updated_at forward';
  update app_public.messages set send_attempts = send_attempts where id = target.id;
  assert (select updated_at from app_public.messages where id = target.id) > before_write, 'any other write too';
  update app_public.messages set updated_at = '2000-01-01', created_at = '2000-01-01' where id = target.id;
  assert (select updated_at > before_write and created_at > '2000-01-01' from app_public.messages where id = target.id),
    'neither can be set back';
end
$$;
