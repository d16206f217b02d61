--! Previous: sha1:33cb1546f2a26d69dd817929dc2a9e8b7304aea4
--! Hash: sha1:7857050879c34a45ac9c8d4896baf671e580d520
--! Message: GraphQL API: API keys and their check, bulk subscriber import, blocklisting, list member counts, sender quota use, campaign rollup notifications

-- The GraphQL API's part of the schema: API keys and their check, a bulk subscriber import reported per row,
-- blocklisting, list member counts, senders' quota use right now, and a NOTIFY whenever a campaign's numbers
-- change (the live numbers subscription). See docs/graphql.md.
drop trigger if exists _900_notify on app_public.campaign_rollups;
drop function if exists app_private.tg_campaign_rollups__notify() cascade;
drop function if exists app_hidden.authenticate_api_key(text);
drop function if exists app_public.import_subscribers(app_public.subscriber_import_row[], bigint, text, boolean);
drop function if exists app_public.blocklist_subscriber(bigint), app_public.unblocklist_subscriber(bigint);
drop function if exists app_public.senders_quota_use(app_public.senders);
drop function if exists app_public.lists_member_counts(app_public.lists);
drop type if exists app_public.subscriber_import_result, app_public.subscriber_import_row,
  app_public.sender_quota_use, app_public.list_member_counts;
drop table if exists app_private.api_keys;

--------------------------------------------------------------------------------------------------------
-- API keys: created and revoked from the command line (mailroom api-key), stored only as SHA-256 hashes.

