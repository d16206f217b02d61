-- Order independence: for one message, every distinct order of {message row appears, delivery report, view,
-- click, a duplicate of each event} (630 orders, one message each) ends in the same state, counted once.
-- Round k applies the k-th step of every order: one message INSERT and one ingest batch per round.
insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.campaigns (name, sender_id) select 'P', id from app_public.senders;

create temporary table plan as
with recursive seq(s) as (
  select ''::text
  union all
  select s || x from seq, unnest(array['M', 'D', 'V', 'C']) as x where length(s) < 7
)
select row_number() over (order by s) as n, s as steps
from seq
where length(s) = 7 and length(replace(s, 'M', '')) = 6 and length(replace(s, 'D', '')) = 5
  and length(replace(s, 'V', '')) = 5 and length(replace(s, 'C', '')) = 5;
alter table plan add column subscriber_id bigint, add column internet_message_id text, add column operation_id uuid,
  add column other_message_id uuid;
insert into app_public.subscribers (email) select 'p' || n || '@example.org' from plan;
update plan set subscriber_id = s.id, internet_message_id = '<' || gen_random_uuid() || '@news.example.com>',
  operation_id = gen_random_uuid(), other_message_id = gen_random_uuid()
from app_public.subscribers as s where s.email = 'p' || plan.n || '@example.org';

create function pg_temp.run_round(k integer) returns void as $$
  insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id, operation_id,
                                   send_status, accepted_at)
  select c.id, p.subscriber_id, c.sender_id, 'p' || p.n || '@example.org', p.internet_message_id, p.operation_id,
         'accepted', '2026-11-27T10:00:00Z'
  from plan as p, app_public.campaigns as c
  where c.name = 'P' and substr(p.steps, k, 1) = 'M';
  select app_private.ingest_events(jsonb_build_object('schema', 'eventgrid', 'receivedAt', now(), 'events', coalesce(jsonb_agg(
    jsonb_build_object('id', substr(p.steps, k, 1) || '-' || p.n, 'topic', '/subscriptions/s/CommunicationServices/acs',
      'eventTime', '2026-11-27T10:05:00Z', 'eventType', case substr(p.steps, k, 1)
        when 'D' then 'Microsoft.Communication.EmailDeliveryReportReceived'
        else 'Microsoft.Communication.EmailEngagementTrackingReportReceived' end,
      'data', case substr(p.steps, k, 1)
        when 'D' then jsonb_build_object('recipient', 'p' || p.n || '@example.org', 'messageId', p.operation_id,
          'internetMessageId', p.internet_message_id, 'status', 'Delivered', 'deliveryAttemptTimestamp', '2026-11-27T10:01:00Z')
        when 'V' then jsonb_build_object('recipient', 'p' || p.n || '@example.org', 'messageId', p.other_message_id,
          'internetMessageId', p.internet_message_id, 'engagementType', 'view', 'userAgent', 'Mozilla/5.0 (Windows NT 10.0) Chrome/131.0',
          'userActionTimestamp', '2026-11-27T10:02:00Z')
        else jsonb_build_object('recipient', 'P' || p.n || '@example.org', 'messageId', p.operation_id,
          'engagementType', 'Click', 'engagementContext', 'https://example.com/' || p.n, 'userAgent', 'Mozilla/5.0 (iPhone) Mobile/15E148',
          'userActionTimeStamp', '2026-11-27T10:03:00Z')
      end)), '[]'::jsonb)))
  from plan as p
  where substr(p.steps, k, 1) <> 'M';
$$ language sql;

select pg_temp.run_round(k) from generate_series(1, 7) as k;

do $$
declare
  cid bigint := (select id from app_public.campaigns where name = 'P');
  expected app_public.campaign_rollups;
begin
  assert (select count(*) from plan) = 630, '630 distinct orders';
  assert (select count(*) from app_public.messages) = 630, 'one message each';
  assert (select count(*) from app_public.raw_events) = 3 * 630, 'three events each, duplicates folded';
  assert (select bool_and(times_received = 2) from app_public.raw_events), 'every event received twice';
  assert (select count(*) from app_public.message_events) = 3 * 630, 'every event attributed exactly once';
  assert not exists (select 1 from app_private.pending_events), 'nothing left pending';
  assert (select count(*) from app_public.messages
          where (delivery_status, delivery_status_at, opens_human, opens_machine, clicks_human, clicks_machine,
                 first_opened_at, last_opened_at, first_clicked_at, last_clicked_at)
              = ('Delivered', '2026-11-27T10:01:00Z'::timestamptz, 1, 0, 1, 0, '2026-11-27T10:02:00Z'::timestamptz,
                 '2026-11-27T10:02:00Z'::timestamptz, '2026-11-27T10:03:00Z'::timestamptz, '2026-11-27T10:03:00Z'::timestamptz)
         ) = 630, 'every order ends in the same message state';
  select * into expected from app_public.campaign_rollups as r where r.campaign_id = cid;
  assert (expected.recipients, expected.accepted, expected.delivered, expected.unique_opens_human, expected.opens_human,
          expected.opens, expected.unique_clicks_human, expected.clicks_human, expected.clicks)
       = (630, 630, 630, 630, 630, 630, 630, 630, 630), 'the rollup counts each effect once';
  assert (select r = expected from app_public.campaign_rollup_from_events(cid) as r),
    'the maintained rollup equals the one computed from the raw events';
  assert (select r = expected from app_public.recompute_campaign_rollup(cid) as r), 'recompute agrees';
  assert (select r = expected from app_public.campaign_rollups as r where r.campaign_id = cid), 'and leaves it as it was';
end
$$;
