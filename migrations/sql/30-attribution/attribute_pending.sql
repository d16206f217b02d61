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

comment on function app_private.attribute_pending(raw_event_ids bigint[]) is 'Attributes pending events (by raw event id) with attribute_events and takes those attributed off app_private.pending_events; the others stay pending. Returns the ids attributed.';

revoke all on function app_private.attribute_pending(raw_event_ids bigint[]) from public;
