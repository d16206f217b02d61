--! Previous: sha1:4b6da5ba57d6bf9ce5555ed4c5b2e8655d6ec005
--! Hash: sha1:b8ec1d9b7747b8847cbe6e2d5d567767c007ddf1
--! Message: attribute_pending_events: the table columns win over its result column attributed_by

-- attribute_pending_events: its result column attributed_by made the queries inside it ambiguous; the columns
-- of the tables win.
create or replace function app_private.attribute_pending_events() returns table (attributed_by text, events bigint) as $$
#variable_conflict use_column
declare
  raw_event_ids bigint[];
  message_ids bigint[];
  keys text[];
begin
  -- The same lock as inserting messages: no event or message can slip in between while we look.
  perform pg_advisory_xact_lock(7361003);
  -- Pending rows of events that were attributed meanwhile are stale: remove them.
  delete from app_private.pending_events as p
  using app_public.message_events as me where me.raw_event_id = p.raw_event_id;
  with matched as (
    select p.raw_event_id, m.id as message_id, 1 as rank, 'internet_message_id' as attributed_by
    from app_private.pending_events as p join app_public.messages as m on m.internet_message_id = p.internet_message_id
    union all
    select p.raw_event_id, m.id, 2, 'operation_id_and_recipient'
    from app_private.pending_events as p join app_public.messages as m on m.operation_id = p.operation_id
    where lower(m.recipient) = p.recipient
    union all
    select p.raw_event_id, m.id, 3, 'operation_id'
    from app_private.pending_events as p join app_public.messages as m on m.operation_id = p.operation_id
    where p.recipient is null
  ),
  best as (
    select distinct on (raw_event_id) raw_event_id, message_id, attributed_by from matched order by raw_event_id, rank
  ),
  resolved as (
    delete from app_private.pending_events as p using best as b where p.raw_event_id = b.raw_event_id
  )
  select array_agg(b.raw_event_id), array_agg(b.message_id), array_agg(b.attributed_by)
  into raw_event_ids, message_ids, keys
  from best as b;
  if raw_event_ids is not null then
    perform app_private.record_attributions(raw_event_ids, message_ids, keys);
  end if;
  return query
  select k.key, count(*) from unnest(keys) as k(key) group by k.key order by 1;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
