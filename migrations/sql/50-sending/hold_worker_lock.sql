create or replace function app_private.hold_worker_lock(pool_id text) returns void
  language sql volatile
as $$
  -- One lock per graphile-worker pool id, held by the session for as long as the pool lives.
  select pg_advisory_lock(app_hidden.advisory_lock_id('worker liveness')::integer, hashtext(pool_id))
$$;

comment on function app_private.hold_worker_lock(pool_id text) is 'Taken by each worker process, on a connection of its own, for each of its graphile-worker pools (session advisory lock ''worker liveness'', hashtext(pool id)). PostgreSQL releases it the moment that connection ends: a pool whose lock nobody holds is dead.';

revoke all on function app_private.hold_worker_lock(pool_id text) from public;
