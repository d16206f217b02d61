-- mailroom subscribers confirm --list LIST (--file | EMAIL...), GraphQL confirmListMembers: confirms members whose
-- consent was obtained elsewhere (an import of people who confirmed in another system).
create or replace function app_public.confirm_list_members(list_id bigint, emails text[]) returns app_public.bulk_confirm_result
language plpgsql volatile security definer
set search_path to pg_catalog, public, pg_temp
as $$
declare
  result app_public.bulk_confirm_result;
begin
  perform 1 from app_public.lists as l where l.id = confirm_list_members.list_id;
  if not found then
    raise exception 'list % does not exist', confirm_list_members.list_id using errcode = 'P0002';
  end if;
  with given as (
    select distinct lower(btrim(e)) as email from unnest(confirm_list_members.emails) as e where btrim(e) <> ''
  ),
  -- The addresses given, each with its membership if any; without addresses (NULL), every member of the list.
  member as (
    select g.email, s.id as subscriber_id, s.status as subscriber_status, lm.status
    from given as g
    left join app_public.subscribers as s on lower(s.email) = g.email
    left join app_public.list_memberships as lm on lm.list_id = confirm_list_members.list_id and lm.subscriber_id = s.id
    union all
    select s.email, s.id, s.status, lm.status
    from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
    where confirm_list_members.emails is null and lm.list_id = confirm_list_members.list_id
  ),
  confirmed as (
    update app_public.list_memberships as lm set status = 'confirmed'
    from member as m
    where lm.list_id = confirm_list_members.list_id and lm.subscriber_id = m.subscriber_id
      and m.status = 'unconfirmed' and m.subscriber_status = 'enabled'
    returning 1
  )
  select (select count(*) from confirmed),
         count(*) filter (where m.status = 'confirmed'),
         count(*) filter (where m.status is null),
         count(*) filter (where m.status = 'unsubscribed' or (m.status = 'unconfirmed' and m.subscriber_status <> 'enabled'))
  into result.confirmed, result.already_confirmed, result.not_members, result.left_alone
  from member as m;
  return result;
end;
$$;

comment on function app_public.confirm_list_members(list_id bigint, emails text[]) is 'Confirms the unconfirmed members of the list with these addresses (case-insensitive; duplicates count once; NULL: every member), for consent obtained elsewhere. Unsubscribed members and blocklisted subscribers are left as they are. Returns how many were confirmed, were confirmed already, are no member of the list, were left alone.';

revoke all on function app_public.confirm_list_members(list_id bigint, emails text[]) from public;
grant execute on function app_public.confirm_list_members(list_id bigint, emails text[]) to :DATABASE_ADMIN;
