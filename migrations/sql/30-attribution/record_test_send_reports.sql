-- Step 5 of ingestion: events of test emails (send_test_email) match a test send, not a message. A delivery
-- report sets the test send's delivery status (the report of highest rank, as for messages). Returns the ids of
-- the events that match no test send either.
create or replace function app_private.record_test_send_reports(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  matched_ids bigint[];
begin
  with event as (
    select e.id, t.id as test_send_id, app_private.event_kind(e.event_type) as kind, e.status, e.status_message,
      coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at
    from app_public.raw_events as e
    join app_public.test_sends as t
      on t.internet_message_id = e.internet_message_id or t.operation_id = e.operation_id
    where e.id = any(raw_event_ids)
  ),
  report as (
    select distinct on (r.test_send_id) r.test_send_id, r.status, r.status_message, r.occurred_at,
      app_private.delivery_report_rank(ds.precedence, r.occurred_at, r.status, r.status_message) as rank
    from event as r left join app_public.delivery_statuses as ds on ds.status = r.status
    where r.kind = 'delivery_report' and r.status is not null
    order by r.test_send_id, rank desc
  ),
  updated as (
    update app_public.test_sends as t
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where t.id = r.test_send_id
      and (t.delivery_status_at is null
           or r.rank > app_private.delivery_report_rank(
                (select ds.precedence from app_public.delivery_statuses as ds where ds.status = t.delivery_status),
                t.delivery_status_at, t.delivery_status, t.delivery_status_message))
  )
  select array_agg(distinct e.id) into matched_ids from event as e;
  return array(select unnest(raw_event_ids) except select unnest(matched_ids));
end;
$$;

comment on function app_private.record_test_send_reports(raw_event_ids bigint[]) is 'Step 5 of ingestion: delivery reports of test emails set their test send''s delivery status (the report of highest delivery_report_rank). Returns the ids, among those given, of events that match no test send.';

revoke all on function app_private.record_test_send_reports(raw_event_ids bigint[]) from public;
