-- Roles: the read-only role reads tables and monitoring views and writes nothing; the admin role manages
-- subscribers, lists, senders, templates and campaigns, changes status only through the functions, and never
-- writes the ledger or anything derived from events. Monitoring views answer the runbook's questions.
insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.lists (name, opt_in) values ('L', 'single');
insert into app_public.subscribers (email) values ('a@example.org');
insert into app_public.list_memberships (list_id, subscriber_id) select l.id, s.id from app_public.lists l, app_public.subscribers s;
insert into app_public.campaigns (name, sender_id) select 'C', id from app_public.senders;
insert into app_public.campaign_lists (campaign_id, list_id) select c.id, l.id from app_public.campaigns c, app_public.lists l;
select app_public.start_campaign(id) from app_public.campaigns;
select app_private.ingest_events(jsonb_build_object('receivedAt', now() - interval '10 minutes', 'events', jsonb_build_array(
  jsonb_build_object('id', 'v', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailEngagementTrackingReportReceived',
    'eventTime', now(), 'data', jsonb_build_object('internetMessageId', (select internet_message_id from app_public.messages),
      'engagementType', 'view', 'userActionTimestamp', now(), 'userAgent', 'Mozilla/5.0 (X11) Firefox/130.0')),
  jsonb_build_object('id', 'lost', 'topic', '/t', 'eventType', 'Microsoft.Communication.EmailDeliveryReportReceived',
    'eventTime', now(), 'data', jsonb_build_object('sender', 'news@news.example.com', 'internetMessageId', '<nope@news.example.com>',
      'status', 'Delivered')),
  'null'::jsonb)));

do $$
begin
  assert (select (percent_with_message_id, messages) = (100.00, 1) from app_public.monitor_message_id_coverage), '100%';
  assert (select (opens_human, clicks_human) = (1, 0) from app_public.monitor_engagement_last_hour), 'last hour';
  assert (select (sender, age, events) = ('news@news.example.com', '2: < 1 h', 1::bigint) from app_public.monitor_unattributed_events),
    'unattributed by sender and age';
  assert (select (events, p50_seconds) = (1, 600) from app_public.monitor_attribution_lag where attributed_by is null),
    'lag from received to attributed';
  assert (select opens_human from app_public.monitor_hourly_engagement) = 1, 'hourly';
  assert (select count(*) from app_public.monitor_problem_events) = 1, 'problem events';
end
$$;

set local role mailroom_readonly;
do $$
declare
  t text;
begin
  foreach t in array array['subscribers', 'lists', 'list_memberships', 'senders', 'templates', 'campaigns', 'campaign_lists',
    'messages', 'raw_events', 'message_events', 'bounces', 'unsubscribes', 'campaign_rollups', 'campaign_stats', 'link_clicks',
    'unattributed_events', 'monitor_problem_events', 'monitor_engagement_last_hour', 'monitor_message_id_coverage',
    'monitor_unattributed_events', 'monitor_attribution_lag', 'monitor_hourly_engagement', 'delivery_statuses',
    'bounce_rules', 'bounce_policies', 'machine_user_agents', 'engagement_settings'] loop
    execute format('select count(*) from app_public.%I', t);
    assert not has_table_privilege(format('app_public.%I', t), 'insert') and not has_table_privilege(format('app_public.%I', t), 'update')
       and not has_table_privilege(format('app_public.%I', t), 'delete'), 'read-only cannot write ' || t;
  end loop;
  assert (select recipients from app_public.campaign_rollup_from_events((select id from app_public.campaigns))) = 1,
    'read-only can compute a rollup';
  begin
    perform app_public.start_campaign(1);
    assert false, 'read-only cannot start campaigns';
  exception when insufficient_privilege then null;
  end;
end
$$;
reset role;

set local role mailroom_admin;
do $$
declare
  campaign_id bigint;
begin
  insert into app_public.subscribers (email) values ('b@example.org');
  insert into app_public.list_memberships (list_id, subscriber_id, status)
  select l.id, s.id, 'confirmed' from app_public.lists l, app_public.subscribers s where s.email = 'b@example.org';
  insert into app_public.campaigns (name, sender_id) select 'D', id from app_public.senders returning id into campaign_id;
  insert into app_public.campaign_lists (campaign_id, list_id) select campaign_id, id from app_public.lists;
  assert (select status from app_public.start_campaign(campaign_id)) = 'running', 'admin starts through the function';
  perform app_public.set_sender_connection_string((select id from app_public.senders), 'endpoint=x;accesskey=y');
  begin
    update app_public.campaigns set status = 'finished';
    assert false, 'admin cannot write status';
  exception when insufficient_privilege then null;
  end;
  begin
    update app_public.messages set delivery_status = 'Delivered';
    assert false, 'admin cannot write the ledger';
  exception when insufficient_privilege then null;
  end;
  begin
    perform 1 from app_private.sender_secrets;
    assert false, 'admin cannot read secrets';
  exception when insufficient_privilege then null;
  end;
  begin
    delete from app_public.campaigns where id = campaign_id;
    assert not exists (select 1 from app_public.campaigns where id = campaign_id and status = 'draft'), 'only drafts can be deleted';
  end;
  assert (select count(*) from app_public.campaigns where id = campaign_id) = 1, 'a started campaign is not deleted';
  update app_public.engagement_settings set burst_seconds = 3;
  update app_public.bounce_policies set threshold = 2 where bounce_type = 'soft';
end
$$;
reset role;
