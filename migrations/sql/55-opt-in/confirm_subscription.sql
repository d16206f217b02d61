-- POST /confirm/TOKEN (src/http/opt-in.ts): the link of a confirmation email, used. Idempotent. What it may do is
-- app_private.confirmation_link_state's rule: an unconfirmed member is confirmed (confirmed_at set); an
-- unsubscribed member only by a confirmation requested after the unsubscribe; a blocklisted subscriber never.
create or replace function app_private.confirm_subscription(confirmation_id bigint) returns text
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  confirmation app_public.confirmations;
  state text;
begin
  select * into confirmation from app_public.confirmations as c where c.id = confirm_subscription.confirmation_id;
  if not found then
    return 'not found';
  end if;
  -- The membership locked first: a concurrent unsubscribe or confirmation is seen whole.
  perform 1 from app_public.list_memberships as lm
  where lm.list_id = confirmation.list_id and lm.subscriber_id = confirmation.subscriber_id
  for update;
  state := app_private.confirmation_link_state(confirmation.id);
  if state <> 'confirmable' then
    return state;
  end if;
  update app_public.list_memberships as lm set status = 'confirmed'
  where lm.list_id = confirmation.list_id and lm.subscriber_id = confirmation.subscriber_id;
  update app_public.confirmations as c set confirmed_at = now() where c.id = confirmation.id;
  return 'confirmed';
end;
$$;

comment on function app_private.confirm_subscription(confirmation_id bigint) is 'The link of a confirmation email, POSTed: confirms the membership when app_private.confirmation_link_state says confirmable, and records confirmed_at on the confirmation; otherwise changes nothing. Returns confirmed or the state that stopped it (already confirmed, unsubscribed, blocklisted, not a member, not found). Idempotent.';

revoke all on function app_private.confirm_subscription(confirmation_id bigint) from public;
