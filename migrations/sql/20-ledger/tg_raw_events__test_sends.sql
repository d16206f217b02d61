create or replace function app_private.tg_raw_events__test_sends() returns trigger as $$
begin
  with matched as (
    select e.id, t.id as test_send_id, e.event_type, e.status, e.status_message, e.occurred_at
    from new_events as e join app_public.test_sends as t on t.internet_message_id = e.internet_message_id
    union
    select e.id, t.id, e.event_type, e.status, e.status_message, e.occurred_at
    from new_events as e join app_public.test_sends as t on t.operation_id = e.operation_id
  ),
  unparked as (
    delete from app_private.pending_events as p using matched as m where p.raw_event_id = m.id
  ),
  report as (
    select distinct on (test_send_id) test_send_id, status, status_message, occurred_at
    from matched
    where app_private.event_kind(event_type) = 'delivery_report' and status is not null
    order by test_send_id, occurred_at desc
  )
  update app_public.test_sends as t
  set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
  from report as r
  where t.id = r.test_send_id and (t.delivery_status_at is null or t.delivery_status_at <= r.occurred_at);
  return null;
end;
$$ language plpgsql set search_path = pg_catalog, public, pg_temp;

comment on function app_private.tg_raw_events__test_sends() is 'Statement trigger: events of test emails are no one''s pending events; delivery reports set the test send''s delivery status.';

revoke all on function app_private.tg_raw_events__test_sends() from public;

create or replace trigger _600_test_sends after insert on app_public.raw_events referencing new table as new_events for each statement execute function app_private.tg_raw_events__test_sends();
