-- Sending: the quota reservation of a claim whose worker died before recording it. Its messages come back in
-- doubt when the lease ends and are looked up; each one ACS does not know gives its slot back, each one found
-- stays counted, one whose look-up failed stays open; the reservation is settled, at the end of the lease, once
-- none is left in doubt.
do $$
declare
  sender app_public.senders;
  list bigint;
  cid bigint;
  claimed bigint[];
  again bigint[];
  reservation app_private.sender_sends;
  lease_end timestamptz;
begin
  insert into app_public.senders (name, from_address, per_minute_limit, per_hour_limit)
  values ('S', 'news@mail.example.com', null, 10) returning * into sender;
  insert into app_public.lists (name, opt_in) values ('L', 'single') returning id into list;
  with s as (insert into app_public.subscribers (email) select format('p%s@example.org', i) from generate_series(1, 6) as i returning id)
  insert into app_public.list_memberships (list_id, subscriber_id, status) select list, id, 'confirmed' from s;
  insert into app_public.campaigns (name, sender_id, subject, html_body)
  values ('C', sender.id, 'Hi {{ subscriber.name }}', '<p>{{ list.name }}</p>') returning id into cid;
  insert into app_public.campaign_lists values (cid, list);
  perform app_public.start_campaign(cid);

  -- A claim of 5, reserved with its messages; its worker dies: nothing is recorded.
  select array_agg(message_id order by message_id) into claimed from app_private.claim_messages(cid, 5, 60);
  select * into reservation from app_private.sender_sends;
  assert (reservation.sends, reservation.settled, reservation.message_ids) = (5, false, claimed), 'reserved with its messages';
  assert app_private.sender_capacity(sender) = 5, 'five left in the hour';
  lease_end := reservation.ends_at;

  -- The lease ends; another worker reclaims three of them and looks them up: found, unknown to ACS, look-up failed.
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = any(claimed);
  select array_agg(message_id order by message_id) into again from app_private.claim_messages(cid, 3, 60) where look_up and sender_send_id is null;
  assert again = claimed[1:3], 'the first three come back for a look-up';
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'accepted'),
    jsonb_build_object('id', claimed[2], 'outcome', 'not_found'),
    jsonb_build_object('id', claimed[3], 'outcome', 'unknown', 'error', 'timeout')), 1000);
  select * into reservation from app_private.sender_sends where id = reservation.id;
  assert (reservation.sends, reservation.settled, reservation.message_ids, reservation.ends_at)
         = (4, false, array[claimed[3], claimed[4], claimed[5]], lease_end), 'one given back; three still in doubt';
  assert app_private.sender_capacity(sender) = 6, 'its slot is free again';

  -- Recording the same look-ups again changes nothing.
  perform app_private.record_send_outcomes(jsonb_build_array(jsonb_build_object('id', claimed[2], 'outcome', 'not_found')));
  assert (select sends from app_private.sender_sends where id = reservation.id) = 4, 'given back once';

  -- The other two: neither was sent.
  select array_agg(message_id order by message_id) into again from app_private.claim_messages(cid, 2, 60) where look_up;
  assert again = claimed[4:5], 'the two left (the failed look-up waits for its backoff)';
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[4], 'outcome', 'not_found'), jsonb_build_object('id', claimed[5], 'outcome', 'not_found')));
  select * into reservation from app_private.sender_sends where id = reservation.id;
  assert (reservation.sends, reservation.settled, reservation.message_ids) = (2, false, array[claimed[3]]), 'one left in doubt';

  -- The failed look-up, again: found. Settled at the end of the lease, counting the two ACS has.
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = claimed[3];
  perform app_private.record_send_outcomes(jsonb_build_array(jsonb_build_object('id', claimed[3], 'outcome', 'accepted')));
  select * into reservation from app_private.sender_sends where id = reservation.id;
  assert (reservation.sends, reservation.settled, reservation.message_ids, reservation.ends_at)
         is not distinct from (2, true, null::bigint[], lease_end), 'settled';
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['accepted', 'queued', 'accepted', 'queued', 'queued'], 'found: accepted; unknown to ACS: queued again';

  -- A claim recorded by its own worker is settled as before (429s and messages never sent given back); a look-up
  -- afterwards of one of its messages in doubt changes that reservation no more.
  delete from app_private.sender_sends;
  select array_agg(message_id order by message_id) into claimed from app_private.claim_messages(cid, 4, 60);
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'accepted', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[2], 'outcome', 'unknown', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[3], 'outcome', 'throttled', 'senderSendId', (select max(id) from app_private.sender_sends)),
    jsonb_build_object('id', claimed[4], 'outcome', 'not_sent', 'senderSendId', (select max(id) from app_private.sender_sends))), 1000);
  assert (select (sends, settled, message_ids) is not distinct from (2, true, null::bigint[]) from app_private.sender_sends), 'batch settled';
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = claimed[2];
  perform app_private.claim_messages(cid, 1, 60);
  perform app_private.record_send_outcomes(jsonb_build_array(jsonb_build_object('id', claimed[2], 'outcome', 'not_found')));
  assert (select (sends, settled) = (2, true) from app_private.sender_sends), 'a settled batch keeps what may have counted';

  -- A dead claim none of whose messages reached ACS leaves no reservation.
  delete from app_private.sender_sends;
  select array_agg(message_id order by message_id) into claimed from app_private.claim_messages(cid, 10, 60);
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = any(claimed);
  perform app_private.record_send_outcomes(
    (select jsonb_agg(jsonb_build_object('id', message_id, 'outcome', 'not_found')) from app_private.claim_messages(cid, 10, 60)));
  assert (select count(*) from app_private.sender_sends) = 0, 'all given back';
  assert app_private.sender_capacity(sender) = 10, 'the whole hour free';
end
$$;
