--! Previous: sha1:ef4b26640be2275c2718ddfd91df5235ab5e8e17
--! Hash: sha1:a00aaa2b91679d2326817f33b43c57ca9b68617b
--! Message: start_campaign for a million recipients: version 7 UUIDs for the message keys, no row-by-row foreign keys on messages (deletion of what messages refer to refused by triggers), a cheaper Message-ID check, recipients in subscriber order

-- start_campaign for a million recipients: time-ordered keys (version 7 UUIDs) instead of random ones, no foreign
-- keys checked row by row on messages (deletion of what messages refer to is refused by triggers instead), the
-- Message-ID check without a costly regular expression, and the recipients inserted in subscriber order.

-- Version 7 UUIDs (RFC 9562): 48 bits of Unix time in milliseconds, then the random bits of gen_random_uuid.
create or replace function app_private.uuid_v7() returns uuid as $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
    52, 1), 53, 1), 'hex')::uuid
$$ language sql volatile parallel safe;
comment on function app_private.uuid_v7() is
  'A version 7 UUID (RFC 9562): Unix time in milliseconds, then 74 random bits (of gen_random_uuid). Ordered by '
  'creation time, so that the unique indexes on messages grow at their right edge instead of at random pages.';

alter table app_public.messages alter column operation_id set default app_private.uuid_v7();

-- The same rule as before (<, 36 of [0-9a-f-], @, a lower-case domain, >) without bounded repetition: the regular
-- expression with {36} cost twelve times as much per row (measured on a million Message-IDs).
alter table app_public.messages drop constraint if exists messages_internet_message_id_check,
  add constraint messages_internet_message_id_check
    check (internet_message_id ~ '^<[-0-9a-f]+@[-.0-9a-z]+>$' and strpos(internet_message_id, '@') = 38);

create or replace function app_private.tg_messages__internet_message_id() returns trigger as $$
begin
  new.internet_message_id = '<' || app_private.uuid_v7() || '@'
    || (select sending_domain from app_public.senders where id = new.sender_id) || '>';
  return new;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

-- The ledger's references to its campaign, subscriber and sender hold by construction instead of by foreign keys
-- checked row by row: start_campaign takes the campaign (locked), its sender and the subscribers from the rows
-- it reads, and a row that messages refer to cannot be deleted.
alter table app_public.messages drop constraint if exists messages_campaign_id_fkey,
  drop constraint if exists messages_subscriber_id_fkey, drop constraint if exists messages_sender_id_fkey;

create or replace function app_private.tg__referred_to_by_messages() returns trigger as $$
begin
  if tg_table_name = 'subscribers' then
    perform pg_advisory_xact_lock(7361004);
    perform 1 from app_public.messages as m where m.subscriber_id = old.id limit 1;
  elsif tg_table_name = 'senders' then
    perform 1 from app_public.messages as m where m.sender_id = old.id limit 1;
  else
    perform 1 from app_public.messages as m where m.campaign_id = old.id limit 1;
  end if;
  if found then
    raise exception '% % cannot be deleted: messages refer to it', rtrim(tg_table_name, 's'), old.id
      using errcode = 'foreign_key_violation';
  end if;
  return old;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.tg__referred_to_by_messages() is
  'Refuses to delete a campaign, subscriber or sender that messages refer to (in place of foreign keys on messages).';
drop trigger if exists _100_referred_to_by_messages on app_public.campaigns;
create trigger _100_referred_to_by_messages before delete on app_public.campaigns
  for each row execute function app_private.tg__referred_to_by_messages();
drop trigger if exists _100_referred_to_by_messages on app_public.subscribers;
create trigger _100_referred_to_by_messages before delete on app_public.subscribers
  for each row execute function app_private.tg__referred_to_by_messages();
drop trigger if exists _100_referred_to_by_messages on app_public.senders;
create trigger _100_referred_to_by_messages before delete on app_public.senders
  for each row execute function app_private.tg__referred_to_by_messages();

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
  select campaign.id, s.id, campaign.sender_id, s.email, '<' || app_private.uuid_v7() || '@' || sender.sending_domain || '>'
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

comment on column app_public.messages.internet_message_id is
  'The RFC 5322 Message-ID <uuid@sending-domain> (a version 7 UUID), generated when the row is created; sent as the '
  'Message-ID header.';
comment on column app_public.messages.operation_id is
  'The ACS operation id (a version 7 UUID), generated when the row is created; sent as the Operation-Id request '
  'header and returned as messageId in events.';
