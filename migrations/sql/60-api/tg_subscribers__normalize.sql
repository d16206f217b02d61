create or replace function app_private.tg_subscribers__normalize() returns trigger
language plpgsql
as $$
begin
  new.email = pg_catalog.btrim(new.email);
  return new;
end;
$$;

revoke all on function app_private.tg_subscribers__normalize() from public;

create or replace trigger _200_normalize before insert or update of email on app_public.subscribers for each row execute function app_private.tg_subscribers__normalize();
