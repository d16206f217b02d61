create or replace function app_private.tg_raw_events__attribute() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  unmatched_ids bigint[];
begin
  perform pg_advisory_xact_lock_shared(7361003);
  unmatched_ids = app_private.attribute_events(array(select e.id from new_events as e));
  -- Events that match no message yet wait for it (see tg_messages__attribute_pending).
  insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
  select e.id, e.internet_message_id, e.operation_id, e.recipient
  from new_events as e join unnest(unmatched_ids) as u(id) on u.id = e.id
  where e.internet_message_id is not null or e.operation_id is not null;
  return null;
end;
$$;

comment on function app_private.tg_raw_events__attribute() is 'Statement trigger: attributes newly stored delivery and engagement events to messages, or parks them as pending.';

revoke all on function app_private.tg_raw_events__attribute() from public;

create or replace trigger _500_attribute_events after insert on app_public.raw_events referencing new table as new_events for each statement execute function app_private.tg_raw_events__attribute();
