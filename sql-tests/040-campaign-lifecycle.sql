-- Campaigns: who start_campaign sends to, the Message-ID and operation id of every message, the job it queues,
-- and the legal status changes with their errors.
insert into app_public.senders (name, from_address) values ('News', 'News@News.Example.com');
insert into app_public.lists (name, opt_in) values ('double', 'double'), ('single', 'single'), ('empty', 'double');
insert into app_public.subscribers (email, status) values
  ('confirmed@example.org', 'enabled'),      -- confirmed on the double list: receives
  ('unconfirmed@example.org', 'enabled'),    -- unconfirmed on the double list: no
  ('single@example.org', 'enabled'),         -- unconfirmed on the single list: receives
  ('unsub@example.org', 'enabled'),          -- unsubscribed from the single list: no
  ('both@example.org', 'enabled'),           -- on both lists: receives once
  ('blocked@example.org', 'blocklisted'),    -- blocklisted: no
  ('bounced@example.org', 'enabled'),        -- one hard bounce (policy: hard 1 -> blocklist): no
  ('soft@example.org', 'enabled');           -- one soft bounce (policy: soft 3 -> none): receives
insert into app_public.list_memberships (list_id, subscriber_id, status)
select l.id, s.id, m.status
from (values ('double', 'confirmed@example.org', 'confirmed'), ('double', 'unconfirmed@example.org', 'unconfirmed'),
             ('single', 'single@example.org', 'unconfirmed'), ('single', 'unsub@example.org', 'unsubscribed'),
             ('double', 'both@example.org', 'confirmed'), ('single', 'both@example.org', 'unconfirmed'),
             ('double', 'blocked@example.org', 'confirmed'), ('double', 'bounced@example.org', 'confirmed'),
             ('single', 'soft@example.org', 'unconfirmed')) as m(list, email, status)
join app_public.lists as l on l.name = m.list join app_public.subscribers as s on s.email = m.email;
-- Bounces recorded directly (their trigger would blocklist at once; here the policy must act at start time).
alter table app_public.bounces disable trigger _500_policy;
insert into app_public.bounces (subscriber_id, bounce_type)
select id, case email when 'bounced@example.org' then 'hard' else 'soft' end
from app_public.subscribers where email in ('bounced@example.org', 'soft@example.org');
alter table app_public.bounces enable trigger _500_policy;

insert into app_public.campaigns (name, sender_id, subject)
select 'November', id, 'Hello' from app_public.senders;
insert into app_public.campaign_lists (campaign_id, list_id)
select c.id, l.id from app_public.campaigns as c, app_public.lists as l where l.name in ('double', 'single');

create temporary table started as select * from app_public.start_campaign((select id from app_public.campaigns where name = 'November'));

do $$
declare
  cid bigint := (select id from started);
