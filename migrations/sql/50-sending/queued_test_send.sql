create or replace function app_private.queued_test_send(test_send_id bigint) returns table (
  test_send_id bigint, campaign_id bigint, sender_id bigint, operation_id uuid, internet_message_id text,
  recipient text, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb, list_id bigint, list_name text
) as $$
  select t.id, t.campaign_id, t.sender_id, t.operation_id, t.internet_message_id, t.recipient,
         t.subscriber_id, s.name, s.attributes, l.id, l.name
  from app_public.test_sends as t
  left join app_public.subscribers as s on s.id = t.subscriber_id
  left join lateral (
    select l.id, l.name
    from app_public.campaign_lists as cl
    join app_public.lists as l on l.id = cl.list_id
    left join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = t.subscriber_id
    where cl.campaign_id = t.campaign_id
    order by lm.list_id is null, l.id
    limit 1
  ) as l on true
  where t.id = queued_test_send.test_send_id and t.status = 'queued'
$$ language sql stable set search_path = pg_catalog, public, pg_temp;

comment on function app_private.queued_test_send(test_send_id bigint) is 'A queued test send with what rendering it needs: the subscriber''s fields when the address is a subscriber''s, and the list (the first of the campaign''s lists the subscriber is on, else its first list). No row once sent.';

revoke all on function app_private.queued_test_send(test_send_id bigint) from public;
