-- What happened to claimed confirmation emails, and the settlement of their quota reservations, as
-- app_private.record_send_outcomes does for messages:
--   accepted        ACS answered 202, or a look-up found the operation
--   failed          ACS refused it for good (a 4xx other than 429): code and error are ACS's
--   unknown         5xx, timeout, network error: in doubt, looked up when its lease ends (after a backoff)
--   not_found       a look-up found no such operation: nothing was sent; queued again (failed after max_attempts)
--   throttled       429, or the key refused: queued again (the caller pauses the sender first)
--   not_sent        never handed to ACS (the worker stopped): queued again
--   not_looked_up   in doubt and not looked up (the worker stopped, no connection string): stays in doubt
-- Outcomes with senderSendId were sent under that reservation now: it ends now, counting all but throttled and
-- not_sent ones. Look-ups (no senderSendId) of a claim never recorded (its worker died) give a not_found one back
-- to that claim's reservation, which is settled once none of its confirmations is in doubt.
create or replace function app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer default 5000, max_attempts integer default 10)
returns void
language plpgsql volatile
set search_path to pg_catalog, public, pg_temp
as $$
declare
  changed bigint[];
  looked_up bigint[];
begin
  with o as (
    select (x ->> 'id')::bigint as id, x ->> 'outcome' as outcome, x ->> 'code' as code, x ->> 'error' as error,
           (x ->> 'retryAfterMs')::bigint as retry_after_ms
    from jsonb_array_elements(outcomes) as x
  ),
  updated as (
    update app_public.confirmations as c set
      status = case
        when o.outcome = 'accepted' then 'accepted'
        when o.outcome = 'failed' then 'failed'
        when o.outcome in ('unknown', 'not_looked_up') then 'sending'
        when o.outcome = 'not_found' and c.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_found' and c.send_attempts >= max_attempts then 'still unknown to ACS after ' || c.send_attempts || ' attempts'
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        when o.outcome = 'accepted' then null
        else c.error end,
      lease_expires_at = case
        when o.outcome = 'unknown'
          then now() + least(interval '10 minutes', interval '1 millisecond' * retry_base_ms * power(2, greatest(c.send_attempts - 1, 0)))
        when o.outcome = 'not_looked_up' then now() + interval '1 millisecond' * coalesce(o.retry_after_ms, 0)
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(c.send_attempts - 1, 0) else c.send_attempts end,
      sent_at = case
        when o.outcome in ('accepted', 'failed') or (o.outcome = 'not_found' and c.send_attempts >= max_attempts) then now()
        else c.sent_at end
    from o
    where c.id = o.id and c.status = 'sending'
    returning c.id
  )
  select array_agg(u.id) into changed from updated as u;

  -- The batch sent now: its reservation ends now and counts what may have counted at ACS.
  with sent as (
    select (x ->> 'senderSendId')::bigint as id,
           count(*) filter (where x ->> 'outcome' not in ('throttled', 'not_sent')) as sends
    from jsonb_array_elements(outcomes) as x
    where x ->> 'senderSendId' is not null
    group by 1
  ),
  kept as (
    update app_private.sender_sends as s set sends = sent.sends, ends_at = now(), settled = true
    from sent where s.id = sent.id and not s.settled and sent.sends > 0
  )
  delete from app_private.sender_sends as s using sent where s.id = sent.id and not s.settled and sent.sends = 0;

  -- Look-ups of a claim whose worker died before recording it: what ACS does not know was never sent and gives
  -- its slot back; the reservation is settled once none of its confirmations is in doubt.
  with looked as (
    select c.sender_send_id as id, count(*) filter (where x ->> 'outcome' = 'not_found') as not_found
    from jsonb_array_elements(outcomes) as x
    join app_public.confirmations as c on c.id = (x ->> 'id')::bigint
    where x ->> 'senderSendId' is null and c.id = any(changed) and c.sender_send_id is not null
    group by 1
  ),
  given_back as (
    update app_private.sender_sends as s set sends = s.sends - l.not_found
    from looked as l where s.id = l.id and not s.settled and l.not_found > 0
  )
  select array_agg(l.id) into looked_up from looked as l;
  delete from app_private.sender_sends as s where s.id = any(looked_up) and not s.settled and s.sends <= 0;
  update app_private.sender_sends as s set settled = true
  where s.id = any(looked_up) and not s.settled
    and not exists (select 1 from app_public.confirmations as c where c.sender_send_id = s.id and c.status = 'sending');
end;
$$;

comment on function app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) is 'Records what happened to claimed confirmation emails (accepted, failed, unknown, not_found, throttled, not_sent, not_looked_up; see the file) and settles their quota reservations in app_private.sender_sends as record_send_outcomes does for messages. Only confirmations still ''sending'' are changed.';

revoke all on function app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) from public;
