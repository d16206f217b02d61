create or replace function app_private.attribute_pending_events() returns table (attributed_by text, events bigint)
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  attributed_ids bigint[];
begin
  -- The same lock as inserting messages: no event or message can slip in between while we look.
  perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('pending events'));
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

comment on function app_private.attribute_pending_events() is 'Attributes the pending (unattributed) events that match a message now, by the attribution rule, with all the effects of attribution; returns how many per key used. Events that still match nothing stay pending.';



revoke all on function app_private.attribute_pending_events() from public;
