create or replace function app_private.tg_messages__attribute_pending() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  candidate_ids bigint[];
begin
  insert into app_public.campaign_rollups (campaign_id)
  select distinct campaign_id from new_messages
  on conflict (campaign_id) do nothing;
  perform pg_advisory_xact_lock(7361003);
  if not exists (select 1 from app_private.pending_events) then
    return null;
  end if;
  -- The pending events that name one of the new messages; attribute_events applies the rule to them.
  select array_agg(c.raw_event_id) into candidate_ids
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

comment on function app_private.tg_messages__attribute_pending() is 'Statement trigger: creates the rollup rows of new messages'' campaigns and attributes pending events that match them.';

revoke all on function app_private.tg_messages__attribute_pending() from public;

create or replace trigger _500_attribute_pending after insert on app_public.messages referencing new table as new_messages for each statement execute function app_private.tg_messages__attribute_pending();
