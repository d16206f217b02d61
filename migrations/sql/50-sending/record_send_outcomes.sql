create or replace function app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer default 5000, max_attempts integer default 10)
returns void as $$
  -- outcomes: [{"id": message id, "outcome": ..., "code"?, "error"?, "retryAfterMs"?, "senderSendId"?}, ...] where outcome is
  --   accepted   ACS answered 202, or a look-up found the operation
  --   failed     ACS refused the message for good (4xx other than 429): code and error are ACS's
  --   unknown    5xx, timeout or network error: stays 'sending' until its lease ends after a backoff, then is looked up
  --   not_found  a look-up found no such operation: nothing was sent; queued again
  --   throttled  429: queued again (the caller pauses the sender first: app_private.pause_sender)
  --   not_sent   claimed but never handed to ACS (the worker stopped): queued again
  --   not_looked_up  a message in doubt whose look-up was never made (the worker stopped, or the sender has no
  --              connection string): stays 'sending', in doubt, its lease ending after retryAfterMs (at once
  --              without); only a look-up ever queues a message in doubt again
  -- and senderSendId is the claim's reservation for a message sent under it (a look-up has none).
  -- Reservations (app_private.sender_sends) settled:
  --   a batch sent under its reservation: the reservation ends now, counting what may have counted at ACS (all
  --     but 429s and messages never sent);
  --   look-ups of messages whose claim was never recorded (its worker died): that claim's reservation, found by
  --     its list of open messages, gives back each message ACS did not know (it was never sent), keeps each one
  --     found, and is settled (its end unchanged: the end of the lease) once none of its messages is in doubt.
  with o as (
    select (x ->> 'id')::bigint as id, x ->> 'outcome' as outcome, x ->> 'code' as code, x ->> 'error' as error,
           (x ->> 'retryAfterMs')::bigint as retry_after_ms, (x ->> 'senderSendId')::bigint as sender_send_id
    from jsonb_array_elements(outcomes) as x
  ),
  updated as (
    update app_public.messages as m set
      send_status = case
        when o.outcome = 'accepted' then 'accepted'
        when o.outcome = 'failed' then 'failed'
        when o.outcome in ('unknown', 'not_looked_up') then 'sending'
        when c.status = 'cancelled' then 'cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      send_status_reason = case
        when o.outcome = 'failed' then o.code
        when o.outcome in ('unknown', 'not_looked_up') then null
        when o.outcome = 'accepted' then null
        when c.status = 'cancelled' then 'campaign cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'attempts exhausted'
        else null end,
      accepted_at = case when o.outcome = 'accepted' then coalesce(m.accepted_at, now()) else m.accepted_at end,
      lease_expires_at = case
        when o.outcome = 'unknown'
          then now() + least(interval '10 minutes',
                             interval '1 millisecond' * retry_base_ms
                               * power(2, greatest(m.send_attempts - 1, 0)))
        when o.outcome = 'not_looked_up' then now() + interval '1 millisecond' * coalesce(o.retry_after_ms, 0)
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(m.send_attempts - 1, 0) else m.send_attempts end,
      last_error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_looked_up' and o.error is not null
          then left(coalesce(o.code || ': ', '') || o.error || '; not looked up yet', 2000)
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        else m.last_error end
    from o, app_public.campaigns as c
    where m.id = o.id and c.id = m.campaign_id and m.send_status = 'sending'
    returning m.id, m.sender_id
  ),
  concerned as (
    select o.id as message_id, o.outcome, o.sender_send_id as reservation, true as sent
    from o
    where o.sender_send_id is not null
    union all
    select u.id, o.outcome, s.id, false
    from o
    join updated as u on u.id = o.id
    join app_private.sender_sends as s on s.sender_id = u.sender_id and not s.settled and u.id = any(s.message_ids)
    where o.sender_send_id is null
  ),
  locked as (
    -- As they are now, in id order (two callers never deadlock); one settled meanwhile is left alone.
    select s.id, s.sends, s.message_ids
    from app_private.sender_sends as s
    where s.id in (select c.reservation from concerned as c) and not s.settled
    order by s.id
    for update
  ),
  counted as (
    select l.id,
           l.sends - count(*) filter (
             where (case when c.sent then c.outcome in ('throttled', 'not_sent') else c.outcome = 'not_found' end)
               and (l.message_ids is null or c.message_id = any(l.message_ids))) as sends,
           bool_or(c.sent) as closes,
           l.message_ids,
           array_agg(c.message_id) filter (where c.outcome not in ('unknown', 'not_looked_up')) as resolved
    from locked as l
    join concerned as c on c.reservation = l.id
    group by l.id, l.sends, l.message_ids
  ),
  change as (
    select x.id, x.sends, x.closes,
           case when x.closes then null
                else array(select m from unnest(x.message_ids) as m
                           where m <> all(coalesce(x.resolved, '{}'::bigint[])) order by m) end as still_open
    from counted as x
  ),
  kept as (
    update app_private.sender_sends as s set
      sends = ch.sends,
      ends_at = case when ch.closes then now() else s.ends_at end,
      settled = ch.closes or cardinality(ch.still_open) = 0,
      message_ids = case when ch.closes or cardinality(ch.still_open) = 0 then null else ch.still_open end
    from change as ch
    where s.id = ch.id and ch.sends > 0
  )
  delete from app_private.sender_sends as s
  using change as ch
  where s.id = ch.id and ch.sends <= 0;
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) is 'Records what happened to claimed messages, in one statement (see the outcomes in the body), and settles the quota reservations: a batch''s own when it was sent, and for look-ups the reservation of a claim whose worker died before recording it, which gives back the messages ACS does not know. Only messages still ''sending'' are changed. Takes no sender lock (claims take those before message and rollup locks; this takes message, rollup and reservation locks, the reservations in id order), so the two never deadlock.';

revoke all on function app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) from public;
