-- The rate limit of the public subscribe form, kept in the database so that every server process shares it: per
-- key (ip:ADDRESS, email:SHA-256 of the lower-case address), at most limits[i] requests in a window of
-- window_seconds that opens with the key's first request and is followed by a new one once it has ended. Every
-- call counts, refused ones too. The table holds a row per key seen within the last window; rows of ended windows
-- are removed 100 per call, so it stays about as large as the keys of one window.
create or replace function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) returns integer
language plpgsql volatile
set search_path to pg_catalog, public, pg_temp
as $$
declare
  window_length interval := make_interval(secs => window_seconds);
  wait_until timestamptz;
begin
  delete from app_private.subscribe_rate_limits as r
  where r.key in (select o.key from app_private.subscribe_rate_limits as o where o.window_start <= now() - window_length limit 100);

  with asked as (
    select k.key, k.maximum from unnest(keys, limits) as k(key, maximum)
  ),
  counted as (
    -- In key order, so that two requests sharing keys never deadlock.
    insert into app_private.subscribe_rate_limits as r (key, window_start, hits)
    select a.key, now(), 1 from asked as a order by a.key
    on conflict (key) do update
      set hits = case when r.window_start > now() - window_length then r.hits + 1 else 1 end,
          window_start = case when r.window_start > now() - window_length then r.window_start else now() end
    returning r.key, r.hits, r.window_start
  )
  select max(c.window_start + window_length) into wait_until
  from counted as c join asked as a on a.key = c.key
  where c.hits > a.maximum;
  if wait_until is null then
    return 0;
  end if;
  return greatest(1, ceil(extract(epoch from wait_until - now())))::integer;
end;
$$;

comment on function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) is 'Counts one request of the public subscribe form against each key: at most limits[i] per window of window_seconds, opened by the key''s first request. Returns 0 when every key is within its limit, else the seconds until the window of the exceeded key ends (Retry-After).';

revoke all on function app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) from public;
