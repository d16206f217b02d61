create or replace function app_private.tg__add_job() returns trigger as $$
begin
  perform app_private.add_job(tg_argv[0], json_build_object('id', new.id));
  return new;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_private.tg__add_job() is 'Trigger function: queues the graphile-worker job named by the first trigger argument for NEW.id.';

revoke all on function app_private.tg__add_job() from public;
