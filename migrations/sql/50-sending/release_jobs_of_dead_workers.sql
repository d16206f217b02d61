create or replace function app_private.release_jobs_of_dead_workers(locked_before timestamptz) returns text[]
  language plpgsql volatile
  set search_path to app_public, app_private, app_hidden, public
as $$
declare
  dead text[];
begin
  select array_agg(distinct j.locked_by) into dead
  from graphile_worker._private_jobs as j
  where j.locked_by is not null
    and j.locked_at < locked_before
    and not exists (
      select 1 from pg_locks as l
      where l.locktype = 'advisory' and l.granted
        and l.database = (select d.oid from pg_database as d where d.datname = current_database())
        and l.classid = app_hidden.advisory_lock_id('worker liveness')::oid and l.objsubid = 2
        and l.objid::bigint = (hashtext(j.locked_by)::bigint & 4294967295));
  if dead is not null then
    perform graphile_worker.force_unlock_workers(dead);
  end if;
  return coalesce(dead, '{}');
end;
$$;

comment on function app_private.release_jobs_of_dead_workers(locked_before timestamp with time zone) is 'Unlocks, with graphile-worker''s force_unlock_workers, the jobs locked before the given time by worker pools whose liveness lock (hold_worker_lock) nobody holds: their process is gone. Returns the pools'' ids. Run every 10 s by each worker process.';

revoke all on function app_private.release_jobs_of_dead_workers(locked_before timestamp with time zone) from public;
