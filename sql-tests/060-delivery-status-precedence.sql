-- Delivery status precedence: highest precedence wins (delivery_statuses), ties to the latest attempt, arrival
-- order never matters; statuses in any case; an unknown status is stored and counted as unknown.

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
begin
  select * into a from m where email = 'a@example.org';
  select * into b from m where email = 'b@example.org';
  select * into c from m where email = 'c@example.org';
  select * into d from m where email = 'd@example.org';
  -- a: Expanded then Delivered. b: Delivered then Bounced (arriving in the opposite order). c: delivered (lower case).
  -- d: an unknown status, then nothing else.
  perform pg_temp.ingest(pg_temp.delivery('a1', a.internet_message_id, a.operation_id, a.recipient, 'Expanded', now()));
  assert (select delivery_status from m where id = a.id) = 'Expanded', 'Expanded first';
  perform pg_temp.ingest(pg_temp.delivery('a2', a.internet_message_id, a.operation_id, a.recipient, 'Delivered', now() + interval '1 s'));
  assert (select delivery_status from m where id = a.id) = 'Delivered', 'Expanded then Delivered: Delivered';

  perform pg_temp.ingest(pg_temp.delivery('b2', b.internet_message_id, b.operation_id, b.recipient, 'Bounced', now() + interval '1 min',
                                          '550 5.1.1 mailbox unavailable'));
  perform pg_temp.ingest(pg_temp.delivery('b1', b.internet_message_id, b.operation_id, b.recipient, 'Delivered', now()));
  assert (select (delivery_status, bounce_type) = ('Bounced', 'hard') from m where id = b.id),
    'Delivered after Bounced (or before): Bounced wins, whatever the order of arrival';

  perform pg_temp.ingest(pg_temp.delivery('c1', c.internet_message_id, c.operation_id, c.recipient, 'delivered', now()));
  assert (select delivery_status from m where id = c.id) = 'Delivered', 'status in any case';

  perform pg_temp.ingest(pg_temp.delivery('d1', d.internet_message_id, d.operation_id, d.recipient, 'Deferred', now()));
  assert (select delivery_status from m where id = d.id) = 'Deferred', 'unknown status stored';
  assert (select (delivered, bounced_hard, unknown_status, expanded) = (2, 1, 1, 0)
          from app_public.campaign_rollups), 'rollup: two delivered, one hard bounce, one unknown, no longer expanded';
  perform pg_temp.ingest(pg_temp.delivery('d2', d.internet_message_id, d.operation_id, d.recipient, 'Expanded', now()));
  assert (select delivery_status from m where id = d.id) = 'Expanded', 'any known status outranks an unknown one';
  assert (select (unknown_status, expanded) = (0, 1) from app_public.campaign_rollups), 'rollup follows';
  assert (select delivery_status_at from m where id = b.id) = now() + interval '1 min', 'the time of the winning report';
end
$$;

-- Ties go to the latest attempt time, whatever the arrival order.
do $$
declare
  a m;
begin
  select * into a from m where email = 'a@example.org';
  perform pg_temp.ingest(pg_temp.delivery('t2', a.internet_message_id, a.operation_id, a.recipient, 'Delivered', now() + interval '2 min', 'second'));
  perform pg_temp.ingest(pg_temp.delivery('t1', a.internet_message_id, a.operation_id, a.recipient, 'Delivered', now() + interval '1 min', 'first'));
  assert (select delivery_status_message from m where id = a.id) = 'second', 'the latest attempt of equal precedence';
end
$$;

-- A tie of precedence and attempt time: the content decides (delivery_report_rank: status, then status message,
-- byte by byte), never the arrival order; maintained as a recompute decides.
do $$
declare
  c m;
begin
  select * into c from m where email = 'c@example.org';
  perform pg_temp.ingest(pg_temp.delivery('x2', c.internet_message_id, c.operation_id, c.recipient, 'Delivered', now() + interval '5 min', 'two'));
  perform pg_temp.ingest(pg_temp.delivery('x1', c.internet_message_id, c.operation_id, c.recipient, 'Delivered', now() + interval '5 min', 'one'));
  assert (select delivery_status_message from m where id = c.id) = 'two', 'a tie goes to the greater content, not to the report received last';
  perform app_public.recompute_campaign_rollup(c.campaign_id);
  assert (select delivery_status_message from m where id = c.id) = 'two', 'recompute agrees';
end
$$;

-- Precedence is data.
update app_public.delivery_statuses set precedence = 100 where status = 'Delivered';
do $$
declare
  b m;
begin
  select * into b from m where email = 'b@example.org';
  perform app_public.recompute_campaign_rollup(b.campaign_id);
  assert (select delivery_status from m where id = b.id) = 'Delivered', 'a DBA can change the rule; recompute applies it';
end
$$;
