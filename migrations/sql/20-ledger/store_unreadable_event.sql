create or replace function app_private.store_unreadable_event(event_text text, event_id text, source text,
                                                               delivery jsonb, problem text)
  returns table (received integer, inserted integer, duplicates integer)
  language plpgsql
  set search_path to app_public, app_private, app_hidden, public
as $$
#variable_conflict use_column
declare
  is_new boolean;
begin
  -- Keys the unique index can hold: an id or source that is missing or too long is replaced by a SHA-256
  -- digest (of itself, or of the event's text), the same for every redelivery of the event.
  insert into app_public.raw_events as r (source, event_id, event_schema, event_text, problem,
                                          subscription_name, delivery_count, received_at, last_received_at)
  select
    case when store_unreadable_event.source is null then ''
         when length(store_unreadable_event.source) <= 512 then store_unreadable_event.source
         else 'sha256:' || encode(sha256(convert_to(store_unreadable_event.source, 'UTF8')), 'hex') end,
    case when length(store_unreadable_event.event_id) between 1 and 512 then store_unreadable_event.event_id
         else 'sha256:' || encode(sha256(convert_to(coalesce(nullif(store_unreadable_event.event_id, ''),
                                                             store_unreadable_event.event_text), 'UTF8')), 'hex') end,
    case when d->>'schema' in ('eventgrid', 'cloudevents') then d->>'schema' else 'eventgrid' end,
    store_unreadable_event.event_text,
    store_unreadable_event.problem,
    nullif(d->>'subscriptionName', ''),
    case when d->>'deliveryCount' ~ '^[0-9]{1,9}$' then (d->>'deliveryCount')::integer end,
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now()),
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now())
  from (select coalesce(store_unreadable_event.delivery, '{}'::jsonb) as d) as delivery_fields
  on conflict (lower(source), event_id) do update set
    delivery_count = greatest(r.delivery_count, excluded.delivery_count),
    times_received = r.times_received + 1,
    last_received_at = greatest(r.last_received_at, excluded.last_received_at)
  returning (xmax = 0) into is_new;
  return query select 1, is_new::integer, (not is_new)::integer;
end;
$$;

comment on function app_private.store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text) is 'Keeps one event that cannot be stored as jsonb or under its own keys: its text as received in raw_events.event_text, with the problem and its delivery''s schema, receivedAt, deliveryCount and subscriptionName (read as ingest_events reads them); no effects follow. Idempotent like ingest_events: the id and source when they are short enough for the index, else a SHA-256 digest of them (or of the text).';

revoke all on function app_private.store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text) from public;
