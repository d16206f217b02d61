-- Sending: a message in doubt whose look-up is never made (the worker stops first, or the sender has no
-- connection string) is recorded not_looked_up: it stays 'sending', in doubt, until a later claim looks it up.
-- It is never queued without a look-up (it may have reached ACS), even in a cancelled campaign, and the
-- reservation of its dead claim keeps waiting for it.
do $$
declare
  sender app_public.senders;
  list bigint;
  cid bigint;
  claimed bigint[];
  again bigint[];
  fresh bigint;
  reservation app_private.sender_sends;
begin
  insert into app_public.senders (name, from_address, per_minute_limit, per_hour_limit)
  values ('S', 'news@mail.example.com', null, 10) returning * into sender;
  insert into app_public.lists (name, opt_in) values ('L', 'single') returning id into list;
  with s as (insert into app_public.subscribers (email) select format('p%s@example.org', i) from generate_series(1, 3) as i returning id)
  insert into app_public.list_memberships (list_id, subscriber_id, status) select list, id, 'confirmed' from s;
  insert into app_public.campaigns (name, sender_id, subject, html_body)
  values ('C', sender.id, 'Hi {{ subscriber.name }}', '<p>{{ list.name }}</p>') returning id into cid;
  insert into app_public.campaign_lists values (cid, list);
  perform app_public.start_campaign(cid);

  -- A claim of 3 whose worker dies; the lease ends and the three come back for a look-up.
  select array_agg(message_id order by message_id) into claimed from app_private.claim_messages(cid, 3, 60);
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = any(claimed);
  select array_agg(message_id order by message_id) into again from app_private.claim_messages(cid, 3, 60) where look_up;
  assert again = claimed, 'all three to look up';

  -- The worker stops before looking up the first two; the third has no connection string for a minute.
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'not_looked_up'),
    jsonb_build_object('id', claimed[2], 'outcome', 'not_looked_up'),
    jsonb_build_object('id', claimed[3], 'outcome', 'not_looked_up', 'code', 'NoConnectionString', 'error', 'none', 'retryAfterMs', 60000)));
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['sending', 'sending', 'sending'], 'all still in doubt';
  assert (select array_agg(send_attempts order by id) from app_public.messages where id = any(claimed)) = array[1, 1, 1],
         'the attempt that may have reached ACS still counts';
  assert (select bool_and(lease_expires_at <= now()) from app_public.messages where id = any(claimed[1:2])),
         'looked up at the next claim';
  assert (select lease_expires_at >= now() + interval '59 seconds' from app_public.messages where id = claimed[3]),
         'looked up in a minute';
  select * into reservation from app_private.sender_sends;
  assert (reservation.sends, reservation.settled, reservation.message_ids) = (3, false, claimed), 'the reservation still waits for all three';
  assert app_private.next_send_at(cid) <= now(), 'the job has work now';

  -- Cancelled meanwhile: the next claim still returns the two for their look-up, and sends nothing anew; a
  -- second stop leaves them in doubt again, not cancelled.
  perform app_public.cancel_campaign(cid);
  select array_agg(message_id order by message_id) filter (where look_up), count(*) filter (where not look_up)
  into again, fresh from app_private.claim_messages(cid, 3, 60);
  assert (again, fresh) = (claimed[1:2], 0::bigint), 'the two whose lease ended, for their look-up; nothing else';
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'not_looked_up'), jsonb_build_object('id', claimed[2], 'outcome', 'not_looked_up')));
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['sending', 'sending', 'sending'], 'in doubt in a cancelled campaign too';

  -- Looked up at last: found, and unknown to ACS (given back, and cancelled rather than sent).
  update app_public.messages set lease_expires_at = now() - interval '1 second' where id = any(claimed);
  perform app_private.claim_messages(cid, 3, 60);
  perform app_private.record_send_outcomes(jsonb_build_array(
    jsonb_build_object('id', claimed[1], 'outcome', 'accepted'),
    jsonb_build_object('id', claimed[2], 'outcome', 'not_found'),
    jsonb_build_object('id', claimed[3], 'outcome', 'accepted')));
  assert (select array_agg(send_status order by id) from app_public.messages where id = any(claimed))
         = array['accepted', 'cancelled', 'accepted'], 'each as its look-up says';
  select * into reservation from app_private.sender_sends;
  assert (reservation.sends, reservation.settled, reservation.message_ids) is not distinct from (2, true, null::bigint[]),
         'settled: the two ACS has';
end
$$;
