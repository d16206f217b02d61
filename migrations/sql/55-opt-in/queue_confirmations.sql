-- Queues a confirmation email to each of the given members of a list who may get one now, and the send job of
-- the list's confirmation sender. Who may: a member whose membership is unconfirmed (or, with
-- include_unsubscribed, unsubscribed: the public form lets a person who left ask to come back, and only the link of
-- that new email re-subscribes them), whose subscriber is enabled, who has no confirmation waiting or in flight,
-- and whose last confirmation was requested longer ago than the list's confirmation_resend_interval.
create or replace function app_private.queue_confirmations(
  list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean default false
) returns integer
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  list app_public.lists;
  sender app_public.senders;
  queued integer;
begin
  select * into list from app_public.lists as l where l.id = queue_confirmations.list_id;
  if not found then
    raise exception 'list % does not exist', queue_confirmations.list_id using errcode = 'P0002';
  end if;
  if list.confirmation_sender_id is null then
    raise exception 'list "%" (%) has no confirmation sender: set one first (mailroom lists set-opt-in % --confirmation-sender ID)',
      list.name, list.id, list.id using errcode = '55000';
  end if;
  select * into strict sender from app_public.senders as s where s.id = list.confirmation_sender_id;

  -- ON CONFLICT: a confirmation queued by a concurrent transaction for the same member (confirmations_pending_key).
  insert into app_public.confirmations (list_id, subscriber_id, sender_id, recipient, internet_message_id, requested_by)
  select list.id, s.id, sender.id, s.email, app_private.new_internet_message_id(sender.sending_domain), queue_confirmations.requested_by
  from app_public.list_memberships as lm
  join app_public.subscribers as s on s.id = lm.subscriber_id
  where lm.list_id = list.id
    and lm.subscriber_id = any(queue_confirmations.subscriber_ids)
    and (lm.status = 'unconfirmed' or (queue_confirmations.include_unsubscribed and lm.status = 'unsubscribed'))
    and s.status = 'enabled'
    and not exists (
      select 1 from app_public.confirmations as c
      where c.list_id = list.id and c.subscriber_id = s.id
        and (c.status in ('queued', 'sending') or c.created_at > now() - list.confirmation_resend_interval))
  order by s.id
  on conflict do nothing;
  get diagnostics queued = row_count;
  if queued > 0 then
    perform app_private.queue_confirmation_job(sender.id);
  end if;
  return queued;
end;
$$;

comment on function app_private.queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean) is 'Queues a confirmation email (app_public.confirmations) for each given member of the list who may get one now: unconfirmed (or unsubscribed, with include_unsubscribed), enabled, none waiting or in flight, none requested within the list''s confirmation_resend_interval; then the send job of the list''s confirmation sender. Returns how many were queued. Refuses a list without a confirmation sender (55000).';

revoke all on function app_private.queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean) from public;
