create or replace function app_private.tg_messages__rollup() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $_$
declare
  changes text;
  campaign_ids bigint[];
  accepted_changed bigint[];
begin
  -- A statement that changed no row (an update that matched nothing) changes no rollup.
  if tg_op = 'DELETE' then
    if not exists (select 1 from old_messages) then
      return null;
    end if;
  elsif not exists (select 1 from new_messages) then
    return null;
  end if;
  if tg_op = 'INSERT' then
    -- A campaign's first messages create its rollup row.
    insert into app_public.campaign_rollups (campaign_id)
    select distinct campaign_id from new_messages order by campaign_id
    on conflict (campaign_id) do nothing;
  end if;
  changes = case tg_op
    when 'INSERT' then 'select 1 as sign, * from new_messages'
    when 'UPDATE' then 'select 1 as sign, * from new_messages union all select -1, * from old_messages'
    else 'select -1 as sign, * from old_messages'
  end;
  execute format($query$
    with delta as (%s),
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
      complaints = r.complaints + coalesce(d.complaints, 0),
      opens_human_azure = r.opens_human_azure + coalesce(d.opens_human_azure, 0),
      opens_human_mailroom = r.opens_human_mailroom + coalesce(d.opens_human_mailroom, 0),
      clicks_human_azure = r.clicks_human_azure + coalesce(d.clicks_human_azure, 0),
      clicks_human_mailroom = r.clicks_human_mailroom + coalesce(d.clicks_human_mailroom, 0)
    from delta as d
    where r.campaign_id = d.campaign_id and r.campaign_id in (select campaign_id from locked)
  $query$, app_private.rollup_delta_query(changes));

  if tg_op = 'UPDATE' then
    -- Campaigns with nothing left to send are finished; and a message whose acceptance or delivery time changed
    -- is re-derived when the "too soon" rule now gives one of its engagement events another reason
    -- (engagement_machine_reason without the burst rule: an event of a burst is re-derived too, which costs only
    -- time). One pass over the changed rows; events are looked up, by index, only for those whose times changed.
    select array_agg(distinct n.campaign_id)
             filter (where n.send_status is distinct from o.send_status and n.send_status not in ('queued', 'sending')),
           array_agg(n.id order by n.id)
             filter (where (n.accepted_at is distinct from o.accepted_at
                            or (n.delivery_status = 'Delivered' or o.delivery_status = 'Delivered')
                               and (n.delivery_status, n.delivery_status_at) is distinct from (o.delivery_status, o.delivery_status_at))
                       and n.opens_human + n.opens_machine + n.clicks_human + n.clicks_machine > 0
                       and exists (
                         select 1 from app_public.message_events as me
                         where me.message_id = n.id and me.kind = 'engagement' and me.ignored_reason is null
                           and app_private.engagement_machine_reason(coalesce(me.request_reason, me.user_agent_reason),
                                                                     me.occurred_at, n.accepted_at, n.delivery_status,
                                                                     n.delivery_status_at, null, null, s)
                               is distinct from me.machine_reason))
    into campaign_ids, accepted_changed
    from new_messages as n join old_messages as o on o.id = n.id cross join app_public.engagement_settings as s;
    if campaign_ids is not null then
      perform app_private.finish_campaigns_if_done(campaign_ids);
    end if;
    if accepted_changed is not null then
      perform app_private.refresh_messages(accepted_changed);
    end if;
  end if;
  return null;
end;
$_$;

comment on function app_private.tg_messages__rollup() is 'Statement trigger (step 4 of ingestion, and the invariant that campaign_rollups add up the messages whoever changes them): creates the rollup rows of new campaigns and adds the difference the statement made to its campaigns'' rollups (one UPDATE per statement); re-derives engaged messages whose acceptance or delivery time changed.';

revoke all on function app_private.tg_messages__rollup() from public;

create or replace trigger _900_rollup_delete after delete on app_public.messages referencing old table as old_messages for each statement execute function app_private.tg_messages__rollup();

create or replace trigger _900_rollup_insert after insert on app_public.messages referencing new table as new_messages for each statement execute function app_private.tg_messages__rollup();

create or replace trigger _900_rollup_update after update on app_public.messages referencing old table as old_messages new table as new_messages for each statement execute function app_private.tg_messages__rollup();
