create or replace function app_public.lists_member_counts(list app_public.lists) returns app_public.list_member_counts as $$
  select count(*) filter (where lm.status <> 'unsubscribed'),
    count(*) filter (where lm.status = 'unconfirmed'),
    count(*) filter (where lm.status = 'confirmed'),
    count(*) filter (where lm.status = 'unsubscribed')
  from app_public.list_memberships as lm where lm.list_id = list.id
$$ language sql stable set search_path to pg_catalog, public, pg_temp;

comment on function app_public.lists_member_counts(list app_public.lists) is 'How many members the list has, by status.';

revoke all on function app_public.lists_member_counts(list app_public.lists) from public;
grant execute on function app_public.lists_member_counts(list app_public.lists) to :DATABASE_ADMIN;
grant execute on function app_public.lists_member_counts(list app_public.lists) to :DATABASE_READONLY;
