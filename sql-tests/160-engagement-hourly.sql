-- campaign_engagement_hourly: opens and clicks per campaign and UTC hour, kept by the pipeline, equal to the rollup
-- over all hours and to the oracle computed from the raw events. The session's TimeZone is +05:30, so that an hour
-- taken by date_trunc (session time) instead of date_bin (UTC) would land on hh:30 and fail.
set local timezone = 'Asia/Kolkata';

insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.campaigns (name, sender_id, engagement_tracking)
select x.name, s.id, x.tracking from app_public.senders as s, (values ('H', 'azure'), ('B', 'both')) as x(name, tracking);
insert into app_public.subscribers (email) select 'h' || g || '@example.org' from generate_series(1, 6) as g;
create temporary table key as
select g as n, (case when g <= 5 then 'H' else 'B' end) as campaign, '<' || gen_random_uuid() || '@news.example.com>' as imid,
  gen_random_uuid() as opid
from generate_series(1, 6) as g;
insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id,
                                 send_status, accepted_at)
select c.id, s.id, c.sender_id, s.email, k.imid, k.opid, 'accepted', '2026-11-27T09:00:00Z'
from key as k join app_public.campaigns as c on c.name = k.campaign join app_public.subscribers as s on s.email = 'h' || k.n || '@example.org';

-- One Azure event (or Mailroom's own hit) for message n: ingested alone, as its own job would be.
create function pg_temp.azure(id text, n integer, type text, at text, url text default '',
                              agent text default 'Mozilla/5.0 (Windows NT 10.0) Chrome/131.0') returns void as $$
  select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'events', jsonb_build_array(
    jsonb_build_object('id', id, 'topic', '/subscriptions/s/CommunicationServices/acs', 'eventTime', at,
      'eventType', case when type = 'delivered' then 'Microsoft.Communication.EmailDeliveryReportReceived'
                        else 'Microsoft.Communication.EmailEngagementTrackingReportReceived' end,
      'data', case when type = 'delivered'
        then jsonb_build_object('recipient', 'h' || n || '@example.org', 'messageId', k.opid, 'internetMessageId', k.imid,
                                'status', 'Delivered', 'deliveryAttemptTimestamp', at)
        else jsonb_build_object('recipient', 'h' || n || '@example.org', 'messageId', k.opid, 'internetMessageId', k.imid,
                                'engagementType', type, 'engagementContext', url, 'userAgent', agent, 'userActionTimestamp', at)
      end))))
  from key as k where k.n = azure.n;
$$ language sql;
create function pg_temp.own_hit(id text, n integer, type text, at text) returns void as $$
  select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'events', jsonb_build_array(
    jsonb_build_object('id', id, 'topic', 'mailroom', 'subject', 'messages/' || k.opid, 'eventTime', at,
      'eventType', 'Mailroom.EmailEngagementTracked', 'dataVersion', '1.0', 'metadataVersion', '1',
      'data', jsonb_build_object('messageId', k.opid, 'engagementType', type, 'engagementContext', '', 'link', 0,
        'honeypot', false, 'httpMethod', 'GET', 'ipAddress', '192.0.2.10',
        'userAgent', 'Mozilla/5.0 (Windows NT 10.0) Chrome/131.0', 'userActionTimeStamp', at)))))
  from key as k where k.n = own_hit.n;
$$ language sql;

-- The campaign's hours with something in them, as text in UTC: hour opens/opens_human/clicks/clicks_human.
create function pg_temp.hours(campaign text) returns text as $$
  select coalesce(string_agg(to_char(h.hour at time zone 'UTC', 'HH24:MI') || ' ' || h.opens || '/' || h.opens_human || '/'
                             || h.clicks || '/' || h.clicks_human, ', ' order by h.hour), '')
  from app_public.campaign_engagement_hourly as h join app_public.campaigns as c on c.id = h.campaign_id
  where c.name = campaign and (h.opens <> 0 or h.clicks <> 0);
$$ language sql;

-- An open and a click in the 10:00 hour, an open in the 11:00 hour.
select pg_temp.azure('v1', 1, 'view', '2026-11-27T10:20:00Z');
select pg_temp.azure('c1', 2, 'click', '2026-11-27T10:40:00Z', 'https://example.com/a');
select pg_temp.azure('v2', 1, 'view', '2026-11-27T11:05:00Z');
do $$ begin
  assert pg_temp.hours('H') = '10:00 1/1/1/1, 11:00 1/1/0/0', 'an open and a click at 10, an open at 11: ' || pg_temp.hours('H');
