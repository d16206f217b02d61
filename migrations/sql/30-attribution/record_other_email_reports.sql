-- Step 5 of ingestion: events of the emails that are not messages of a campaign, test emails (send_test_email) and
-- double opt-in confirmation emails, match their row in app_public.test_sends or app_public.confirmations by
-- Message-ID or operation id, never a message: they are in no campaign and no rollup, and never pending. A delivery
-- report sets the email's delivery status (the report of highest delivery_report_rank, as for messages). Returns the
-- ids, among those given, of the events that match none of them.

-- The two functions this one replaced.
drop function if exists app_private.record_test_send_reports(bigint[]);
drop function if exists app_private.record_confirmation_reports(bigint[]);

create or replace function app_private.record_other_email_reports(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  matched_ids bigint[];
begin
  with email as (
    select 'test send' as kind, t.id, t.internet_message_id, t.operation_id, t.delivery_status, t.delivery_status_message, t.delivery_status_at
    from app_public.test_sends as t
    union all
    select 'confirmation', c.id, c.internet_message_id, c.operation_id, c.delivery_status, c.delivery_status_message, c.delivery_status_at
    from app_public.confirmations as c
  ),
  event as (
    select e.id, m.kind as email_kind, m.id as email_id, app_private.event_kind(e.event_type) as kind, e.status, e.status_message,
      coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at
    from app_public.raw_events as e
    join email as m on m.internet_message_id = e.internet_message_id or m.operation_id = e.operation_id
    where e.id = any(raw_event_ids)
  ),
  -- Each email's best new report, kept only when it ranks above the status the email has.
  report as (
    select r.* from (
      select distinct on (r.email_kind, r.email_id) r.email_kind, r.email_id, r.status, r.status_message, r.occurred_at,
        app_private.delivery_report_rank(ds.precedence, r.occurred_at, r.status, r.status_message) as rank
      from event as r left join app_public.delivery_statuses as ds on ds.status = r.status
      where r.kind = 'delivery_report' and r.status is not null
      order by r.email_kind, r.email_id, rank desc
    ) as r
    join email as m on m.kind = r.email_kind and m.id = r.email_id
    where m.delivery_status_at is null
       or r.rank > app_private.delivery_report_rank(
            (select ds.precedence from app_public.delivery_statuses as ds where ds.status = m.delivery_status),
            m.delivery_status_at, m.delivery_status, m.delivery_status_message)
  ),
  test_send as (
    update app_public.test_sends as t
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where r.email_kind = 'test send' and t.id = r.email_id
  ),
  confirmation as (
    update app_public.confirmations as c
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where r.email_kind = 'confirmation' and c.id = r.email_id
  )
  select array_agg(distinct e.id) into matched_ids from event as e;
  return array(select unnest(raw_event_ids) except select unnest(matched_ids));
end;
$$;

comment on function app_private.record_other_email_reports(raw_event_ids bigint[]) is 'Step 5 of ingestion: delivery reports of test emails and of confirmation emails set the delivery status of their test send or confirmation (the report of highest delivery_report_rank). Returns the ids, among those given, of events that match neither.';

revoke all on function app_private.record_other_email_reports(raw_event_ids bigint[]) from public;
