-- Subscribers (validated, unique case-insensitively), membership status times, senders (defaults, quotas,
-- send window across midnight, time zone check) and the quota reservation.
do $$
declare
  sub bigint;
  list bigint;
begin
  insert into app_public.subscribers (email, name) values ('  Ada@Example.org ', 'Ada') returning id into sub;
  assert (select email from app_public.subscribers where id = sub) = 'Ada@Example.org', 'trimmed';
  begin
    insert into app_public.subscribers (email) values ('ada@example.ORG');
    assert false, 'emails are unique case-insensitively';
  exception when unique_violation then null;
  end;
  begin
    insert into app_public.subscribers (email) values ('not an email');
    assert false, 'emails are validated';
  exception when check_violation then null;
  end;
  begin
    insert into app_public.subscribers (email, attributes) values ('x@example.org', '[1]');
    assert false, 'attributes are an object';
  exception when check_violation then null;
  end;
  insert into app_public.lists (name) values ('L') returning id into list;
  assert (select opt_in from app_public.lists where id = list) = 'double', 'double opt-in by default';
  insert into app_public.list_memberships (list_id, subscriber_id) values (list, sub);
  assert (select (status, confirmed_at) is not distinct from ('unconfirmed', null::timestamptz)
          from app_public.list_memberships where list_id = list), 'unconfirmed';
  update app_public.list_memberships set status = 'confirmed' where list_id = list;
  update app_public.list_memberships set status = 'unsubscribed' where list_id = list;
  assert (select (confirmed_at, unsubscribed_at, status_changed_at) = (now(), now(), now())
          from app_public.list_memberships where list_id = list), 'when each status was reached';
end
$$;

do $$
declare
  sender app_public.senders;
begin
  insert into app_public.senders (name, from_address, send_window_start, send_window_end, send_window_time_zone)
  values ('Night', 'news@News.Example.com', '22:00', '06:00', 'Europe/Paris') returning * into sender;
  assert (sender.sending_domain, sender.per_minute_limit, sender.per_hour_limit, sender.per_day_limit)
    is not distinct from ('news.example.com', 30, 100, null::integer), 'ACS''s default quotas; domain from the address';
  assert app_public.sender_window_open(sender, '2026-11-27T23:30:00+01:00'), 'open before midnight';
  assert app_public.sender_window_open(sender, '2026-11-28T05:59:00+01:00'), 'open after midnight';
  assert not app_public.sender_window_open(sender, '2026-11-28T06:00:00+01:00'), 'closed at the end';
  assert not app_public.sender_window_open(sender, '2026-11-28T12:00:00+01:00'), 'closed by day';
  begin
    insert into app_public.senders (name, from_address, send_window_start, send_window_end, send_window_time_zone)
    values ('Bad', 'bad@example.com', '09:00', '17:00', 'Mars/Olympus');
    assert false, 'unknown time zones are refused';
  exception when invalid_parameter_value then null;
  end;
  begin
    insert into app_public.senders (name, from_address, send_window_start) values ('Half', 'half@example.com', '09:00');
    assert false, 'a window needs start, end and zone';
  exception when check_violation then null;
  end;

  perform app_public.set_sender_connection_string(sender.id, 'endpoint=https://x.communication.azure.com/;accesskey=a2V5');
  assert (select connection_string from app_private.sender_secrets where sender_id = sender.id) like 'endpoint=%', 'kept';
end
$$;
