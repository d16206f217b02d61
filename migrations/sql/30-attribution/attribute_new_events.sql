-- Ingestion, after the events are stored in raw_events (by ingest_job, through ingest_events): the steps every
-- new event goes through, in one transaction with the insert.
--
--   1. match     each event to its message by the attribution rule          attribute_events
--   2. record    it once in message_events; bounces; suppression            attribute_events
--   3. apply     it to its message: delivery status, views, clicks          attribute_events (refresh_messages)
--   4. roll up   the messages' change into campaign_rollups                 trigger on messages: tg_messages__rollup
--   5. test      reports of test emails set their test send's status,      record_other_email_reports
--                and of confirmation emails their confirmation's
--   6. park      events that match nothing wait in pending_events           below
--
-- Locks, in this order: message rows (id order, step 1), subscribers a bounce or suppression changes (id order,
-- step 2), campaign_rollups rows (campaign id order, step 4), then,
-- only when some event matched no message, advisory lock 'pending events' shared. An event of a message that a
-- concurrent transaction is creating (start_campaign) is matched again once that lock is held: messages created
-- by transactions committed meanwhile are visible then, and a message committed later attributes the parked
-- event itself (tg_messages__attribute_pending, which takes the same lock exclusively). Events of existing
-- messages never wait for a campaign that is starting.
create or replace function app_private.attribute_new_events(raw_event_ids bigint[]) returns void
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  unmatched_ids bigint[];
begin
  -- Steps 1 to 4.
  unmatched_ids = app_private.attribute_events(raw_event_ids);
  if unmatched_ids is null then
    return;
  end if;
  -- Step 5.
  unmatched_ids = app_private.record_other_email_reports(unmatched_ids);
  if cardinality(unmatched_ids) = 0 then
    return;
  end if;
  -- Step 6: with the lock, look once more (a statement now sees what committed before the lock was granted): when
  -- a message with one of their keys exists now, attribute again; then park what still matches nothing.
  perform pg_advisory_xact_lock_shared(app_hidden.advisory_lock_id('pending events'));
  if exists (select 1 from app_public.raw_events as e
             where e.id = any(unmatched_ids)
               and (exists (select 1 from app_public.messages as m where m.internet_message_id = e.internet_message_id)
                    or exists (select 1 from app_public.messages as m where m.operation_id = e.operation_id))) then
    unmatched_ids = app_private.attribute_events(unmatched_ids);
  end if;
  insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
  select e.id, e.internet_message_id, e.operation_id, e.recipient
  from app_public.raw_events as e
  where e.id = any(unmatched_ids) and (e.internet_message_id is not null or e.operation_id is not null)
  order by e.id;
end;
$$;

comment on function app_private.attribute_new_events(raw_event_ids bigint[]) is 'Ingestion of newly stored raw events (by id), in named steps: match, record and apply to messages (attribute_events), roll up (the trigger on messages), test sends and confirmation emails (record_other_email_reports), park in pending_events what matches no message. Called by the statement trigger on raw_events; the file migrations/sql/30-attribution/attribute_new_events.sql documents the steps and their lock order.';

revoke all on function app_private.attribute_new_events(raw_event_ids bigint[]) from public;
