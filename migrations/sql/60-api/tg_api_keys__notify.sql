create or replace function app_private.tg_api_keys__notify() returns trigger as $$
begin
  perform pg_notify('mailroom:api_keys', '');
  return null;
end;
$$ language plpgsql set search_path = pg_catalog, public, pg_temp;

comment on function app_private.tg_api_keys__notify() is 'Trigger function: NOTIFY mailroom:api_keys when keys are changed or removed (a revocation), so that GraphQL servers forget the key checks they cached.';

revoke all on function app_private.tg_api_keys__notify() from public;

create or replace trigger _900_notify after delete or update or truncate on app_private.api_keys for each statement execute function app_private.tg_api_keys__notify();
