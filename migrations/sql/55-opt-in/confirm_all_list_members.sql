-- mailroom subscribers confirm --list LIST --all, GraphQL confirmAllListMembers.
create or replace function app_public.confirm_all_list_members(list_id bigint) returns app_public.bulk_confirm_result
language plpgsql volatile security definer
set search_path to pg_catalog, public, pg_temp
as $$
begin
  return app_public.confirm_list_members(confirm_all_list_members.list_id, null);
end;
$$;

comment on function app_public.confirm_all_list_members(list_id bigint) is 'Confirms every unconfirmed member of the list whose subscriber is enabled (consent obtained elsewhere); unsubscribed members and blocklisted subscribers are left as they are. Returns the counts as confirm_list_members does (not_members is 0).';

revoke all on function app_public.confirm_all_list_members(list_id bigint) from public;
grant execute on function app_public.confirm_all_list_members(list_id bigint) to :DATABASE_ADMIN;
