-- What the link of a confirmation email would do now (GET shows it, POST does it: app_private.confirm_subscription).
-- The rule, in one place:
--   confirmable          the member is unconfirmed; or unsubscribed, and the confirmation was requested after the
--                        unsubscribe (the person asked through the form to come back)
--   already confirmed    the member is confirmed
--   unsubscribed         the member unsubscribed after this confirmation was requested: an old link never
--                        subscribes again
--   blocklisted          the subscriber is blocklisted: never subscribed by a link
--   not a member         the membership was removed
--   not found            no such confirmation
create or replace function app_private.confirmation_link_state(confirmation_id bigint) returns text
language sql stable
set search_path to pg_catalog, public, pg_temp
as $$
  select coalesce((
    select case
      when lm.status is null then 'not a member'
      when s.status <> 'enabled' then 'blocklisted'
      when lm.status = 'confirmed' then 'already confirmed'
      when lm.status = 'unconfirmed' then 'confirmable'
      when c.created_at > coalesce(lm.unsubscribed_at, '-infinity') then 'confirmable'
      else 'unsubscribed' end
    from app_public.confirmations as c
    join app_public.subscribers as s on s.id = c.subscriber_id
    left join app_public.list_memberships as lm on lm.list_id = c.list_id and lm.subscriber_id = c.subscriber_id
    where c.id = confirmation_link_state.confirmation_id), 'not found')
$$;

comment on function app_private.confirmation_link_state(confirmation_id bigint) is 'What the link of this confirmation would do now: confirmable, already confirmed, unsubscribed (it left after this email: an old link never subscribes again), blocklisted, not a member, not found. GET /confirm/TOKEN shows it; POST acts on it (confirm_subscription).';

revoke all on function app_private.confirmation_link_state(confirmation_id bigint) from public;