create table app_private.api_keys (
  id bigint primary key generated always as identity,
  name text not null check (name <> ''),
  role text not null check (role in ('admin', 'analyst')),
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  key_prefix text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
comment on table app_private.api_keys is
  'GraphQL API keys: the SHA-256 of each key (never the key), its role (admin: read and write; analyst: read '
  'only), an optional expiry and the time it was revoked. key_prefix is the start of the key, to recognise it.';

create function app_hidden.authenticate_api_key(key_hash text) returns table (api_key_id bigint, role text, state text) as $$
  select k.id, k.role,
    case when k.revoked_at is not null then 'revoked'
         when k.expires_at <= now() then 'expired'
         else 'valid' end
  from app_private.api_keys as k
  where k.key_hash = authenticate_api_key.key_hash
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;
comment on function app_hidden.authenticate_api_key(text) is
  'For the authenticator: the key with this SHA-256 (hex), its role and whether it is valid, revoked or expired; '
  'no row for an unknown key.';
revoke all on function app_hidden.authenticate_api_key(text) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant usage on schema app_hidden to :DATABASE_AUTHENTICATOR;
grant execute on function app_hidden.authenticate_api_key(text) to :DATABASE_AUTHENTICATOR;

--------------------------------------------------------------------------------------------------------
-- Bulk import of subscribers: one statement for up to 10,000 rows, every row reported.

create type app_public.subscriber_import_row as (email text, name text, attributes jsonb);
comment on type app_public.subscriber_import_row is 'One subscriber to import: email (required), name, attributes (a JSON object).';

create type app_public.subscriber_import_result as (
  row_number integer,
  email text,
  subscriber_id bigint,
  outcome text,
  error text,
  added_to_list boolean
);
comment on type app_public.subscriber_import_result is
  'What happened to one row of an import (row_number counts from 1): outcome created, updated, existing (already '
  'there, left as it was) or rejected (see error); added_to_list when a new membership of the list was created.';

create function app_public.import_subscribers(
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
      case
        when i.email is null or i.email = '' then 'email is required'
        when length(i.email) > 254 then 'email is longer than 254 characters'
        when i.email !~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$' then 'email is not a valid address'
        when jsonb_typeof(i.attributes) <> 'object' then 'attributes must be a JSON object'
      end as invalid
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
comment on function app_public.import_subscribers(app_public.subscriber_import_row[], bigint, text, boolean) is
  'Imports up to 10,000 subscribers in one statement and reports every row: invalid rows (no or an invalid email, '
  'attributes not an object, the same email twice) are rejected with the reason and the others imported. Existing '
  'subscribers (by email, case-insensitively) are left as they are unless update_existing (then name and attributes '
  'are replaced). With list_id, every imported or existing subscriber becomes a member of the list with '
  'membership_status (unconfirmed or confirmed) unless already a member. Runs with the caller''s privileges.';

--------------------------------------------------------------------------------------------------------
-- Blocklisting.

create function app_public.blocklist_subscriber(subscriber_id bigint) returns app_public.subscribers as $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'blocklisted'
  where s.id = blocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', blocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_public.blocklist_subscriber(bigint) is
  'Blocklists a subscriber: no campaign will send to them (messages still queued are skipped by the sender).';

create function app_public.unblocklist_subscriber(subscriber_id bigint) returns app_public.subscribers as $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'enabled'
  where s.id = unblocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', unblocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_public.unblocklist_subscriber(bigint) is
  'Takes a subscriber off the blocklist. Their bounces stay counted: the bounce policy may still stop sends to them.';

--------------------------------------------------------------------------------------------------------
-- Read helpers: list member counts and a sender's quota use right now.

create type app_public.list_member_counts as (members bigint, unconfirmed bigint, confirmed bigint, unsubscribed bigint);
comment on type app_public.list_member_counts is 'Members of a list by status; members = all but the unsubscribed.';

create function app_public.lists_member_counts(list app_public.lists) returns app_public.list_member_counts as $$
  select count(*) filter (where lm.status <> 'unsubscribed'),
    count(*) filter (where lm.status = 'unconfirmed'),
    count(*) filter (where lm.status = 'confirmed'),
    count(*) filter (where lm.status = 'unsubscribed')
  from app_public.list_memberships as lm where lm.list_id = list.id
$$ language sql stable set search_path to pg_catalog, public, pg_temp;
comment on function app_public.lists_member_counts(app_public.lists) is 'How many members the list has, by status.';

create type app_public.sender_quota_use as (
  sent_last_minute integer,
  sent_last_hour integer,
  sent_last_day integer,
  remaining_last_minute integer,
  remaining_last_hour integer,
  remaining_last_day integer,
  capacity_now integer,
  paused_until timestamptz,
  window_open boolean
);
comment on type app_public.sender_quota_use is
  'Messages handed to ACS in the sliding minute, hour and day (batches still in flight count), what each quota '
  'leaves (NULL: no quota), how many may be sent right now (capacity_now: 0 outside the send window or while '
  'paused after a 429), until when it is paused, and whether the send window is open.';

create function app_public.senders_quota_use(sender app_public.senders) returns app_public.sender_quota_use as $$
  select u.minute_sent, u.hour_sent, u.day_sent,
    greatest(0, sender.per_minute_limit - u.minute_sent),
    greatest(0, sender.per_hour_limit - u.hour_sent),
    greatest(0, sender.per_day_limit - u.day_sent),
    app_private.sender_capacity(sender),
    (select t.paused_until from app_private.sender_throttles as t where t.sender_id = sender.id and t.paused_until > now()),
    app_public.sender_window_open(sender)
  from (
    select coalesce(sum(s.sends) filter (where s.ends_at > now() - w.minute), 0)::integer as minute_sent,
      coalesce(sum(s.sends) filter (where s.ends_at > now() - 60 * w.minute), 0)::integer as hour_sent,
      coalesce(sum(s.sends), 0)::integer as day_sent
    from (select interval '1 minute' * app_private.quota_time_scale() as minute) as w
    left join app_private.sender_sends as s on s.sender_id = sender.id and s.ends_at > now() - 1440 * w.minute
    group by w.minute
  ) as u
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;
comment on function app_public.senders_quota_use(app_public.senders) is
  'The sender''s quota use right now, in the windows the sending worker applies (app_private.sender_capacity).';
grant execute on function app_public.senders_quota_use(app_public.senders) to :DATABASE_READONLY;
grant execute on function app_public.lists_member_counts(app_public.lists) to :DATABASE_READONLY;

--------------------------------------------------------------------------------------------------------
-- Live numbers: every change of a campaign's rollup row notifies mailroom:campaign_rollup:<campaign id>
-- (one notification per campaign and statement; Postgres folds repeats within a transaction).

create function app_private.tg_campaign_rollups__notify() returns trigger as $$
begin
  perform pg_notify('mailroom:campaign_rollup:' || new.campaign_id, json_build_object('campaignId', new.campaign_id)::text);
  return null;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.tg_campaign_rollups__notify() is
  'Trigger function: NOTIFY mailroom:campaign_rollup:<campaign id> with {"campaignId": id}, for GraphQL subscriptions.';
create trigger _900_notify after insert or update on app_public.campaign_rollups
  for each row execute function app_private.tg_campaign_rollups__notify();