end $$;

-- A click on the unsubscribe link counts nowhere; a robot's view counts as an open, not a human one.
select pg_temp.azure('u1', 2, 'click', '2026-11-27T10:45:00Z',
                     'https://mail.example.com/unsubscribe/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB');
select pg_temp.azure('r1', 3, 'view', '2026-11-27T10:50:00Z', '', 'Googlebot/2.1 (+http://www.google.com/bot.html)');
do $$ begin
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0', 'the unsubscribe click left out, the robot an open: ' || pg_temp.hours('H');
end $$;

-- Re-derived as machine by a later event (attribute_events, then refresh_messages): clicks on three links within
-- burst_seconds are a scanner's; the first two were human when they arrived.
select pg_temp.azure('b1', 4, 'click', '2026-11-27T12:10:00Z', 'https://example.com/a');
select pg_temp.azure('b2', 4, 'click', '2026-11-27T12:10:01Z', 'https://example.com/b');
do $$ begin
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/2/2', 'two clicks, human so far: ' || pg_temp.hours('H');
end $$;
select pg_temp.azure('b3', 4, 'click', '2026-11-27T12:10:02Z', 'https://example.com/c');
do $$ begin
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0', 'the burst re-derived as machine: ' || pg_temp.hours('H');
end $$;

-- Re-derived as machine by a delivery report (the trigger on messages, then refresh_messages): a view one second
-- after the delivery that arrives later is too soon to be a person's.
select pg_temp.azure('v5', 5, 'view', '2026-11-27T13:00:01Z');
do $$ begin
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0, 13:00 1/1/0/0', 'human until the delivery: ' || pg_temp.hours('H');
end $$;
select pg_temp.azure('d5', 5, 'delivered', '2026-11-27T13:00:00Z');
do $$ begin
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0, 13:00 1/0/0/0', 'too soon after the delivery: ' || pg_temp.hours('H');
end $$;

-- Campaign B counts both sources: Azure's view first (counted), then Mailroom's own hit of the same open 30 s
-- later: the Azure twin is ignored from then on, and the open counted once, in the hit's hour.
select pg_temp.azure('t1', 6, 'view', '2026-11-27T13:59:50Z');
do $$ begin
  assert pg_temp.hours('B') = '13:00 1/1/0/0', 'Azure''s view alone: ' || pg_temp.hours('B');
end $$;
select pg_temp.own_hit('t2', 6, 'view', '2026-11-27T14:00:20Z');
do $$ begin
  assert pg_temp.hours('B') = '14:00 1/1/0/0', 'the twin ignored, the open counted once in the hit''s hour: ' || pg_temp.hours('B');
  assert (select h.opens from app_public.campaign_engagement_hourly as h join app_public.campaigns as c on c.id = h.campaign_id
          where c.name = 'B' and h.hour = '2026-11-27T13:00:00Z') = 0, 'the 13:00 hour keeps a row of zeros';
end $$;

-- An open that arrives before its message (parked in pending_events) counts in its hour once the message appears
-- (attribute_pending, from the trigger on new messages).
insert into app_public.subscribers (email) values ('h7@example.org');
insert into key values (7, 'H', '<' || gen_random_uuid() || '@news.example.com>', gen_random_uuid());
select pg_temp.azure('early', 7, 'view', '2026-11-27T15:10:00Z');
do $$ begin
  assert (select count(*) from app_private.pending_events) = 1, 'the open waits for its message';
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0, 13:00 1/0/0/0', 'not counted yet: ' || pg_temp.hours('H');
end $$;
insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id,
                                 send_status, accepted_at)
select c.id, s.id, c.sender_id, s.email, k.imid, k.opid, 'accepted', '2026-11-27T09:00:00Z'
from key as k join app_public.campaigns as c on c.name = k.campaign join app_public.subscribers as s on s.email = 'h7@example.org'
where k.n = 7;
do $$ begin
  assert (select count(*) from app_private.pending_events) = 0, 'attributed when its message appeared';
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0, 13:00 1/0/0/0, 15:00 1/1/0/0',
    'counted in its hour: ' || pg_temp.hours('H');
end $$;

-- Every campaign: the hours add up to the rollup, equal the oracle computed from the raw events, survive a
-- recompute unchanged, and monitor_hourly_engagement shows them.
do $$
declare
  c record;
  maintained jsonb;
