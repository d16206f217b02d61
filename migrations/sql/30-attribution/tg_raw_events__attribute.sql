-- The one trigger on raw_events: the events a statement stored go through attribution (attribute_new_events).
create or replace function app_private.tg_raw_events__attribute() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform app_private.attribute_new_events(array(select e.id from new_events as e order by e.id));
  return null;
end;
$$;

comment on function app_private.tg_raw_events__attribute() is 'Statement trigger on raw_events: passes the events the statement stored to attribute_new_events.';

revoke all on function app_private.tg_raw_events__attribute() from public;

create or replace trigger _500_attribute_events after insert on app_public.raw_events
  referencing new table as new_events for each statement execute function app_private.tg_raw_events__attribute();
