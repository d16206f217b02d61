-- Step 5 of ingestion, as for test sends: events of confirmation emails match a confirmation, never a message, so
-- they are in no campaign and no rollup, and never pending. A delivery report sets the confirmation's delivery
-- status (the report of highest rank, as for messages). Returns the ids of the events that match no confirmation.
create or replace function app_private.record_confirmation_reports(raw_event_ids bigint[]) returns bigint[]
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  matched_ids bigint[];
begin
  with event as (
    select e.id, c.id as confirmation_id, app_private.event_kind(e.event_type) as kind, e.status, e.status_message,
      coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at
    from app_public.raw_events as e
    join app_public.confirmations as c
      on c.internet_message_id = e.internet_message_id or c.operation_id = e.operation_id
    where e.id = any(raw_event_ids)
  ),
  report as (
    select distinct on (r.confirmation_id) r.confirmation_id, r.status, r.status_message, r.occurred_at,
      app_private.delivery_report_rank(ds.precedence, r.occurred_at, r.status, r.status_message) as rank
    from event as r left join app_public.delivery_statuses as ds on ds.status = r.status
    where r.kind = 'delivery_report' and r.status is not null
    order by r.confirmation_id, rank desc
  ),
  updated as (
    update app_public.confirmations as c
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where c.id = r.confirmation_id
      and (c.delivery_status_at is null
           or r.rank > app_private.delivery_report_rank(
                (select ds.precedence from app_public.delivery_statuses as ds where ds.status = c.delivery_status),
                c.delivery_status_at, c.delivery_status, c.delivery_status_message))
  )
  select array_agg(distinct e.id) into matched_ids from event as e;
  return array(select unnest(raw_event_ids) except select unnest(matched_ids));
end;
$$;

comment on function app_private.record_confirmation_reports(raw_event_ids bigint[]) is 'Step 5 of ingestion: delivery reports of confirmation emails set their confirmation''s delivery status (the report of highest delivery_report_rank). Returns the ids, among those given, of events that match no confirmation.';

revoke all on function app_private.record_confirmation_reports(raw_event_ids bigint[]) from public;
