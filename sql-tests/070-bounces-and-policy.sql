-- Bounces: ACS status -> bounce type by bounce_rules (data); thresholds and actions by bounce_policies; by subscriber id.

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
  -- a: Bounced -> hard -> blocklisted (hard 1 -> blocklist).
  perform pg_temp.ingest(pg_temp.delivery('a1', a.internet_message_id, a.operation_id, a.recipient, 'Bounced', now(), '550 5.1.1 no such user'));
  assert (select status from app_public.subscribers where id = a.subscriber_id) = 'blocklisted', 'hard bounce blocklists';
  assert (select (bounce_type, status) = ('hard', 'Bounced') from app_public.bounces where message_id = a.id), 'bounce recorded';
  -- b: Failed with 5.x.x -> hard; c: Failed without -> soft (soft 3 -> none: still enabled).
  perform pg_temp.ingest(
    pg_temp.delivery('b1', b.internet_message_id, b.operation_id, b.recipient, 'Failed', now(), 'Remote server said 5.7.1 rejected'),
    pg_temp.delivery('c1', c.internet_message_id, c.operation_id, c.recipient, 'Failed', now(), '421 4.4.2 timeout'));
  assert (select bounce_type from app_public.bounces where message_id = b.id) = 'hard', 'Failed 5.x.x is hard';
  assert (select bounce_type from app_public.bounces where message_id = c.id) = 'soft', 'Failed otherwise is soft';
  assert (select status from app_public.subscribers where id = c.subscriber_id) = 'enabled', 'one soft bounce: nothing';
  -- d: Suppressed -> blocklisted, but no bounce counted.
  perform pg_temp.ingest(pg_temp.delivery('d1', d.internet_message_id, d.operation_id, d.recipient, 'SUPPRESSED', now(), 'suppressed'));
  assert (select status from app_public.subscribers where id = d.subscriber_id) = 'blocklisted', 'Suppressed blocklists';
  assert not exists (select 1 from app_public.bounces where message_id = d.id), 'Suppressed is not a new bounce';
  assert (select (bounced_hard, bounced_soft, suppressed, delivery_failed) = (2, 1, 1, 2) from app_public.campaign_rollups), 'rollup';
  -- A duplicate changes nothing.
  perform pg_temp.ingest(pg_temp.delivery('a1', a.internet_message_id, a.operation_id, a.recipient, 'Bounced', now(), '550 5.1.1 no such user'));
  assert (select count(*) from app_public.bounces where message_id = a.id) = 1, 'one bounce per event';
end
$$;

-- Soft bounces accumulate across campaigns; the policy acts on the third; the action is data (here: unsubscribe).
update app_public.bounce_policies set action = 'unsubscribe' where bounce_type = 'soft';
do $$
declare
  cid bigint;
  c m;
begin
  for i in 2..3 loop
    insert into app_public.campaigns (name, sender_id) select 'C' || i, id from app_public.senders returning id into cid;
    insert into app_public.campaign_lists (campaign_id, list_id) select cid, id from app_public.lists;
    perform app_public.start_campaign(cid);
    select * into c from m where m.campaign_id = cid and email = 'c@example.org';
    assert c.id is not null, 'c still receives after ' || (i - 1) || ' soft bounce(s)';
    perform pg_temp.ingest(pg_temp.delivery('c' || i, c.internet_message_id, c.operation_id, c.recipient, 'Quarantined', now()));
  end loop;
  assert (select count(*) from app_public.bounces b join app_public.subscribers s on s.id = b.subscriber_id
          where s.email = 'c@example.org' and b.bounce_type = 'soft') = 3, 'three soft bounces';
  assert (select bool_and(lm.status = 'unsubscribed') from app_public.list_memberships lm
          join app_public.subscribers s on s.id = lm.subscriber_id where s.email = 'c@example.org'), 'unsubscribed by policy';
  assert (select status from app_public.subscribers where email = 'c@example.org') = 'enabled', 'not blocklisted';
end
$$;

-- A complaint (once per message) blocklists by the complaint policy; start_campaign then skips the subscriber.
update app_public.bounce_policies set action = 'none' where bounce_type = 'complaint';
do $$
declare
  b m;
  cid bigint;
begin
  select * into b from m where email = 'b@example.org' and m.campaign_id = (select id from app_public.campaigns where name = 'C');
  update app_public.subscribers set status = 'enabled' where id = b.subscriber_id;
  delete from app_public.bounces where subscriber_id = b.subscriber_id;
  assert app_public.record_complaint(b.id, 'feedback loop'), 'recorded';
  assert not app_public.record_complaint(b.id), 'once per message';
  assert (select complaints from app_public.campaign_rollups where campaign_rollups.campaign_id = b.campaign_id) = 1, 'counted';
  assert (select status from app_public.subscribers where id = b.subscriber_id) = 'enabled', 'policy action none';
  update app_public.bounce_policies set action = 'blocklist' where bounce_type = 'complaint';
  update app_public.bounce_policies set action = 'none' where bounce_type = 'soft';
  insert into app_public.campaigns (name, sender_id) select 'C4', id from app_public.senders returning id into cid;
  insert into app_public.campaign_lists (campaign_id, list_id) select cid, id from app_public.lists;
  update app_public.subscribers set status = 'enabled';
  update app_public.list_memberships set status = 'confirmed';
  perform app_public.start_campaign(cid);
  assert not exists (select 1 from m where m.campaign_id = cid and email = 'b@example.org'),
    'a subscriber the policy forbids is skipped at start';
  assert exists (select 1 from m where m.campaign_id = cid and email = 'c@example.org'), 'soft bounces with action none: sent';
end
$$;