begin
  assert (select status from started) = 'running' and (select started_at from started) = now(), 'running';
  assert (select array_agg(recipient order by recipient) from app_public.messages where messages.campaign_id = cid)
    = array['both@example.org', 'confirmed@example.org', 'single@example.org', 'soft@example.org'],
    'confirmed (double), not unsubscribed (single), enabled, once each, not stopped by the bounce policy';
  assert (select bool_and(internet_message_id ~ '^<[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@news\.example\.com>$')
          from app_public.messages), 'Message-ID <uuid@sending-domain> (a version 7 UUID), domain in lower case';
  assert (select bool_and(operation_id::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]') from app_public.messages),
    'operation ids are version 7 UUIDs';
  assert (select bool_and(abs(('x' || substr(replace(k, '-', ''), 1, 12))::bit(48)::bigint
                              - extract(epoch from clock_timestamp()) * 1000) < 3600 * 1000)
          from app_public.messages, lateral (values (operation_id::text), (substr(internet_message_id, 2, 36))) as keys(k)),
    'both keys start with their creation time in milliseconds';
  assert (select count(distinct operation_id) = 4 and count(distinct internet_message_id) = 4 from app_public.messages),
    'unique operation ids and Message-IDs';
  assert (select bool_and(send_status = 'queued' and sender_id is not null) from app_public.messages), 'queued';
  assert exists (
    select 1 from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
    where t.identifier = 'send_campaign' and j.payload::jsonb = json_build_object('campaignId', cid)::jsonb
  ), 'send_campaign {"campaignId": id} is queued in the same transaction';
  assert (select (recipients, queued) = (4, 4) from app_public.campaign_rollups where campaign_rollups.campaign_id = cid),
    'the rollup counts the recipients';
end
$$;

-- Error paths.
do $$
declare
  cid bigint := (select id from started);
  empty_id bigint;
  message text;
begin
  begin
    perform app_public.start_campaign(cid);
    assert false, 'starting twice fails';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s has already been started (it is running)', cid), message;
  end;
  begin
    perform app_public.start_campaign(-1);
    assert false, 'an unknown campaign fails';
  exception when no_data_found then
    get stacked diagnostics message = message_text;
    assert message = 'campaign -1 does not exist', message;
  end;

  insert into app_public.campaigns (name, sender_id) select 'empty', id from app_public.senders returning id into empty_id;
  begin
    perform app_public.start_campaign(empty_id);
    assert false, 'a campaign without lists fails';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s has no lists', empty_id), message;
  end;
  insert into app_public.campaign_lists (campaign_id, list_id) select empty_id, id from app_public.lists where name = 'empty';
  begin
    perform app_public.start_campaign(empty_id);
    assert false, 'an empty campaign fails';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s has no recipients', empty_id), message;
  end;
  assert (select status from app_public.campaigns where id = empty_id) = 'draft', 'a failed start changes nothing';

  update app_public.campaigns set sender_id = null where id = empty_id;
  begin
    perform app_public.start_campaign(empty_id);
    assert false, 'a campaign without a sender fails';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s has no sender', empty_id), message;
  end;

  perform app_public.cancel_campaign(empty_id);
  begin
    perform app_public.start_campaign(empty_id);
    assert false, 'a cancelled campaign cannot start';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s is cancelled and cannot be started', empty_id), message;
  end;
  begin
    perform app_public.cancel_campaign(empty_id);
    assert false, 'cancelling twice fails';
  exception when object_not_in_prerequisite_state then null;
  end;
  begin
    perform app_public.resume_campaign(cid);
    assert false, 'only a paused campaign resumes';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s is running; only a paused campaign can be resumed', cid), message;
  end;
  begin
    update app_public.campaigns set status = 'draft' where id = cid;
    assert false, 'an illegal transition by hand fails';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s cannot go from running to draft', cid), message;
  end;
  begin
    update app_public.campaigns set subject = 'changed' where id = cid;
    assert false, 'a started campaign cannot be edited';
  exception when object_not_in_prerequisite_state then null;
  end;
  begin
    delete from app_public.campaign_lists where campaign_id = cid;
    assert false, 'the lists of a started campaign cannot change';
  exception when object_not_in_prerequisite_state then null;
  end;
  begin
    update app_public.messages set operation_id = gen_random_uuid() where messages.campaign_id = cid;
    assert false, 'message keys never change';
  exception when object_not_in_prerequisite_state then null;
  end;
end
$$;

-- Pause, resume, cancel.
do $$
declare
  cid bigint := (select id from started);
  accepted_id bigint;
begin
  assert (select status from app_public.pause_campaign(cid)) = 'paused', 'paused';
  assert (select status from app_public.resume_campaign(cid)) = 'running', 'resumed';
  -- One message is handed to ACS, one is being sent; cancelling cancels only the queued ones.
  select min(id) into accepted_id from app_public.messages where messages.campaign_id = cid;
  update app_public.messages set send_status = 'accepted', accepted_at = now(), send_attempts = 1 where id = accepted_id;
  update app_public.messages set send_status = 'sending', lease_expires_at = now() + interval '1 minute'
  where id = (select min(id) from app_public.messages where messages.campaign_id = cid and send_status = 'queued');
  assert (select status from app_public.cancel_campaign(cid)) = 'cancelled', 'cancelled';
  assert (select array_agg(send_status order by id) from app_public.messages where messages.campaign_id = cid)
    = array['accepted', 'sending', 'cancelled', 'cancelled'], 'queued messages are cancelled, the others kept';
  assert (select (queued, sending, accepted, cancelled) = (0, 1, 1, 2) from app_public.campaign_rollups
          where campaign_rollups.campaign_id = cid), 'rollup follows';
  assert (select cancelled_at = now() from app_public.campaigns where id = cid), 'cancelled_at';
end
$$;

-- A campaign finishes when nothing is left queued or sending; schedule and unschedule.
do $$
declare
  cid bigint;
  message text;
begin
  insert into app_public.campaigns (name, sender_id) select 'December', id from app_public.senders returning id into cid;
  insert into app_public.campaign_lists (campaign_id, list_id) select cid, id from app_public.lists where name = 'double';
  begin
    perform app_public.schedule_campaign(cid, now() - interval '1 minute');
    assert false, 'scheduling in the past fails';
  exception when invalid_parameter_value then null;
  end;
  assert (select status from app_public.schedule_campaign(cid, now() + interval '1 day')) = 'scheduled', 'scheduled';
  assert exists (
    select 1 from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
    where t.identifier = 'start_scheduled_campaign' and j.payload::jsonb = json_build_object('campaignId', cid)::jsonb
      and j.run_at = now() + interval '1 day'), 'start_scheduled_campaign is queued for the time';
  assert not app_private.start_scheduled_campaign(cid), 'not due yet: nothing happens';
  assert (select status from app_public.unschedule_campaign(cid)) = 'draft', 'unscheduled';
  begin
    perform app_public.pause_campaign(cid);
    assert false, 'a draft cannot be paused';
  exception when object_not_in_prerequisite_state then null;
  end;
  update app_public.campaigns set status = 'scheduled', scheduled_at = now() where id = cid;
  assert app_private.start_scheduled_campaign(cid), 'a due scheduled campaign starts';
  update app_public.messages set send_status = 'accepted', accepted_at = now() where messages.campaign_id = cid;
  assert (select status from app_public.campaigns where id = cid) = 'finished', 'finished when all are sent';
  assert (select finished_at from app_public.campaigns where id = cid) = now(), 'finished_at';
  begin
    perform app_public.cancel_campaign(cid);
    assert false, 'a finished campaign cannot be cancelled';
  exception when object_not_in_prerequisite_state then
    get stacked diagnostics message = message_text;
    assert message = format('campaign %s is already finished', cid), message;
  end;
end
$$;

-- A message inserted without a Message-ID gets one from the database.
do $$
declare
  inserted app_public.messages;
begin
  insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient)
  select c.id, s.id, (select id from app_public.senders), s.email from app_public.campaigns as c, app_public.subscribers as s
  where c.name = 'empty' and s.email = 'unsub@example.org'
  returning * into inserted;
  assert inserted.internet_message_id ~ '^<[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@news\.example\.com>$',
    'generated Message-ID';
  assert inserted.operation_id::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7', 'generated operation id';
