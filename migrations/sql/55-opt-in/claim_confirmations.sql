-- The send_confirmations job's claim: confirmation emails of one sender, within the sender's quotas and send window,
-- counted in the same reservations as campaign messages (app_private.sender_sends), so that a sender's
-- per-minute, per-hour and per-day limits hold for everything it sends.
create or replace function app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer)
returns table (
  confirmation_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text, recipient text,
  look_up boolean, subscriber_name text, list_id bigint, list_name text,
  confirmation_subject text, confirmation_html text, confirmation_text text
)
language plpgsql volatile
set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  sender app_public.senders;
  lease interval := make_interval(secs => lease_seconds);
  room integer := max_confirmations;
  take integer;
  candidates bigint[];
  sendable bigint[];
  reservation bigint;
begin
  -- The sender's row first, as claim_messages takes it: reservations of every process and of campaigns are
  -- serialised per sender, and the capacity below sees all of them.
  select * into sender from app_public.senders as s where s.id = claim_confirmations.sender_id for update;
  if not found then
    return;
  end if;

  -- Confirmations whose outcome is unknown (a 5xx, a timeout, a worker that died) are looked up at ACS when their
  -- lease ends, never sent again before.
  return query
  with in_doubt as (
    select c.id from app_public.confirmations as c
    where c.sender_id = sender.id and c.status = 'sending' and c.lease_expires_at <= now()
    order by c.lease_expires_at, c.id
    limit room
    for update skip locked
  )
  update app_public.confirmations as c set lease_expires_at = now() + lease
  from in_doubt
  where c.id = in_doubt.id
  returning c.id, c.sender_send_id, c.operation_id, c.internet_message_id, c.recipient, true,
    null::text, c.list_id, null::text, null::text, null::text, null::text;
  get diagnostics take = row_count;
  room := room - take;
  take := least(room, app_private.sender_capacity(sender));
  if take <= 0 then
    return;
  end if;

  select array_agg(q.id order by q.id) into candidates
  from (
    select c.id from app_public.confirmations as c
    where c.sender_id = sender.id and c.status = 'queued'
    order by c.id
    limit take
    for update skip locked
  ) as q;
  if candidates is null then
    return;
  end if;

  -- What may no longer be sent is cancelled: its link would confirm nobody now (app_private.confirmation_link_state:
  -- the member confirmed or left meanwhile, the subscriber was blocklisted, or is no member any more).
  with state as (
    select x.id, app_private.confirmation_link_state(x.id) as state from unnest(candidates) as x(id)
  ),
  cancelled as (
    update app_public.confirmations as c
    set status = 'cancelled', sent_at = now(), error = 'not sent: ' || st.state
    from state as st
    where c.id = st.id and st.state <> 'confirmable'
    returning c.id
  )
  select array(select unnest(candidates) except select cancelled.id from cancelled order by 1) into sendable;
  if cardinality(sendable) = 0 then
    return;
  end if;

  insert into app_private.sender_sends (sender_id, sends, ends_at)
  values (sender.id, cardinality(sendable), now() + lease)
  returning id into reservation;

  return query
  update app_public.confirmations as c
  set status = 'sending', lease_expires_at = now() + lease, send_attempts = c.send_attempts + 1, sender_send_id = reservation
  from app_public.lists as l, app_public.subscribers as s
  where c.id = any(sendable) and l.id = c.list_id and s.id = c.subscriber_id
  returning c.id, reservation, c.operation_id, c.internet_message_id, c.recipient, false,
    s.name, l.id, l.name, l.confirmation_subject, l.confirmation_html, l.confirmation_text;
end;
$$;

comment on function app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer) is 'Claims up to max_confirmations confirmation emails of the sender for one worker, with a lease: first those in doubt whose lease ended (look_up: ask ACS before anything else), then queued ones within the sender''s capacity (quota windows, send window, 429 pause), reserved in app_private.sender_sends like campaign messages. Queued ones that may no longer be sent (the member confirmed or left, the subscriber was blocklisted) are cancelled instead.';

revoke all on function app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer) from public;
