--! Previous: sha1:2474cb89fe1cacd444749bb634bf288fc8c4efab
--! Hash: sha1:a72ac66c22017328c338beeab9aee75f2568c9be
--! Message: Pending events attributed and taken off the pending list in one function (app_private.attribute_pending) for both callers

-- Pending events are attributed and taken off the pending list in one place, for both of their callers (the
-- trigger on new messages and attribute_pending_events), which wrote it each on their own and computed the set of
-- attributed events twice.
create or replace function app_private.attribute_pending(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  unmatched_ids bigint[];
  attributed_ids bigint[];
begin
  unmatched_ids = app_private.attribute_events(raw_event_ids);
  attributed_ids = array(select unnest(raw_event_ids) except select unnest(unmatched_ids));
  delete from app_private.pending_events as p where p.raw_event_id = any(attributed_ids);
  return attributed_ids;
end;
$$;
comment on function app_private.attribute_pending(bigint[]) is
  'Attributes pending events (by raw event id) with attribute_events and takes those attributed off app_private.pending_events; the others stay pending. Returns the ids attributed.';
revoke all on function app_private.attribute_pending(bigint[]) from public;

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

create or replace function app_private.attribute_pending_events() returns table (attributed_by text, events bigint)
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  attributed_ids bigint[];
begin
  -- The same lock as inserting messages: no event or message can slip in between while we look.
  perform pg_advisory_xact_lock(7361003);
  -- Pending rows of events that were attributed meanwhile are stale: remove them.
  delete from app_private.pending_events as p
  using app_public.message_events as me where me.raw_event_id = p.raw_event_id;
  attributed_ids = app_private.attribute_pending(array(select p.raw_event_id from app_private.pending_events as p));
  return query
  select me.attributed_by, count(*)
  from app_public.message_events as me
  where me.raw_event_id = any(attributed_ids)
  group by me.attributed_by
  order by 1;
end;
$$;
