--! Previous: sha1:7373dc6c48180f709ca11c9190fb4b49924888a3
--! Hash: sha1:6e02c141ef1d54602ddce2316aaa27351be57c9a
--! Message: Command line and retention: one email rule (subscriber_email_problem) for the constraint and both imports, attribute_pending_events, raw event payload retention

-- Command line and retention: one email rule for every path that creates subscribers, replaying the
-- unattributed events, and removing old raw event payloads while keeping everything derived from them.

drop function if exists app_private.remove_raw_event_payloads(interval, integer);
drop function if exists app_private.attribute_pending_events();
drop index if exists app_public.raw_events_payload_received_at_idx;

--------------------------------------------------------------------------------------------------------
-- The email rule, in one place: the check constraint on subscribers, app_public.import_subscribers and the
-- CSV import (mailroom import-subscribers) all call it.

alter table app_public.subscribers drop constraint if exists subscribers_email_check;
drop function if exists app_hidden.subscriber_email_problem(text);

create function app_hidden.subscriber_email_problem(email text) returns text as $$
  select case
    when email is null or email = '' then 'email is required'
    when length(email) > 254 then 'email is longer than 254 characters'
    when email !~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$' then 'email is not a valid address'
  end
$$ language sql immutable parallel safe;
comment on function app_hidden.subscriber_email_problem(text) is
  'Why an email address (already trimmed) cannot be a subscriber''s, or NULL when it can: the rule of the '
  'subscribers_email_check constraint, also used by import_subscribers and the CSV import to report bad rows.';

alter table app_public.subscribers add constraint subscribers_email_check
  check (app_hidden.subscriber_email_problem(email) is null);

create or replace function app_public.import_subscribers(
  subscribers app_public.subscriber_import_row[],
  list_id bigint default null,
  membership_status text default 'unconfirmed',
  update_existing boolean default false
) returns setof app_public.subscriber_import_result as $$
declare
  row_count integer := coalesce(cardinality(subscribers), 0);
begin
  if row_count > 10000 then
    raise exception 'at most 10000 subscribers can be imported at once (got %)', row_count using errcode = '22023',
      hint = 'Split the import into batches of at most 10,000 rows.';
  end if;
  if import_subscribers.list_id is not null
     and not exists (select 1 from app_public.lists as l where l.id = import_subscribers.list_id) then
    raise exception 'list % does not exist', import_subscribers.list_id using errcode = 'P0002';
  end if;
  if membership_status is null or membership_status not in ('unconfirmed', 'confirmed') then
    raise exception 'membership_status must be unconfirmed or confirmed (got %)', membership_status using errcode = '22023';
  end if;

  return query
  with input as (
    select r.ordinality::integer as row_number, btrim(r.email) as email, coalesce(r.name, '') as name,
      coalesce(r.attributes, '{}'::jsonb) as attributes
    from unnest(import_subscribers.subscribers) with ordinality as r(email, name, attributes, ordinality)
  ),
  validated as (
    select i.*, lower(i.email) as key,
      coalesce(app_hidden.subscriber_email_problem(i.email),
               case when jsonb_typeof(i.attributes) <> 'object' then 'attributes must be a JSON object' end) as invalid
    from input as i
  ),
  checked as (
    -- The same address twice: the first valid row counts, later ones are rejected.
    select v.row_number, v.email, v.name, v.attributes, v.key,
      coalesce(v.invalid, case when v.first_row <> v.row_number then 'the same email as row ' || v.first_row end) as error
    from (
      select validated.*,
        min(validated.row_number) filter (where validated.invalid is null) over (partition by validated.key) as first_row
      from validated
    ) as v
  ),
  existing as (
    select s.id, lower(s.email) as key, s.name, s.attributes
    from app_public.subscribers as s
    where lower(s.email) in (select c.key from checked as c where c.error is null)
  ),
  inserted as (
    insert into app_public.subscribers as s (email, name, attributes)
    select c.email, c.name, c.attributes from checked as c
    where c.error is null and c.key not in (select e.key from existing as e)
    on conflict ((lower(email))) do nothing
    returning s.id, lower(s.email) as key
  ),
  updated as (
    update app_public.subscribers as s set name = c.name, attributes = c.attributes
    from checked as c join existing as e on e.key = c.key
    where import_subscribers.update_existing and s.id = e.id and c.error is null
      and (e.name, e.attributes) is distinct from (c.name, c.attributes)
    returning s.id
  ),
  resolved as (
    select c.*, coalesce(ins.id, e.id) as subscriber_id, ins.id is not null as created
    from checked as c
    left join inserted as ins on ins.key = c.key and c.error is null
    left join existing as e on e.key = c.key and c.error is null
  ),
  joined as (
    insert into app_public.list_memberships as lm (list_id, subscriber_id, status)
    select import_subscribers.list_id, r.subscriber_id, import_subscribers.membership_status
    from resolved as r
    where import_subscribers.list_id is not null and r.subscriber_id is not null
    on conflict do nothing
    returning lm.subscriber_id
  )
  select r.row_number, r.email, r.subscriber_id,
    case when r.error is not null or r.subscriber_id is null then 'rejected'
         when r.created then 'created'
         when u.id is not null then 'updated'
         else 'existing' end,
    coalesce(r.error, case when r.subscriber_id is null then 'added by another import at the same moment; import it again' end),
    j.subscriber_id is not null
  from resolved as r
  left join updated as u on u.id = r.subscriber_id
  left join joined as j on j.subscriber_id = r.subscriber_id
  order by r.row_number;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

--------------------------------------------------------------------------------------------------------
-- Replaying the unattributed events (mailroom replay-unattributed): the pending events are matched against
-- every message, by the attribution rule of app_private.tg_raw_events__attribute, and attributed once each.
-- Normally a pending event is attributed the moment its message is inserted; this repairs what was missed
-- (a message written with triggers disabled, restored from a backup, ...).

create function app_private.attribute_pending_events() returns table (attributed_by text, events bigint) as $$
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
  select k.attributed_by, count(*) from unnest(keys) as k(attributed_by) group by k.attributed_by order by 1;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.attribute_pending_events() is
  'Attributes the pending (unattributed) events that match a message now, by the attribution rule, with all the '
  'effects of attribution; returns how many per key used. Events that still match nothing stay pending.';

--------------------------------------------------------------------------------------------------------
-- Retention of raw event payloads (RAW_EVENT_RETENTION_DAYS, task remove_raw_event_payloads): the event as
-- received (raw_events.event) is set to NULL once it is old enough. Every interpreted column (keys, status,
-- times, engagement), the attributions (message_events), the messages and the rollups stay; recomputing a
-- campaign reads only the interpreted columns, so it gives the same numbers after retention.

alter table app_public.raw_events alter column event drop not null;
comment on column app_public.raw_events.event is
  'The event exactly as received (envelope and data); NULL once removed by retention (RAW_EVENT_RETENTION_DAYS). '
  'Everything Mailroom derives from an event is in the other columns and in message_events, and stays.';

-- Only rows that still have a payload: the index shrinks as retention removes them, so each run starts at the
-- oldest payload left instead of walking past every row already done.
create index raw_events_payload_received_at_idx on app_public.raw_events (received_at) where event is not null;

create function app_private.remove_raw_event_payloads(older_than interval, max_rows integer default 10000)
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
comment on function app_private.remove_raw_event_payloads(interval, integer) is
  'Removes the payload (event) of at most max_rows raw events received more than older_than ago, oldest first; '
  'returns how many. Call it until it returns less than max_rows. Derived data is untouched.';
