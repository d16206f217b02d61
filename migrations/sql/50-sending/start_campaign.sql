create or replace function app_public.start_campaign(campaign_id bigint) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
  recipients bigint;
begin
  perform app_private.check_campaign_ready(campaign);
  -- Until commit: a subscriber that this start gives a message to cannot be deleted meanwhile (the deletion's
  -- trigger takes this lock exclusively, then looks for messages).
  perform pg_advisory_xact_lock_shared(app_hidden.advisory_lock_id('subscriber deletion'));
  -- The engagement source is fixed at start (the campaign's own, else its sender's): the messages are rendered by it,
  -- and events attributed meanwhile (pending ones, as the messages are inserted) are counted by it.
  update app_public.campaigns as c
  set engagement_tracking = coalesce(c.engagement_tracking, sender.engagement_tracking, 'azure')
  from app_public.senders as sender
  where c.id = campaign.id and sender.id = campaign.sender_id and c.engagement_tracking is null;

  -- The recipients, in one INSERT: members of the campaign's lists who may receive it (confirmed on double
  -- opt-in lists, not unsubscribed on single opt-in lists), enabled, once each however many lists they are on,
  -- and not stopped by the bounce policy. Message-ID and operation id are generated here, before any send, as
  -- version 7 UUIDs (time-ordered: the unique indexes on them grow at their right edge).
  with stopped_by_bounces as (
    select b.subscriber_id
    from app_public.bounces as b join app_public.bounce_policies as p on p.bounce_type = b.bounce_type
    where p.action <> 'none'
    group by b.subscriber_id, b.bounce_type, p.threshold
    having count(*) >= p.threshold
  )
  insert into app_public.messages (campaign_id, subscriber_id, sender_id, recipient, internet_message_id)
  select campaign.id, s.id, campaign.sender_id, s.email, app_private.new_internet_message_id(sender.sending_domain)
  from app_public.subscribers as s
  cross join (select sending_domain from app_public.senders where id = campaign.sender_id) as sender
  where s.status = 'enabled'
    and s.id in (
      select lm.subscriber_id
      from app_public.campaign_lists as cl
      join app_public.lists as l on l.id = cl.list_id
      join app_public.list_memberships as lm on lm.list_id = cl.list_id
      where cl.campaign_id = campaign.id
        and case l.opt_in when 'double' then lm.status = 'confirmed' else lm.status <> 'unsubscribed' end
    )
    and s.id not in (select subscriber_id from stopped_by_bounces)
  order by s.id; -- fills the index on (campaign_id, subscriber_id) in order
  get diagnostics recipients = row_count;
  if recipients = 0 then
    raise exception 'campaign % has no recipients', campaign.id using errcode = '55000',
      hint = 'Its lists have no confirmed (double opt-in) or subscribed (single opt-in) enabled members.';
  end if;

  update app_public.campaigns set status = 'running', started_at = now() where id = campaign.id returning * into campaign;
  perform app_private.add_job('send_campaign', json_build_object('campaignId', campaign.id),
                              job_key => 'send_campaign:' || campaign.id);
  return campaign;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.start_campaign(campaign_id bigint) is 'Starts a draft or scheduled campaign: fixes its engagement_tracking (its own, else its sender''s), creates one message per recipient (with its Message-ID and operation id) and queues the graphile-worker job send_campaign {"campaignId": id}, in one transaction. Fails when the campaign is already started, cancelled, has no sender, no lists or no recipients.';

revoke all on function app_public.start_campaign(campaign_id bigint) from public;
grant execute on function app_public.start_campaign(campaign_id bigint) to :DATABASE_ADMIN;
