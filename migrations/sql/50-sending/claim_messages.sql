create or replace function app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer)
returns table (
  message_id bigint, sender_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text,
  recipient text, look_up boolean, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb,
  list_id bigint, list_name text
) as $$
declare
  campaign app_public.campaigns;
  lease interval := make_interval(secs => lease_seconds);
  room integer := max_messages;
  senders bigint[];
  capacities integer[];
  take integer;
  ids bigint[];
begin
  -- Shares the campaign's row lock with other claims; pause and cancel (which lock it for update) wait for
  -- running claims and are seen by every later one.
  select * into campaign from app_public.campaigns as c where c.id = claim_messages.campaign_id for share;
  if not found then
    return;
  end if;
  -- Then the campaign's senders (in id order), before any message: reservations of every process are
  -- serialised per sender, the capacity below sees every reservation committed before, and every claim takes
  -- its locks in the same order (campaign, senders, messages, rollup), so claims never deadlock.
  perform 1 from app_public.senders as s
  where s.id = campaign.sender_id
     or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = campaign.id)
  order by s.id
  for update;

  -- Messages whose outcome is unknown (a 5xx, timeout or network error, or a worker that died holding them)
  -- come back when their lease ends, still 'sending', with their sender: the worker looks them up at ACS
  -- before anything else. This happens whatever the campaign's status. Their look-ups settle the reservation
  -- of a claim that was never recorded (record_send_outcomes finds it by message).
  return query
  with in_doubt as (
    select m.id from app_public.messages as m
    where m.campaign_id = campaign.id and m.send_status = 'sending' and m.lease_expires_at <= now()
    order by m.lease_expires_at, m.id
    limit room
    for update skip locked
  )
  update app_public.messages as m set lease_expires_at = now() + lease
  from in_doubt
  where m.id = in_doubt.id
  returning m.id, m.sender_id, null::bigint, m.operation_id, m.internet_message_id, m.recipient, true,
    m.subscriber_id, null::text, null::jsonb, null::bigint, null::text;
  get diagnostics room = row_count;
  room := max_messages - room;
  if room <= 0 or campaign.status <> 'running' then
    return;
  end if;

  -- New sends: the campaign's senders with capacity, most remaining capacity first; each takes what it can of
  -- what is left of the claim.
  select array_agg(x.id order by x.capacity desc, x.id), array_agg(least(x.capacity, room) order by x.capacity desc, x.id)
  into senders, capacities
  from (
    select s.id, app_private.sender_capacity(s) as capacity
    from app_public.senders as s
    where s.id = campaign.sender_id
       or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = campaign.id)
  ) as x
  where x.capacity > 0;
  take := least(room, (select sum(c) from unnest(capacities) as c));
  if take is null or take <= 0 then
    return;
  end if;

  -- The first queued messages, locked; then everything else reads them by primary key (a plan for the claim's
  -- size, not the campaign's).
  select array_agg(q.id order by q.id) into ids
  from (
    select m.id from app_public.messages as m
    where m.campaign_id = campaign.id and m.send_status = 'queued'
    order by m.id
    limit take
    for update skip locked
  ) as q;
  if ids is null then
    return;
  end if;

  return query
  with shares as (
    select sh.sender_id, sum(sh.capacity) over (order by sh.n) - sh.capacity as first, sum(sh.capacity) over (order by sh.n) as last
    from unnest(senders, capacities) with ordinality as sh(sender_id, capacity, n)
  ),
  assigned as (
    select q.id, sh.sender_id
    from unnest(ids) with ordinality as q(id, n)
    join shares as sh on q.n - 1 >= sh.first and q.n - 1 < sh.last
  ),
  reserved as (
    insert into app_private.sender_sends (sender_id, sends, ends_at, message_ids)
    select a.sender_id, count(*), now() + lease, array_agg(a.id order by a.id) from assigned as a group by a.sender_id
    returning id, sender_sends.sender_id
  ),
  claimed as (
    update app_public.messages as m
    set send_status = 'sending', sender_id = a.sender_id, lease_expires_at = now() + lease,
        send_attempts = m.send_attempts + 1
    from assigned as a
    where m.id = a.id
    returning m.id, m.sender_id, m.operation_id, m.internet_message_id, m.recipient, m.subscriber_id
  )
  select c.id, c.sender_id, r.id, c.operation_id, c.internet_message_id, c.recipient, false,
         c.subscriber_id, s.name, s.attributes, l.id, l.name
  from claimed as c
  join reserved as r on r.sender_id = c.sender_id
  join app_public.subscribers as s on s.id = c.subscriber_id
  left join lateral (
    select l.id, l.name
    from app_public.campaign_lists as cl
    join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = c.subscriber_id
    join app_public.lists as l on l.id = cl.list_id
    where cl.campaign_id = campaign.id
    order by l.id
    limit 1
  ) as l on true;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer) is 'Claims up to max_messages of a campaign for one worker, with a lease of lease_seconds (FOR UPDATE SKIP LOCKED, so any number of workers may claim at once). First messages in doubt whose lease ended (look_up: ask ACS before sending again), then, while the campaign is running, queued messages for the senders with capacity (quota windows, send window, 429 pause), reserved in sender_sends with the ids of the messages.';

revoke all on function app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer) from public;
