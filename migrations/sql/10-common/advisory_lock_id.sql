-- Every advisory lock Mailroom takes, by name. SQL takes them through this function; the two taken before the
-- database has any function (by src/db/roles.ts and src/db/migrate.ts) use the same numbers, listed here too.
--
-- Lock order, for whoever adds a lock: a transaction takes row locks of messages in id order, then of subscribers
-- in id order, then of campaign_rollups in campaign id order, and only then 'pending events' (never the other way
-- round).
create or replace function app_hidden.advisory_lock_id(name text) returns bigint
language sql immutable parallel safe
as $$
  select case name
    -- Creating the cluster's roles (src/db/roles.ts, session lock).
    when 'roles' then 7361001
    -- Applying the files of migrations/sql (src/db/migrate.ts, transaction lock).
    when 'sql sources' then 7361002
    -- Events that match no message (shared, before they are parked in pending_events) against new messages
    -- (exclusive, before pending events are matched to them): whichever commits second sees the other.
    when 'pending events' then 7361003
    -- Deleting a subscriber (exclusive) against starting a campaign (shared).
    when 'subscriber deletion' then 7361004
    -- One worker pool is alive (class of a two-key session lock: 7361005, hashtext(pool id)).
    when 'worker liveness' then 7361005
  end
$$;

comment on function app_hidden.advisory_lock_id(name text) is 'The number of each advisory lock Mailroom takes, by name (roles, sql sources, pending events, subscriber deletion, worker liveness); NULL for an unknown name. The file migrations/sql/10-common/advisory_lock_id.sql documents when each is taken and the lock order.';

-- In app_hidden: triggers that run as the request roles take locks too (deleting a subscriber).
revoke all on function app_hidden.advisory_lock_id(name text) from public;
grant execute on function app_hidden.advisory_lock_id(name text) to :DATABASE_ADMIN;
