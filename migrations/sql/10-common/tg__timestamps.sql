create or replace function app_private.tg__timestamps() returns trigger
language plpgsql
as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then pg_catalog.now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= pg_catalog.now()
                         then old.updated_at + interval '1 millisecond' else pg_catalog.now() end);
  return new;
end;
$$;

comment on function app_private.tg__timestamps() is 'Trigger function: sets created_at on insert and a strictly increasing updated_at on every write.';

revoke all on function app_private.tg__timestamps() from public;

create or replace trigger _100_timestamps before insert or update on app_public.campaigns for each row execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before insert or update on app_public.list_memberships for each row execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before insert or update on app_public.lists for each row execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before update on app_public.messages for each row when (((new.updated_at <= old.updated_at) or (new.created_at is distinct from old.created_at))) execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before insert or update on app_public.senders for each row execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before insert or update on app_public.subscribers for each row execute function app_private.tg__timestamps();

create or replace trigger _100_timestamps before insert or update on app_public.templates for each row execute function app_private.tg__timestamps();
