create or replace function app_private.tg_list_memberships__status_changed() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    new.status_changed_at = pg_catalog.now();
    if new.status = 'confirmed' then new.confirmed_at = pg_catalog.now(); end if;
    if new.status = 'unsubscribed' then new.unsubscribed_at = pg_catalog.now(); end if;
  end if;
  return new;
end;
$$;

revoke all on function app_private.tg_list_memberships__status_changed() from public;

create or replace trigger _200_status_changed before insert or update of status on app_public.list_memberships for each row execute function app_private.tg_list_memberships__status_changed();