end
$$;

-- The Message-ID rule: <, 36 characters of [0-9a-f-], @, a lower-case domain, >.
do $$
declare
  bad text;
begin
  foreach bad in array array['<0123456789abcdef0123456789abcdef012@news.example.com>', -- 35 before @
                              '<0123456789abcdef0123456789abcdef01234@news.example.com>', -- 37 before @
                              '<0123456789abcdef0123456789abcdef0123@news@example.com>', '<0123456789abcdef0123456789abcdef0123@News.example.com>',
                              '0123456789abcdef0123456789abcdef0123@news.example.com', '<0123456789ABCDEF0123456789abcdef0123@news.example.com>',
                              '<0123456789abcdef0123456789abcdef0123@>', '<0123456789abcdef0123456789abcdef0123@news.example.com> '] loop
    begin
      insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id)
      select c.id, s.id, (select id from app_public.senders), s.email, bad from app_public.campaigns as c, app_public.subscribers as s
      where c.name = 'empty' and s.email = 'soft@example.org';
      assert false, 'refused: ' || bad;
    exception when check_violation then null;
    end;
  end loop;
  insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id)
  select c.id, s.id, (select id from app_public.senders), s.email, '<0123456789abcdef0123456789abcdef0123@news-1.example.com>'
  from app_public.campaigns as c, app_public.subscribers as s where c.name = 'empty' and s.email = 'soft@example.org';
end
$$;

-- messages declares no foreign keys: a campaign, subscriber or sender that messages refer to cannot be deleted.
do $$
declare
  message text;
begin
  begin
    delete from app_public.subscribers where email = 'confirmed@example.org';
    assert false, 'a subscriber with messages is not deleted';
  exception when foreign_key_violation then
    get stacked diagnostics message = message_text;
    assert message = format('subscriber %s cannot be deleted: messages refer to it',
                            (select id from app_public.subscribers where email = 'confirmed@example.org')), message;
  end;
  begin
    delete from app_public.campaigns where name = 'November';
    assert false, 'a campaign with messages is not deleted';
  exception when foreign_key_violation then null;
  end;
  begin
    delete from app_public.senders;
    assert false, 'a sender with messages is not deleted';
  exception when foreign_key_violation then
    get stacked diagnostics message = message_text;
    assert message ~ '^sender [0-9]+ cannot be deleted: messages refer to it$', message;
  end;
  delete from app_public.subscribers where email = 'unconfirmed@example.org';
  assert found, 'a subscriber without messages is deleted';
end
$$;
