-- Engagement: views and clicks per message with the URL; machine or human with the reason (user agent table,
-- too soon after acceptance, burst of clicks); human and machine counted apart; rates on human unique messages.

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

do $$
declare
  a m; b m; c m; d m;
  t timestamptz := now();
begin
  update app_public.messages set send_status = 'accepted', accepted_at = t;
  select * into a from m where email = 'a@example.org';
  select * into b from m where email = 'b@example.org';
  select * into c from m where email = 'c@example.org';
  select * into d from m where email = 'd@example.org';
  perform pg_temp.ingest(
    pg_temp.delivery('ad', a.internet_message_id, a.operation_id, a.recipient, 'Delivered', t),
    pg_temp.delivery('bd', b.internet_message_id, b.operation_id, b.recipient, 'Delivered', t),
    pg_temp.delivery('cd', c.internet_message_id, c.operation_id, c.recipient, 'Delivered', t),
    pg_temp.delivery('dd', d.internet_message_id, d.operation_id, d.recipient, 'Delivered', t),
    -- a: Gmail's image proxy, then a person twice; and one click.
    pg_temp.engagement('a1', a.internet_message_id, a.operation_id, a.recipient, 'view', t + interval '1 min', null,
                       'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'),
    pg_temp.engagement('a2', a.internet_message_id, a.operation_id, a.recipient, 'view', t + interval '2 min'),
    pg_temp.engagement('a3', a.internet_message_id, a.operation_id, a.recipient, 'view', t + interval '3 min'),
    pg_temp.engagement('a4', a.internet_message_id, a.operation_id, a.recipient, 'click', t + interval '4 min', 'https://example.com/one'),
    -- b: Apple Mail Privacy Protection only.
    pg_temp.engagement('b1', b.internet_message_id, b.operation_id, b.recipient, 'view', t + interval '1 min', null, 'Mozilla/5.0'),
    -- c: a view 1 s after acceptance (machine), a view later (human).
    pg_temp.engagement('c1', c.internet_message_id, c.operation_id, c.recipient, 'view', t + interval '1 s'),
    pg_temp.engagement('c2', c.internet_message_id, c.operation_id, c.recipient, 'view', t + interval '10 min'),
    -- d: a scanner clicking three links within two seconds (a burst), and a person clicking one a minute later.
    pg_temp.engagement('d1', d.internet_message_id, d.operation_id, d.recipient, 'click', t + interval '30 s', 'https://example.com/one'),
    pg_temp.engagement('d2', d.internet_message_id, d.operation_id, d.recipient, 'click', t + interval '31 s', 'https://example.com/two'));
  -- The third click of the burst arrives in a later batch: the first two become machine then.
  assert (select clicks_human from m where id = d.id) = 2, 'two clicks on two links are not yet a burst';
  perform pg_temp.ingest(
    pg_temp.engagement('d3', d.internet_message_id, d.operation_id, d.recipient, 'click', t + interval '32 s', 'https://example.com/three'),
    pg_temp.engagement('d4', d.internet_message_id, d.operation_id, d.recipient, 'click', t + interval '2 min', 'https://example.com/two'));

  assert (select (opens_human, opens_machine, clicks_human, first_opened_at, last_opened_at, first_clicked_at)
                 = (2, 1, 1, t + interval '2 min', t + interval '3 min', t + interval '4 min') from m where id = a.id),
    'a: proxy view is machine; first/last human times';
  assert (select machine_reason from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'a1') = 'user agent: image proxy (GoogleImageProxy)', 'the reason is kept';
  assert (select (opens_human, opens_machine, first_opened_at) is not distinct from (0, 1, null::timestamptz) from m where id = b.id),
    'b: privacy protection only';
  assert (select (opens_human, opens_machine) = (1, 1) from m where id = c.id), 'c: too soon after acceptance is machine';
  assert (select machine_reason from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'c1') = 'less than 2 s after acceptance', 'reason';
  assert (select (clicks_human, clicks_machine) = (1, 3) from m where id = d.id), 'd: the burst is machine, the later click human';
  assert (select machine_reason from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'd1') = 'burst: clicks on 3 links within 5 s', 'reason';
  assert (select (clicks_human, clicks_machine) = (1, 1) from app_public.link_clicks
          where message_id = d.id and url = 'https://example.com/two'), 'clicks per message and URL';

  assert (select (delivered, unique_opens_human, unique_opens, opens_human, opens, unique_clicks_human, unique_clicks, clicks_human, clicks)
                 = (4, 2, 3, 3, 6, 2, 2, 2, 5) from app_public.campaign_rollups), 'rollup: human and all apart';
  assert (select (open_rate, click_rate) = (0.5, 0.5) from app_public.campaign_stats), 'rates: unique human over delivered';
end
$$;

-- Acceptance recorded after the engagement: the 2 s rule applies then.
do $$
declare
  c m;
begin
  select * into c from m where email = 'c@example.org';
  update app_public.messages set accepted_at = accepted_at + interval '9 min 59 s' where id = c.id;
  assert (select (opens_human, opens_machine) = (0, 2) from m where id = c.id), 'reclassified when accepted_at changes';
  update app_public.engagement_settings set minimum_seconds_after_acceptance = 0;
  perform app_public.recompute_campaign_rollup(c.campaign_id);
  assert (select (opens_human, opens_machine) = (1, 1) from m where id = c.id),
    'settings are data; recompute applies them (a view before acceptance stays machine)';
end
$$;

-- Too soon after the delivery: a view less than 2 s after the Delivered report is a machine's (a scanner or proxy
-- fetching at delivery), whichever arrives first; the later of acceptance and delivery counts.
do $$
declare
  b m;
  t timestamptz := now();
begin
  update app_public.engagement_settings set minimum_seconds_after_acceptance = 2;
  select * into b from m where email = 'b@example.org';
  perform pg_temp.ingest(pg_temp.engagement('b2', b.internet_message_id, b.operation_id, b.recipient, 'view', t + interval '10 min 1 s'));
  assert (select machine_reason from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'b2') is null, 'a person''s view, while the message was delivered 10 min before';
  perform pg_temp.ingest(pg_temp.delivery('bd2', b.internet_message_id, b.operation_id, b.recipient, 'Delivered', t + interval '10 min'));
  assert (select delivery_status_at from m where id = b.id) = t + interval '10 min', 'the later Delivered report wins';
  assert (select machine_reason from app_public.message_events me join app_public.raw_events e on e.id = me.raw_event_id
          where e.event_id = 'b2') = 'less than 2 s after delivery', 'reclassified by the delivery report that came after it';
  assert (select (opens_human, opens_machine) = (0, 2) from m where id = b.id), 'b: both views are machines''';
end
$$;
