-- Sending: claims (leases, in-doubt messages first, pause and cancel at the next claim), sliding quota windows
-- per sender with reservations settled by the outcomes, 429 pauses, send windows, and template checks at start.
do $$
declare
  sender app_public.senders;
  other app_public.senders;
  list bigint;
  cid bigint;
  claimed bigint[];
  n integer;
begin
  insert into app_public.senders (name, from_address, per_minute_limit, per_hour_limit)
  values ('S', 'news@mail.example.com', 5, 8) returning * into sender;
  insert into app_public.lists (name, opt_in) values ('L', 'single') returning id into list;
  with s as (insert into app_public.subscribers (email) select format('p%s@example.org', i) from generate_series(1, 20) as i returning id)
  insert into app_public.list_memberships (list_id, subscriber_id, status) select list, id, 'confirmed' from s;
  insert into app_public.campaigns (name, sender_id, subject, html_body)
  values ('C', sender.id, 'Hi {{ subscriber.name }}', '<p>{{ list.name }}</p>') returning id into cid;
  insert into app_public.campaign_lists values (cid, list);
  perform app_public.start_campaign(cid);

  -- The minute quota caps a claim; the reservation counts until settled.
  select array_agg(message_id) into claimed from app_private.claim_messages(cid, 100, 60);
  assert cardinality(claimed) = 5, 'claims up to the minute quota';
  assert (select bool_and(send_status = 'sending' and send_attempts = 1 and lease_expires_at > now())
          from app_public.messages where id = any(claimed)), 'claimed messages are leased';
  assert app_private.sender_capacity(sender) = 0, 'quota used';
  assert (select count(*) from app_private.claim_messages(cid, 100, 60)) = 0, 'nothing more this minute';
  assert app_private.next_send_at(cid) > now() + interval '59 seconds', 'next send when the batch leaves the minute window';

  -- Outcomes: accepted, failed, unknown (stays sending, leased for the backoff), throttled (queued, not counted).
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'accepted', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[2], 'outcome', 'failed', 'code', 'InvalidRecipient', 'error', 'no such mailbox',
                       'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[3], 'outcome', 'unknown', 'error', 'timeout', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[4], 'outcome', 'throttled', 'error', '429', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[5], 'outcome', 'not_sent', 'senderSendId', (select max(id) from app_private.sender_sends))), 1000);
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['accepted', 'failed', 'sending', 'queued', 'queued'], 'outcomes recorded';
  assert (select send_status_reason from app_public.messages where id = claimed[2]) = 'InvalidRecipient', 'ACS code kept';
  assert (select lease_expires_at between now() + interval '0.9 seconds' and now() + interval '1.1 seconds'
          from app_public.messages where id = claimed[3]), 'unknown: looked up after the backoff';
  assert (select send_attempts from app_public.messages where id = claimed[4]) = 0, 'a 429 is not an attempt';
  assert (select (sends, settled) = (3, true) from app_private.sender_sends), 'reservation settled: 3 may count at ACS';
  assert app_private.sender_capacity(sender) = 2, 'two slots back';

  -- A 429 pauses the sender.
  perform app_private.pause_sender(sender.id, 30000, 'TooManyRequests');
  assert app_private.sender_capacity(sender) = 0, 'paused';
  assert app_private.sender_available_at(sender) between now() + interval '29 seconds' and now() + interval '31 seconds', 'until Retry-After';
  delete from app_private.sender_throttles;

  -- The hour quota: 8 minus the 3 still in the hour, whatever the minute says.
  update app_private.sender_sends set ends_at = now() - interval '2 minutes';
  assert app_private.sender_capacity(sender) = 5, 'minute window slid';
  insert into app_private.sender_sends (sender_id, sends, ends_at, settled) values (sender.id, 4, now() - interval '5 minutes', true);
  assert app_private.sender_capacity(sender) = 1, 'the hour window caps';

  -- The day quota: the 7 sends of the last 24 hours count, the 50 of the day before do not.
  update app_public.senders set per_minute_limit = null, per_hour_limit = null, per_day_limit = 10
  where id = sender.id returning * into sender;
  insert into app_private.sender_sends (sender_id, sends, ends_at, settled) values (sender.id, 50, now() - interval '25 hours', true);
  assert app_private.sender_capacity(sender) = 3, 'the day window caps';
  delete from app_private.sender_sends where ends_at < now() - interval '1 day';
  update app_public.senders set per_minute_limit = 5, per_hour_limit = 8, per_day_limit = null
  where id = sender.id returning * into sender;

  -- In doubt: a lease that ended comes back first, flagged for a look-up, with its sender.
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = claimed[3];
  assert (select array_agg(message_id::text || ':' || look_up::text) from app_private.claim_messages(cid, 1, 60))
         = array[claimed[3]::text || ':true'], 'in-doubt message first';
  perform app_private.record_send_outcomes(jsonb_build_array(jsonb_build_object('id', claimed[3], 'outcome', 'not_found')));
  assert (select (send_status, send_attempts) = ('queued', 1) from app_public.messages where id = claimed[3]), 'unknown to ACS: queued';

  -- Pause and cancel take effect at the next claim.
  delete from app_private.sender_sends;
  perform app_public.pause_campaign(cid);
  assert (select count(*) from app_private.claim_messages(cid, 100, 60)) = 0, 'paused: nothing claimed';
  perform app_public.resume_campaign(cid);
  select array_agg(message_id) into claimed from app_private.claim_messages(cid, 2, 60);
  perform app_public.cancel_campaign(cid);
  assert (select count(*) from app_private.claim_messages(cid, 100, 60)) = 0, 'cancelled: nothing claimed';
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'accepted'), jsonb_build_object('id', claimed[2], 'outcome', 'throttled')));
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['accepted', 'cancelled'], 'in flight ends accepted; handed back ends cancelled';
  assert (select count(*) from app_public.messages where campaign_id = cid and send_status in ('queued', 'sending')) = 0, 'nothing left';
  assert app_private.next_send_at(cid) is null, 'nothing to do';

  -- Several senders: the one with more capacity takes more.
  insert into app_public.senders (name, from_address, per_minute_limit, per_hour_limit)
  values ('O', 'other@mail.example.com', 3, null) returning * into other;
  update app_public.senders set per_minute_limit = 6, per_hour_limit = null where id = sender.id;
  delete from app_private.sender_sends;
  insert into app_public.campaigns (name, sender_id, subject, html_body) values ('D', other.id, 'Hi', '<p>x</p>') returning id into cid;
  insert into app_public.campaign_lists values (cid, list);
  insert into app_public.campaign_senders values (cid, sender.id);
  perform app_public.start_campaign(cid);
  assert (select array_agg(x.k order by x.k) from (select count(*)::int as k from app_private.claim_messages(cid, 100, 60) group by sender_id) as x)
         = array[3, 6], 'each sender up to its capacity';