begin
  for c in select id, name from app_public.campaigns loop
    assert (select (sum(h.opens), sum(h.opens_human), sum(h.clicks), sum(h.clicks_human))
                 = (min(r.opens), min(r.opens_human), min(r.clicks), min(r.clicks_human))
            from app_public.campaign_engagement_hourly as h join app_public.campaign_rollups as r on r.campaign_id = h.campaign_id
            where h.campaign_id = c.id), c.name || ': the hours add up to the rollup';
    maintained = (select jsonb_agg(to_jsonb(h) order by h.hour) from app_public.campaign_engagement_hourly as h
                  where h.campaign_id = c.id and (h.opens <> 0 or h.clicks <> 0));
    assert maintained = (select jsonb_agg(to_jsonb(o) order by o.hour) from app_public.campaign_engagement_hourly_from_events(c.id) as o),
      c.name || ': the maintained hours equal the oracle''s: ' || maintained::text;
    assert maintained = (select jsonb_agg(to_jsonb(v) order by v.hour) from app_public.monitor_hourly_engagement as v
                         where v.campaign_id = c.id),
      c.name || ': monitor_hourly_engagement shows them';
    perform app_public.recompute_campaign_rollup(c.id);
    assert maintained = (select jsonb_agg(to_jsonb(h) order by h.hour) from app_public.campaign_engagement_hourly as h
                         where h.campaign_id = c.id),
      c.name || ': recompute rewrites the same hours (without the rows of zeros)';
  end loop;
  assert pg_temp.hours('H') = '10:00 2/1/1/1, 11:00 1/1/0/0, 12:00 0/0/3/0, 13:00 1/0/0/0, 15:00 1/1/0/0', 'H after recompute';
end
$$;

-- campaign_bounce_reasons: bounces by status and message, then the messages not sent by error.
select pg_temp.azure('x1', 1, 'delivered', '2026-11-27T09:30:00Z');
update app_public.messages set send_status = 'failed', last_error = 'ACS 400: invalid recipient'
where internet_message_id in (select imid from key where n in (2, 3));
select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'events', jsonb_agg(
  jsonb_build_object('id', 'bounce-' || k.n, 'topic', '/subscriptions/s/CommunicationServices/acs', 'eventTime', '2026-11-27T09:40:00Z',
    'eventType', 'Microsoft.Communication.EmailDeliveryReportReceived',
    'data', jsonb_build_object('recipient', 'h' || k.n || '@example.org', 'messageId', k.opid, 'internetMessageId', k.imid,
      'status', 'Bounced', 'deliveryStatusDetails', jsonb_build_object('statusMessage', '550 5.1.1 User unknown'),
      'deliveryAttemptTimestamp', '2026-11-27T09:40:00Z')))))
from key as k where k.n in (4, 5);
do $$
declare
  cid bigint := (select id from app_public.campaigns where name = 'H');
  rows text := (select string_agg(r.kind || '|' || coalesce(r.status, '-') || '|' || coalesce(r.reason, '(others)') || '|' || r.events,
                                  '; ' order by r.kind)
                from app_public.campaign_bounce_reasons(cid) as r);
begin
  assert rows = 'hard|Bounced|550 5.1.1 User unknown|2; send failed|-|ACS 400: invalid recipient|2', 'bounce reasons: ' || rows;
  rows = (select string_agg(r.kind || '|' || coalesce(r.reason, '(others)') || '|' || r.events, '; ')
          from app_public.campaign_bounce_reasons(cid, 0) as r);
  assert rows = 'hard|(others)|2; send failed|(others)|2', 'with no reason shown, one row of others per kind: ' || rows;
end
$$;

-- attribution_lag_recent: monitor_attribution_lag's numbers over the newest events. Over all of them (there are
-- fewer than 10,000 here) it agrees with the view; over the newest 3, it counts 3.
do $$
begin
  assert (select jsonb_agg(to_jsonb(v) order by v.is_total, v.attributed_by) from app_public.monitor_attribution_lag as v)
       = (select jsonb_agg(to_jsonb(r) - 'since' order by r.is_total, r.attributed_by) from app_public.attribution_lag_recent() as r),
    'over every event of the day: the view''s numbers';
  assert (select events from app_public.attribution_lag_recent(3) where is_total) = 3, 'the newest 3 events';
end
$$;
