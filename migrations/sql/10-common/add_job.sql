create or replace function app_private.add_job(
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

comment on function app_private.add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer) is 'Queues a graphile-worker job (identifier = the task file name under tasks/).';

revoke all on function app_private.add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer) from public;
