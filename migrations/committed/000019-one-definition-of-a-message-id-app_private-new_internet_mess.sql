--! Previous: sha1:3504f3cdb34b92a27a4580b66cd5ef2b4c8ffc0a
--! Hash: sha1:7c5ef0ebf7225d9292bbb1141555f27eacdebcaa
--! Message: One definition of a Message-ID (app_private.new_internet_message_id) for the ledger, start_campaign and test sends

-- One definition of a Message-ID, <uuid@sending-domain> with a version 7 UUID, for the ledger's trigger,
-- start_campaign and test sends (which wrote it out each, test sends with a version 4 UUID).
create or replace function app_private.new_internet_message_id(sending_domain text) returns text as $$
  select '<' || app_private.uuid_v7() || '@' || sending_domain || '>'
$$ language sql volatile parallel safe;
comment on function app_private.new_internet_message_id(text) is
  'A new RFC 5322 Message-ID for the sending domain: <uuid@domain>, the UUID a version 7 one (time-ordered).';

create or replace function app_private.tg_messages__internet_message_id() returns trigger as $$
begin
  new.internet_message_id = app_private.new_internet_message_id(
    (select sending_domain from app_public.senders where id = new.sender_id));
  return new;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

create or replace function app_public.start_campaign(campaign_id bigint) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
  recipients bigint;
begin
  perform app_private.check_campaign_ready(campaign);
  -- Until commit: a subscriber that this start gives a message to cannot be deleted meanwhile (the deletion's
  -- trigger takes this lock exclusively, then looks for messages).
  perform pg_advisory_xact_lock_shared(7361004);

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

create or replace function app_public.send_test_email(campaign_id bigint, email text) returns app_public.test_sends as $$
declare
  campaign app_public.campaigns;
  address text := btrim(email);
  problem text := app_hidden.subscriber_email_problem(btrim(email));
  content record;
  test_send app_public.test_sends;
begin
  select * into campaign from app_public.campaigns as c where c.id = send_test_email.campaign_id;
  if not found then
    raise exception 'campaign % does not exist', send_test_email.campaign_id using errcode = 'P0002';
  end if;
  if problem is not null then
    raise exception '%', problem using errcode = '22023';
  end if;
  if campaign.sender_id is null then
    raise exception 'campaign % has no sender', campaign.id using errcode = '55000';
  end if;
  select coalesce(nullif(campaign.subject, ''), t.subject, '') as subject,
         case when campaign.html_body <> '' or campaign.text_body <> '' then campaign.html_body || campaign.text_body
              else coalesce(t.html_body, '') || coalesce(t.text_body, '') end as bodies
  into content
  from (select) as one left join app_public.templates as t on t.id = campaign.template_id;
  if btrim(content.subject) = '' then
    raise exception 'the subject of campaign % is empty', campaign.id using errcode = '22023';
  elsif btrim(content.bodies) = '' then
    raise exception 'campaign % has no content: its HTML and text parts are both empty', campaign.id using errcode = '22023';
  end if;
  perform app_private.check_campaign_content(campaign);

  insert into app_public.test_sends (campaign_id, sender_id, recipient, subscriber_id, internet_message_id)
  select campaign.id, campaign.sender_id, address,
         (select s.id from app_public.subscribers as s where lower(s.email) = lower(address)),
         app_private.new_internet_message_id(sender.sending_domain)
  from app_public.senders as sender where sender.id = campaign.sender_id
  returning * into test_send;
  perform app_private.add_job('send_test_email', json_build_object('testSendId', test_send.id),
                              max_attempts => 3, job_key => 'send_test_email:' || test_send.id);
  return test_send;
end;
$$ language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp;
