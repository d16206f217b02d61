create or replace function app_private.release_worker_lock(pool_id text) returns void
  language sql volatile
as $$
  select pg_advisory_unlock(app_hidden.advisory_lock_id('worker liveness')::integer, hashtext(pool_id)) and true
$$;

comment on function app_private.release_worker_lock(pool_id text) is 'Gives up the liveness lock of a worker pool that has stopped.';

revoke all on function app_private.release_worker_lock(pool_id text) from public;
