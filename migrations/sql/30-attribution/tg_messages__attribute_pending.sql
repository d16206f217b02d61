-- New messages take the events that were parked for lack of them (step 6 of attribute_new_events). The trigger
-- runs last among the triggers of the insert and takes advisory lock 'pending events' exclusively until commit:
-- an event parked by a transaction that committed before is seen here, and one that comes later waits for this
-- commit, then sees the message. Only events that match no message wait, never those of other campaigns.
create or replace function app_private.tg_messages__attribute_pending() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  candidate_ids bigint[];
begin
  perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('pending events'));
  if not exists (select 1 from app_private.pending_events) then
    return null;
  end if;
  -- The pending events that name one of the new messages; attribute_pending applies the rule to them.
  select array_agg(c.raw_event_id order by c.raw_event_id) into candidate_ids
  from (
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.internet_message_id = p.internet_message_id
    union
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.operation_id = p.operation_id
  ) as c;
  if candidate_ids is not null then
    perform app_private.attribute_pending(candidate_ids);
  end if;
  return null;
end;
$$;

comment on function app_private.tg_messages__attribute_pending() is 'Statement trigger, last after an insert into messages: attributes the pending events that match the new messages, holding advisory lock ''pending events'' exclusively until commit.';

revoke all on function app_private.tg_messages__attribute_pending() from public;

create or replace trigger _950_attribute_pending after insert on app_public.messages
  referencing new table as new_messages for each statement execute function app_private.tg_messages__attribute_pending();
