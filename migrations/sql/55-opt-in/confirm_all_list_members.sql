-- mailroom subscribers confirm --list LIST --all, GraphQL confirmAllListMembers.
create or replace function app_public.confirm_all_list_members(list_id bigint) returns app_public.bulk_confirm_result
language plpgsql volatile security definer
set search_path to pg_catalog, public, pg_temp
as $$
declare
  result app_public.bulk_confirm_result;
begin
  perform 1 from app_public.lists as l where l.id = confirm_all_list_members.list_id;
  if not found then
    raise exception 'list % does not exist', confirm_all_list_members.list_id using errcode = 'P0002';
  end if;
  with member as (
    select lm.subscriber_id, lm.status, s.status as subscriber_status
    from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
    where lm.list_id = confirm_all_list_members.list_id
  ),
  confirmed as (
    update app_public.list_memberships as lm set status = 'confirmed'
    from member as m
    where lm.list_id = confirm_all_list_members.list_id and lm.subscriber_id = m.subscriber_id
      and m.status = 'unconfirmed' and m.subscriber_status = 'enabled'
    returning 1
  )
  select (select count(*) from confirmed),
         count(*) filter (where m.status = 'confirmed'),
         0,
         count(*) filter (where m.status = 'unsubscribed' or (m.status = 'unconfirmed' and m.subscriber_status <> 'enabled'))
  into result.confirmed, result.already_confirmed, result.not_members, result.left_alone
  from member as m;
  return result;
end;
$$;

comment on function app_public.confirm_all_list_members(list_id bigint) is 'Confirms every unconfirmed member of the list whose subscriber is enabled (consent obtained elsewhere); unsubscribed members and blocklisted subscribers are left as they are. Returns the counts as confirm_list_members does (not_members is 0).';

revoke all on function app_public.confirm_all_list_members(list_id bigint) from public;
grant execute on function app_public.confirm_all_list_members(list_id bigint) to :DATABASE_ADMIN;
