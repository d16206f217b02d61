-- POST /subscribe/LIST_ID (src/http/opt-in.ts): one person asks to be on a list whose public_subscribe is on.
-- The HTTP answer is the same whatever this returns (no enumeration); the outcome is for the log only.
--
--   new subscriber or new member   double opt-in: unconfirmed, and a confirmation email is queued
--                                  single opt-in: confirmed at once, no email
--   unconfirmed member             a confirmation is queued, unless one is waiting or was requested within the
--                                  list's confirmation_resend_interval
--   confirmed member               nothing
--   unsubscribed member            a confirmation is queued (when the list has a confirmation sender); the
--                                  membership stays unsubscribed until that email's link is used
--   blocklisted subscriber         nothing, no email
-- An existing subscriber's name is never changed by the form.
create or replace function app_private.subscribe(list_id bigint, email text, name text) returns text
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  list app_public.lists;
  address text := btrim(email);
  problem text := app_hidden.subscriber_email_problem(btrim(email));
  subscriber app_public.subscribers;
  membership app_public.list_memberships;
  queued integer;
begin
  select * into list from app_public.lists as l where l.id = subscribe.list_id and l.public_subscribe;
  if not found then
    raise exception 'list % does not exist or takes no public subscriptions', subscribe.list_id using errcode = 'P0002';
  end if;
  if problem is not null then
    raise exception '%', problem using errcode = '22023';
  end if;

  insert into app_public.subscribers (email, name) values (address, left(coalesce(btrim(subscribe.name), ''), 200))
  on conflict ((lower(email))) do nothing
  returning * into subscriber;
  if not found then
    select * into strict subscriber from app_public.subscribers as s where lower(s.email) = lower(address);
  end if;
  if subscriber.status <> 'enabled' then
    return 'blocklisted: nothing done';
  end if;

  insert into app_public.list_memberships (list_id, subscriber_id, status)
  values (list.id, subscriber.id, case when list.opt_in = 'single' then 'confirmed' else 'unconfirmed' end)
  on conflict do nothing
  returning * into membership;
  if found then
    if list.opt_in = 'single' then
      return 'subscribed';
    end if;
    queued := app_private.queue_confirmations(list.id, array[subscriber.id], 'subscribe form');
    return 'new member: confirmation queued';
  end if;

  select * into strict membership from app_public.list_memberships as lm
  where lm.list_id = list.id and lm.subscriber_id = subscriber.id;
  if membership.status = 'confirmed' or (membership.status = 'unconfirmed' and list.opt_in = 'single') then
    return 'already a member: nothing done';
  elsif membership.status = 'unsubscribed' and list.confirmation_sender_id is null then
    return 'unsubscribed, and the list has no confirmation sender: nothing done';
  end if;
  queued := app_private.queue_confirmations(list.id, array[subscriber.id], 'subscribe form', include_unsubscribed => true);
  return format('%s member: %s', membership.status,
                case when queued > 0 then 'confirmation queued' else 'a confirmation is waiting or was requested recently' end);
end;
$$;

comment on function app_private.subscribe(list_id bigint, email text, name text) is 'The public subscribe form: adds the address to the list (a new subscriber if needed) and queues a confirmation email (double opt-in), or confirms at once (single opt-in); leaves confirmed members and blocklisted subscribers alone and sends them nothing; an unsubscribed member gets a confirmation whose link alone brings them back. Returns what it did, for the log: the HTTP answer is the same in every case.';

revoke all on function app_private.subscribe(list_id bigint, email text, name text) from public;
