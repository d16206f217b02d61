create or replace function app_private.sender_capacity(sender app_public.senders, at timestamptz default now()) returns integer as $$
  select case
    when not app_public.sender_window_open(sender, at) then 0
    when exists (select 1 from app_private.sender_throttles as t where t.sender_id = sender.id and t.paused_until > at) then 0
    else greatest(0, least(
      coalesce(sender.per_minute_limit - coalesce(sum(s.sends) filter (where s.ends_at > at - w.minute), 0), 2147483647),
      coalesce(sender.per_hour_limit - coalesce(sum(s.sends) filter (where s.ends_at > at - 60 * w.minute), 0), 2147483647),
      coalesce(sender.per_day_limit - coalesce(sum(s.sends), 0), 2147483647)))::integer
  end
  from (select interval '1 minute' * app_private.quota_time_scale() as minute) as w
  left join app_private.sender_sends as s on s.sender_id = sender.id and s.ends_at > at - 1440 * w.minute
    and (sender.per_minute_limit is not null or sender.per_hour_limit is not null or sender.per_day_limit is not null)
  group by w.minute
$$ language sql stable set search_path to pg_catalog, public, pg_temp;

comment on function app_private.sender_capacity(sender app_public.senders, at timestamp with time zone) is 'How many more messages the sender may hand to ACS at the given time: 0 outside its send window or while paused after a 429, else what every quota window (sliding minute, hour, day) leaves.';

revoke all on function app_private.sender_capacity(sender app_public.senders, at timestamp with time zone) from public;
