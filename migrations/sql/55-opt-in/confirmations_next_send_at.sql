create or replace function app_private.confirmations_next_send_at(sender_id bigint) returns timestamptz
language sql stable
set search_path to pg_catalog, public, pg_temp
as $$
  select least(
    (select min(c.lease_expires_at) from app_public.confirmations as c
     where c.sender_id = confirmations_next_send_at.sender_id and c.status = 'sending'),
    (select app_private.sender_available_at(s)
     from app_public.senders as s
     where s.id = confirmations_next_send_at.sender_id
       and exists (select 1 from app_public.confirmations as c
                   where c.sender_id = confirmations_next_send_at.sender_id and c.status = 'queued')))
$$;

comment on function app_private.confirmations_next_send_at(sender_id bigint) is 'When the sender''s confirmation job has work again: the end of the earliest lease of a confirmation in doubt, or when the sender has room again (quota windows, send window, 429 pause) for its queued ones; NULL when it has none.';

revoke all on function app_private.confirmations_next_send_at(sender_id bigint) from public;
