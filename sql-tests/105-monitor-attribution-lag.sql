-- monitor_attribution_lag labels its row of all keys: is_total is true there and only there. With no event in the
-- last day that row stands alone, with 0 events; with events by two keys, one row per key and the total counting
-- them all.
do $$
begin
  assert (select count(*) from app_public.monitor_attribution_lag) = 1, 'no events: the total row alone';
  assert (select (is_total, attributed_by, events, p50_seconds) is not distinct from (true, null::text, 0::bigint, null::float8)
          from app_public.monitor_attribution_lag), 'no events: the total row, labelled, with 0 events';
end
$$;

insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.lists (name, opt_in) values ('L', 'single');
insert into app_public.subscribers (email) values ('a@example.org'), ('b@example.org');
insert into app_public.list_memberships (list_id, subscriber_id, status)
select l.id, s.id, 'confirmed' from app_public.lists as l, app_public.subscribers as s;
insert into app_public.campaigns (name, sender_id) select 'C', id from app_public.senders;
insert into app_public.campaign_lists (campaign_id, list_id) select c.id, l.id from app_public.campaigns as c, app_public.lists as l;
select app_public.start_campaign(id) from app_public.campaigns;

-- Two views of a@ by its Message-ID (received 10 minutes ago), one view of b@ by operation id and recipient (now).
select app_private.ingest_events(jsonb_build_object('receivedAt', now() - interval '10 minutes', 'events', jsonb_build_array(
  jsonb_build_object('id', 'v1', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
    'eventTime', now(), 'data', jsonb_build_object('internetMessageId',
      (select internet_message_id from app_public.messages m join app_public.subscribers s on s.id = m.subscriber_id where s.email = 'a@example.org'),
      'engagementType', 'view', 'userActionTimestamp', now(), 'userAgent', 'Mozilla/5.0 (X11) Firefox/130.0')),
  jsonb_build_object('id', 'v2', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
    'eventTime', now(), 'data', jsonb_build_object('internetMessageId',
      (select internet_message_id from app_public.messages m join app_public.subscribers s on s.id = m.subscriber_id where s.email = 'a@example.org'),
      'engagementType', 'view', 'userActionTimestamp', now(), 'userAgent', 'Mozilla/5.0 (X11) Firefox/131.0')))));
select app_private.ingest_events(jsonb_build_object('receivedAt', now(), 'events', jsonb_build_array(
  jsonb_build_object('id', 'v3', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
    'eventTime', now(), 'data', jsonb_build_object('recipient', 'b@example.org', 'messageId',
      (select operation_id from app_public.messages m join app_public.subscribers s on s.id = m.subscriber_id where s.email = 'b@example.org'),
      'engagementType', 'view', 'userActionTimestamp', now(), 'userAgent', 'Mozilla/5.0 (X11) Firefox/130.0')))));

do $$
begin
  assert (select count(*) from app_public.monitor_attribution_lag) = 3, 'a row per key and the total';
  assert (select count(*) from app_public.monitor_attribution_lag where is_total) = 1, 'one total row';
  assert (select (attributed_by, events) is not distinct from (null::text, 3::bigint)
          from app_public.monitor_attribution_lag where is_total), 'the total counts every key';
  assert (select array_agg(attributed_by || ':' || events order by attributed_by)
          from app_public.monitor_attribution_lag where not is_total)
         = array['internet_message_id:2', 'operation_id_and_recipient:1'], 'each key its own row, none of them NULL';
  assert (select max_seconds from app_public.monitor_attribution_lag where is_total) = 600, 'the slowest over all keys';
  assert (select max_seconds from app_public.monitor_attribution_lag where attributed_by = 'operation_id_and_recipient') < 60,
    'the key of the event received now';
end
$$;

-- The read-only role reads it, total row included.
set local role mailroom_readonly;
do $$
begin
  assert (select count(*) from app_public.monitor_attribution_lag where is_total) = 1, 'read-only sees the total row';
end
$$;
reset role;
