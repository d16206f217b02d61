create or replace function app_private.remove_raw_event_payloads(older_than interval, max_rows integer default 10000)
returns integer as $$
  with old as (
    select e.id from app_public.raw_events as e
    where e.event is not null and e.received_at < now() - older_than
    order by e.received_at
    limit max_rows
    for update skip locked
  ),
  removed as (
    update app_public.raw_events as e set event = null from old where e.id = old.id returning 1
  )
  select count(*)::integer from removed
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.remove_raw_event_payloads(older_than interval, max_rows integer) is 'Removes the payload (event) of at most max_rows raw events received more than older_than ago, oldest first; returns how many. Call it until it returns less than max_rows. Derived data is untouched.';

revoke all on function app_private.remove_raw_event_payloads(older_than interval, max_rows integer) from public;
