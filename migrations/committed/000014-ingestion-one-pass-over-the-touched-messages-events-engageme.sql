--! Previous: sha1:72da2f4a8de790105bd1609d588fbcb81c7943bc
--! Hash: sha1:794ed033998308264e42d9d3f1781b000b058faa
--! Message: Ingestion: one pass over the touched messages' events, engagement looked up only when acceptance changed, operation id only when the Message-ID did not match

-- Ingestion speed (measured side by side, bench/sql-core.ts):
-- * refresh_messages classifies engagement and derives the message columns in one statement, from one read of
--   the touched messages' engagement events; the burst rule compares each click with the clicks of its own
--   message only (it compared every click of the batch with every other one).
-- * The messages rollup trigger looks up engagement events only for messages whose acceptance time changed
--   (it joined every updated message with the events table first).
-- * Attribution looks an event up by operation id only when its Message-ID did not match.

create or replace function app_private.refresh_messages(message_ids bigint[]) returns void as $$
begin
  -- A consistent lock order keeps concurrent batches from deadlocking on shared messages.
  perform 1 from app_public.messages where id = any(message_ids) order by id for update;

  -- One pass over the events of the touched messages: engagement is classified (machine or human, with the
  -- reason: the user agent, too soon after acceptance, or a burst of clicks), changed reasons are written back,
  -- and the message's derived columns are computed from the classified events and the delivery reports.
  with settings as materialized (select * from app_public.engagement_settings),
  engagement as materialized (
    select me.raw_event_id, me.message_id, me.engagement_type, me.url, me.occurred_at, me.user_agent_reason,
           me.machine_reason, m.accepted_at
    from app_public.message_events as me
    join app_public.messages as m on m.id = me.message_id
    where me.message_id = any(message_ids) and me.kind = 'engagement'
  ),
  clicks as (
    select message_id, array_agg(url) as urls, array_agg(occurred_at) as times
    from engagement
    where engagement_type = 'click' and url is not null
    group by message_id
  ),
  burst as (
    -- For each click, the distinct links clicked in the same message within burst_seconds of it.
    select e.raw_event_id,
      (select count(distinct other.url)
       from unnest(c.urls, c.times) as other(url, occurred_at)
       where other.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                   and e.occurred_at + make_interval(secs => s.burst_seconds)) as distinct_links
    from engagement as e
    join clicks as c on c.message_id = e.message_id
    cross join settings as s
    where e.engagement_type = 'click'
  ),
  classified as materialized (
    select e.raw_event_id, e.message_id, e.engagement_type, e.occurred_at, e.machine_reason as old_reason, coalesce(
      e.user_agent_reason,
      case when e.occurred_at < e.accepted_at + make_interval(secs => s.minimum_seconds_after_acceptance)
           then 'less than ' || s.minimum_seconds_after_acceptance || ' s after acceptance' end,
      case when b.distinct_links >= s.burst_distinct_links
           then 'burst: clicks on ' || b.distinct_links || ' links within ' || s.burst_seconds || ' s' end
    ) as machine_reason
    from engagement as e cross join settings as s left join burst as b on b.raw_event_id = e.raw_event_id
  ),
  reclassified as (
    update app_public.message_events as me set machine_reason = c.machine_reason
    from classified as c
    where me.raw_event_id = c.raw_event_id and c.machine_reason is distinct from c.old_reason
  ),
  report as (
    select distinct on (me.message_id) me.message_id, me.status, me.status_message, me.occurred_at, me.bounce_type
    from app_public.message_events as me
    left join app_public.delivery_statuses as ds on ds.status = me.status
    where me.message_id = any(message_ids) and me.kind = 'delivery_report'
    order by me.message_id, coalesce(ds.precedence, 0) desc, me.occurred_at desc, me.raw_event_id desc
  ),
  engagement_counts as (
    select c.message_id,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null) as opens_human,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is not null) as opens_machine,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null) as clicks_human,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is not null) as clicks_machine,
      min(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as first_opened_at,
      max(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as last_opened_at,
      min(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as first_clicked_at,
      max(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as last_clicked_at
    from classified as c
    group by c.message_id
  ),
  derived as (
    select m.id, r.status, r.status_message, r.occurred_at, r.bounce_type,
      coalesce(e.opens_human, 0) as opens_human, coalesce(e.opens_machine, 0) as opens_machine,
      coalesce(e.clicks_human, 0) as clicks_human, coalesce(e.clicks_machine, 0) as clicks_machine,
      e.first_opened_at, e.last_opened_at, e.first_clicked_at, e.last_clicked_at
    from app_public.messages as m
    left join report as r on r.message_id = m.id
    left join engagement_counts as e on e.message_id = m.id
    where m.id = any(message_ids)
  )
  update app_public.messages as m set
    delivery_status = d.status, delivery_status_message = d.status_message, delivery_status_at = d.occurred_at,
    bounce_type = d.bounce_type, opens_human = d.opens_human, opens_machine = d.opens_machine,
    clicks_human = d.clicks_human, clicks_machine = d.clicks_machine,
    first_opened_at = d.first_opened_at, last_opened_at = d.last_opened_at,
    first_clicked_at = d.first_clicked_at, last_clicked_at = d.last_clicked_at
  from derived as d
  where m.id = d.id
    and (m.delivery_status, m.delivery_status_message, m.delivery_status_at, m.bounce_type, m.opens_human,
         m.opens_machine, m.clicks_human, m.clicks_machine, m.first_opened_at, m.last_opened_at,
         m.first_clicked_at, m.last_clicked_at)
        is distinct from
        (d.status, d.status_message, d.occurred_at, d.bounce_type, d.opens_human, d.opens_machine,
         d.clicks_human, d.clicks_machine, d.first_opened_at, d.last_opened_at, d.first_clicked_at, d.last_clicked_at);
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
create or replace function app_private.tg_messages__rollup() returns trigger as $$
declare
  changes text;
  campaign_ids bigint[];
  accepted_changed bigint[];
begin
  changes = case tg_op
    when 'INSERT' then 'select 1 as sign, * from new_messages'
    when 'UPDATE' then 'select 1 as sign, * from new_messages union all select -1, * from old_messages'
    else 'select -1 as sign, * from old_messages'
  end;
  execute format($query$
    with changed as (%s),
    delta as (
      select
        campaign_id,
        sum(sign) as recipients,
        sum(sign) filter (where send_status = 'queued') as queued,
        sum(sign) filter (where send_status = 'sending') as sending,
        sum(sign) filter (where send_status = 'accepted') as accepted,
        sum(sign) filter (where send_status = 'failed') as send_failed,
        sum(sign) filter (where send_status = 'cancelled') as cancelled,
        sum(sign) filter (where send_status = 'skipped') as skipped,
        sum(sign) filter (where delivery_status = 'Delivered') as delivered,
        sum(sign) filter (where delivery_status = 'Expanded') as expanded,
        sum(sign) filter (where bounce_type = 'hard') as bounced_hard,
        sum(sign) filter (where bounce_type = 'soft') as bounced_soft,
        sum(sign) filter (where delivery_status = 'Suppressed') as suppressed,
        sum(sign) filter (where delivery_status = 'FilteredSpam') as filtered_spam,
        sum(sign) filter (where delivery_status = 'Quarantined') as quarantined,
        sum(sign) filter (where delivery_status = 'Failed') as delivery_failed,
        sum(sign) filter (where delivery_status is not null and delivery_status not in
          ('Delivered', 'Expanded', 'Bounced', 'Suppressed', 'FilteredSpam', 'Quarantined', 'Failed')) as unknown_status,
        sum(sign) filter (where opens_human > 0) as unique_opens_human,
        sum(sign) filter (where opens_human + opens_machine > 0) as unique_opens,
        sum(sign * opens_human) as opens_human,
        sum(sign * (opens_human + opens_machine)) as opens,
        sum(sign) filter (where clicks_human > 0) as unique_clicks_human,
        sum(sign) filter (where clicks_human + clicks_machine > 0) as unique_clicks,
        sum(sign * clicks_human) as clicks_human,
        sum(sign * (clicks_human + clicks_machine)) as clicks,
        sum(sign) filter (where unsubscribed_at is not null) as unsubscribes,
        sum(sign) filter (where complained_at is not null) as complaints
      from changed
      group by campaign_id
    ),
    locked as (
      select r.campaign_id from app_public.campaign_rollups as r
      where r.campaign_id in (select campaign_id from delta)
      order by r.campaign_id
      for update
    )
    update app_public.campaign_rollups as r set
      recipients = r.recipients + coalesce(d.recipients, 0),
      queued = r.queued + coalesce(d.queued, 0),
      sending = r.sending + coalesce(d.sending, 0),
      accepted = r.accepted + coalesce(d.accepted, 0),
      send_failed = r.send_failed + coalesce(d.send_failed, 0),
      cancelled = r.cancelled + coalesce(d.cancelled, 0),
      skipped = r.skipped + coalesce(d.skipped, 0),
      delivered = r.delivered + coalesce(d.delivered, 0),
      expanded = r.expanded + coalesce(d.expanded, 0),
      bounced_hard = r.bounced_hard + coalesce(d.bounced_hard, 0),
      bounced_soft = r.bounced_soft + coalesce(d.bounced_soft, 0),
      suppressed = r.suppressed + coalesce(d.suppressed, 0),
      filtered_spam = r.filtered_spam + coalesce(d.filtered_spam, 0),
      quarantined = r.quarantined + coalesce(d.quarantined, 0),
      delivery_failed = r.delivery_failed + coalesce(d.delivery_failed, 0),
      unknown_status = r.unknown_status + coalesce(d.unknown_status, 0),
      unique_opens_human = r.unique_opens_human + coalesce(d.unique_opens_human, 0),
      unique_opens = r.unique_opens + coalesce(d.unique_opens, 0),
      opens_human = r.opens_human + coalesce(d.opens_human, 0),
      opens = r.opens + coalesce(d.opens, 0),
      unique_clicks_human = r.unique_clicks_human + coalesce(d.unique_clicks_human, 0),
      unique_clicks = r.unique_clicks + coalesce(d.unique_clicks, 0),
      clicks_human = r.clicks_human + coalesce(d.clicks_human, 0),
      clicks = r.clicks + coalesce(d.clicks, 0),
      unsubscribes = r.unsubscribes + coalesce(d.unsubscribes, 0),
      complaints = r.complaints + coalesce(d.complaints, 0)
    from delta as d
    where r.campaign_id = d.campaign_id and r.campaign_id in (select campaign_id from locked)
  $query$, changes);

  if tg_op = 'UPDATE' then
    -- Campaigns with nothing left to send are finished.
    select array_agg(distinct n.campaign_id) into campaign_ids
    from new_messages as n join old_messages as o on o.id = n.id
    where n.send_status is distinct from o.send_status and n.send_status not in ('queued', 'sending');
    if campaign_ids is not null then
      perform app_private.finish_campaigns_if_done(campaign_ids);
    end if;
    -- An acceptance time recorded after engagement changes the "too soon after acceptance" rule.
    -- (Two steps, so that the events are only looked up, by index, for messages whose acceptance changed.)
    select array_agg(n.id) into accepted_changed
    from new_messages as n join old_messages as o on o.id = n.id
    where n.accepted_at is distinct from o.accepted_at;
    if accepted_changed is not null then
      select array_agg(c.id) into accepted_changed
      from unnest(accepted_changed) as c(id)
      where exists (select 1 from app_public.message_events as me where me.message_id = c.id and me.kind = 'engagement');
    end if;
    if accepted_changed is not null then
      perform app_private.refresh_messages(accepted_changed);
    end if;
  end if;
  return null;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

create or replace function app_private.tg_raw_events__attribute() returns trigger as $$
declare
  raw_event_ids bigint[];
  message_ids bigint[];
  keys text[];
begin
  perform pg_advisory_xact_lock_shared(7361003);
  with candidate as (
    select e.id, e.internet_message_id, e.operation_id, e.recipient
    from new_events as e
    where e.problem is null and app_private.event_kind(e.event_type) is not null
  ),
  -- By Message-ID first; the operation id is looked up only for events the Message-ID did not match.
  keyed as (
    select c.*,
      (select m.id from app_public.messages as m where m.internet_message_id = c.internet_message_id) as by_internet_message_id
    from candidate as c
  ),
  best as (
    select k.id, k.by_internet_message_id as message_id, 'internet_message_id' as attributed_by
    from keyed as k
    where k.by_internet_message_id is not null
    union all
    select k.id, m.id, case when k.recipient is null then 'operation_id' else 'operation_id_and_recipient' end
    from keyed as k join app_public.messages as m on m.operation_id = k.operation_id
    where k.by_internet_message_id is null and (k.recipient is null or lower(m.recipient) = k.recipient)
  ),
  pending as (
    insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
    select c.id, c.internet_message_id, c.operation_id, c.recipient
    from candidate as c
    where not exists (select 1 from best as b where b.id = c.id)
      and (c.internet_message_id is not null or c.operation_id is not null)
  )
  select array_agg(id), array_agg(message_id), array_agg(attributed_by)
  into raw_event_ids, message_ids, keys
  from best;
  if raw_event_ids is not null then
    perform app_private.record_attributions(raw_event_ids, message_ids, keys);
  end if;
  return null;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
