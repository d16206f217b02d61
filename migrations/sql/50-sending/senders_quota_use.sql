create or replace function app_public.senders_quota_use(sender app_public.senders) returns app_public.sender_quota_use as $$
  select u.minute_sent, u.hour_sent, u.day_sent,
    -- greatest() ignores NULL: without the case, no quota (NULL) would read as nothing left (0).
    case when sender.per_minute_limit is not null then greatest(0, sender.per_minute_limit - u.minute_sent) end,
    case when sender.per_hour_limit is not null then greatest(0, sender.per_hour_limit - u.hour_sent) end,
    case when sender.per_day_limit is not null then greatest(0, sender.per_day_limit - u.day_sent) end,
    app_private.sender_capacity(sender),
    (select t.paused_until from app_private.sender_throttles as t where t.sender_id = sender.id and t.paused_until > now()),
    app_public.sender_window_open(sender)
  from (
    select coalesce(sum(s.sends) filter (where s.ends_at > now() - w.minute), 0)::integer as minute_sent,
      coalesce(sum(s.sends) filter (where s.ends_at > now() - 60 * w.minute), 0)::integer as hour_sent,
      coalesce(sum(s.sends), 0)::integer as day_sent
    from (select interval '1 minute' * app_private.quota_time_scale() as minute) as w
    left join app_private.sender_sends as s on s.sender_id = sender.id and s.ends_at > now() - 1440 * w.minute
    group by w.minute
  ) as u
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.senders_quota_use(sender app_public.senders) is 'The sender''s quota use right now, in the windows the sending worker applies (app_private.sender_capacity).';

revoke all on function app_public.senders_quota_use(sender app_public.senders) from public;
grant execute on function app_public.senders_quota_use(sender app_public.senders) to :DATABASE_ADMIN;
grant execute on function app_public.senders_quota_use(sender app_public.senders) to :DATABASE_READONLY;