end
$$;

-- Send windows: the next opening in the sender's time zone, across midnight.
do $$
declare
  sender app_public.senders;
begin
  insert into app_public.senders (name, from_address, per_minute_limit, per_hour_limit, send_window_start, send_window_end, send_window_time_zone)
  values ('W', 'w@mail.example.com', null, null, '22:00', '06:00', 'Europe/Paris') returning * into sender;
  assert app_private.sender_available_at(sender, '2026-11-27T12:00:00+01:00') = '2026-11-27T22:00:00+01:00', 'opens tonight';
  assert app_private.sender_available_at(sender, '2026-11-27T23:00:00+01:00') = '2026-11-27T23:00:00+01:00', 'open now';
  assert app_private.sender_available_at(sender, '2026-11-28T06:00:00+01:00') = '2026-11-28T22:00:00+01:00', 'closed at six';
  assert app_private.sender_capacity(sender, '2026-11-27T12:00:00+01:00') = 0, 'no capacity while closed';
end
$$;

-- Templates: unknown fields and stray braces stop a start; valid ones pass.
do $$
begin
  assert app_public.template_errors('Hi {{ subscriber.name }} {{{ subscriber.attributes.city }}} {{unsubscribe_url}}') = '{}', 'valid';
  assert app_public.template_errors('Hi {{ subscriber.nmae }}') = array['line 1: unknown field "subscriber.nmae" in {{ subscriber.nmae }}'], 'unknown field';
  assert app_public.template_errors('Hi {{ subscriber.name }') = array['line 1: unbalanced braces: "{{" outside a {{ field }}'], 'stray braces';
  assert app_public.template_errors(E'Hi\n\n{{subscriber.name}}\n}} {{ list.nom\n}}') = array['line 4: unbalanced braces: "}}" outside a {{ field }}', 'line 4: unknown field "list.nom" in {{ list.nom }}'], 'lines';
  assert app_public.template_errors('') = '{}', 'empty';
end
$$;
