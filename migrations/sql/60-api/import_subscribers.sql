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

comment on function app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) is 'Imports up to 10,000 subscribers in one statement and reports every row: invalid rows (no or an invalid email, attributes not an object, the same email twice) are rejected with the reason and the others imported. Existing subscribers (by email, case-insensitively) are left as they are unless update_existing (then name and attributes are replaced). With list_id, every imported or existing subscriber becomes a member of the list with membership_status (unconfirmed or confirmed) unless already a member. Runs with the caller''s privileges.';

revoke all on function app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) from public;
grant execute on function app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) to :DATABASE_ADMIN;
