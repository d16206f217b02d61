--! Previous: -
--! Hash: sha1:b258a631a1c01621a3dbb3b2841eabadc9065a73
--! Message: schemas, privileges and shared trigger functions

-- Schemas, privileges and the trigger functions every later migration uses.
--   app_public:  exposed through GraphQL (row level security on every table)
--   app_hidden:  usable by the request roles, never exposed
--   app_private: neither usable nor exposed; secrets and internals
drop schema if exists app_public cascade;
drop schema if exists app_hidden cascade;
drop schema if exists app_private cascade;

-- Nothing is granted to PUBLIC; every privilege below is given on purpose.
revoke all on schema public from public;
alter default privileges revoke all on sequences from public;
alter default privileges revoke all on functions from public;
grant all on schema public to :DATABASE_OWNER;

create schema app_public;
create schema app_hidden;
create schema app_private;

grant usage on schema public, app_public, app_hidden to :DATABASE_ADMIN, :DATABASE_READONLY;

-- Administrators use sequences and call functions in the usable schemas; the read-only role gets
-- SELECT and EXECUTE object by object, on reporting views and read functions only.
alter default privileges in schema public, app_public, app_hidden
  grant usage, select on sequences to :DATABASE_ADMIN;
alter default privileges in schema public, app_public, app_hidden
  grant execute on functions to :DATABASE_ADMIN;

-- created_at / updated_at kept by the database, never trusted from the client.
create function app_private.tg__timestamps() returns trigger as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now()
                         then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.tg__timestamps() is
  'Trigger function: sets created_at on insert and a strictly increasing updated_at on every write.';

-- Queues a graphile-worker job from SQL. Security definer so that functions running as a request
-- role can queue work without any privilege on the graphile_worker schema.
create function app_private.add_job(
  identifier text,
  payload json default '{}',
  queue_name text default null,
  run_at timestamptz default null,
  max_attempts integer default null,
  job_key text default null,
  priority integer default null
) returns void as $$
begin
  perform graphile_worker.add_job(
    identifier => identifier,
    payload => payload,
    queue_name => queue_name,
    run_at => run_at,
    max_attempts => max_attempts,
    job_key => job_key,
    priority => priority
  );
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;
comment on function app_private.add_job(text, json, text, timestamptz, integer, text, integer) is
  'Queues a graphile-worker job (identifier = the task file name under tasks/).';

-- Trigger function: queues the job named by the first trigger argument with payload {"id": NEW.id}.
create function app_private.tg__add_job() returns trigger as $$
begin
  perform app_private.add_job(tg_argv[0], json_build_object('id', new.id));
  return new;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;
comment on function app_private.tg__add_job() is
  'Trigger function: queues the graphile-worker job named by the first trigger argument for NEW.id.';
