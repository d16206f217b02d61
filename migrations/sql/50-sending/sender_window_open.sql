create or replace function app_public.sender_window_open(sender app_public.senders, at timestamptz default now()) returns boolean as $$
  select case
    when sender.send_window_start is null then true
    when sender.send_window_start < sender.send_window_end
      then (at at time zone sender.send_window_time_zone)::time >= sender.send_window_start
       and (at at time zone sender.send_window_time_zone)::time < sender.send_window_end
    else (at at time zone sender.send_window_time_zone)::time >= sender.send_window_start
      or (at at time zone sender.send_window_time_zone)::time < sender.send_window_end
  end
$$ language sql stable;

comment on function app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) is 'Whether the sender may send at the given time (default now) according to its send window, which may cross midnight.';

revoke all on function app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) from public;
grant execute on function app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) to :DATABASE_ADMIN;
grant execute on function app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) to :DATABASE_READONLY;
