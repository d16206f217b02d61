-- The rate limit of the public subscribe form, kept in the database so that every server process shares it: a
-- fixed window of window_seconds per key (ip:ADDRESS, email:SHA-256 of the lower-case address). Every call counts,
-- refused ones too. The table holds one row per key seen in the current window; rows of past windows are removed
-- 100 per call, so it stays about as large as the keys of one window.
create or replace function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) returns integer
language plpgsql volatile
set search_path to pg_catalog, public, pg_temp
as $$
declare
  window_length interval := make_interval(secs => window_seconds);
  current_window timestamptz := date_bin(make_interval(secs => window_seconds), now(), timestamptz '2000-01-01 00:00:00+00');
  exceeded boolean;
begin
  delete from app_private.subscribe_rate_limits as r
  where r.key in (select o.key from app_private.subscribe_rate_limits as o where o.window_start < current_window limit 100);

  with asked as (
    select k.key, k.maximum from unnest(keys, limits) as k(key, maximum)
  ),
  counted as (
    -- In key order, so that two requests sharing keys never deadlock.
    insert into app_private.subscribe_rate_limits as r (key, window_start, hits)
    select a.key, current_window, 1 from asked as a order by a.key
    on conflict (key) do update
      set hits = case when r.window_start = excluded.window_start then r.hits + 1 else 1 end,
          window_start = excluded.window_start
    returning r.key, r.hits
  )
  select coalesce(bool_or(c.hits > a.maximum), false) into exceeded from counted as c join asked as a on a.key = c.key;
  if exceeded then
    return greatest(1, ceil(extract(epoch from current_window + window_length - now())))::integer;
  end if;
  return 0;
end;
$$;

comment on function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) is 'Counts one request of the public subscribe form against each key (at most limits[i] per fixed window of window_seconds); returns 0 when every key is within its limit, else the seconds until the window ends (Retry-After).';

revoke all on function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) from public;
