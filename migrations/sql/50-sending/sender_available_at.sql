create or replace function app_private.sender_available_at(sender app_public.senders, at timestamptz default now()) returns timestamptz as $$
declare
  minute interval := interval '1 minute' * app_private.quota_time_scale();
  available timestamptz := at;
  local timestamp;
  window_limit integer;
  window_length interval;
  freed timestamptz;
begin
  select greatest(available, t.paused_until) into available from app_private.sender_throttles as t where t.sender_id = sender.id;
  available := coalesce(available, at);
  if not app_public.sender_window_open(sender, available) then
    local := date_trunc('day', available at time zone sender.send_window_time_zone) + sender.send_window_start;
    if (local at time zone sender.send_window_time_zone) <= available then
      local := local + interval '1 day';
    end if;
    available := local at time zone sender.send_window_time_zone;
  end if;
  for window_limit, window_length in
    select * from (values (sender.per_minute_limit, minute), (sender.per_hour_limit, 60 * minute),
                          (sender.per_day_limit, 1440 * minute)) as w
  loop
    continue when window_limit is null;
    -- The earliest time enough batches have left the window for one more message.
    select min(x.ends_at) + window_length into freed
    from (
      select s.ends_at, sum(s.sends) over () as used,
             sum(s.sends) over () - sum(s.sends) over (order by s.ends_at, s.id) as remaining
      from app_private.sender_sends as s
      where s.sender_id = sender.id and s.ends_at > available - window_length
    ) as x
    where x.used >= window_limit and x.remaining < window_limit;
    available := greatest(available, freed);
  end loop;
  return available;
end;
$$ language plpgsql stable set search_path to pg_catalog, public, pg_temp;

comment on function app_private.sender_available_at(sender app_public.senders, at timestamp with time zone) is 'The earliest time (from the given one) the sender may send again: after a 429 pause, in its send window, and once each full quota window has room for one more message.';

revoke all on function app_private.sender_available_at(sender app_public.senders, at timestamp with time zone) from public;
