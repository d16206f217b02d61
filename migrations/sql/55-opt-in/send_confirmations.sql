-- mailroom lists send-confirmations LIST, GraphQL sendConfirmations: a confirmation email to every unconfirmed
-- member of a double opt-in list who may get one now (see app_private.queue_confirmations).
create or replace function app_public.send_confirmations(list_id bigint) returns app_public.confirmation_request_result
language plpgsql volatile security definer
set search_path to pg_catalog, public, pg_temp
as $$
declare
  list app_public.lists;
  result app_public.confirmation_request_result;
  eligible bigint[];
begin
  select * into list from app_public.lists as l where l.id = send_confirmations.list_id;
  if not found then
    raise exception 'list % does not exist', send_confirmations.list_id using errcode = 'P0002';
  end if;
  if list.opt_in <> 'double' then
    raise exception 'list "%" (%) is single opt-in: its members need no confirmation', list.name, list.id using errcode = '55000';
  end if;
  if list.confirmation_sender_id is null then
    raise exception 'list "%" (%) has no confirmation sender: set one first (mailroom lists set-opt-in % --confirmation-sender ID)',
      list.name, list.id, list.id using errcode = '55000';
  end if;
  with member as (
    select lm.subscriber_id, s.status <> 'enabled' as blocklisted,
      exists (select 1 from app_public.confirmations as c
              where c.list_id = list.id and c.subscriber_id = lm.subscriber_id and c.status in ('queued', 'sending')) as pending,
      exists (select 1 from app_public.confirmations as c
              where c.list_id = list.id and c.subscriber_id = lm.subscriber_id
                and c.created_at > now() - list.confirmation_resend_interval) as recent
    from app_public.list_memberships as lm
    join app_public.subscribers as s on s.id = lm.subscriber_id
    where lm.list_id = list.id and lm.status = 'unconfirmed'
  )
  select count(*) filter (where not m.blocklisted and m.pending),
         count(*) filter (where not m.blocklisted and not m.pending and m.recent),
         count(*) filter (where m.blocklisted),
         array_agg(m.subscriber_id order by m.subscriber_id) filter (where not m.blocklisted and not m.pending and not m.recent)
  into result.already_pending, result.sent_recently, result.blocklisted, eligible
  from member as m;
  result.queued := case when eligible is null then 0
                        else app_private.queue_confirmations(list.id, eligible, 'admin') end;
  return result;
end;
$$;

comment on function app_public.send_confirmations(list_id bigint) is 'Queues a confirmation email, through the list''s confirmation sender and its quotas, to each unconfirmed member of a double opt-in list who has none waiting or in flight and none requested within the list''s confirmation_resend_interval (blocklisted subscribers never get one). Returns how many were queued and why the others were not.';

revoke all on function app_public.send_confirmations(list_id bigint) from public;
grant execute on function app_public.send_confirmations(list_id bigint) to :DATABASE_ADMIN;
