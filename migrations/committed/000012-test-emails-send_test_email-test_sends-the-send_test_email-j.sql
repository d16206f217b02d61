--! Previous: sha1:b8ec1d9b7747b8847cbe6e2d5d567767c007ddf1
--! Hash: sha1:ec22421d98dcd893662aa715bb145f3829fd74f3
--! Message: Test emails: send_test_email, test_sends, the send_test_email job; events of test emails are not unattributed

-- Test emails: a campaign rendered and sent to one address (app_public.send_test_email), recorded in
-- app_public.test_sends, outside the ledger: no message, no rollup, no attribution to the campaign.

drop trigger if exists _600_test_sends on app_public.raw_events;
drop function if exists app_private.tg_raw_events__test_sends();
drop function if exists app_public.send_test_email(bigint, text);
drop function if exists app_private.queued_test_send(bigint);
drop table if exists app_public.test_sends;

--------------------------------------------------------------------------------------------------------
-- The content check of start and schedule, callable on its own (send_test_email runs it too).

create or replace function app_private.check_campaign_content(campaign app_public.campaigns) returns void as $$
declare
  template app_public.templates;
begin
  select * into template from app_public.templates where id = campaign.template_id;
  perform app_public.check_template('subject', coalesce(nullif(campaign.subject, ''), template.subject));
  if campaign.html_body <> '' or campaign.text_body <> '' then
    perform app_public.check_template('HTML part', campaign.html_body);
    perform app_public.check_template('text part', campaign.text_body);
  else
    perform app_public.check_template('HTML part', template.html_body);
    perform app_public.check_template('text part', template.text_body);
  end if;
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;
comment on function app_private.check_campaign_content(app_public.campaigns) is
  'Raises (22023, naming the part, line and field) when the campaign''s subject (its own, else its template''s) '
  'or bodies (its own if it has any, else its template''s) have template errors.';

create or replace function app_private.tg_campaigns__check_content() returns trigger as $$
begin
  perform app_private.check_campaign_content(new);
  return new;
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;

--------------------------------------------------------------------------------------------------------
-- Test sends.

create table app_public.test_sends (
  id bigint primary key generated always as identity,
  campaign_id bigint not null references app_public.campaigns on delete cascade,
  sender_id bigint not null references app_public.senders on delete cascade,
  recipient text not null,
  subscriber_id bigint references app_public.subscribers on delete set null,
  internet_message_id text not null check (internet_message_id ~ '^<[0-9a-f-]{36}@[a-z0-9.-]+>$'),
  operation_id uuid not null default gen_random_uuid(),
  status text not null default 'queued' check (status in ('queued', 'accepted', 'failed')),
  error text,
  delivery_status text,
  delivery_status_message text,
  delivery_status_at timestamptz,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create unique index test_sends_internet_message_id_key on app_public.test_sends (internet_message_id);
create unique index test_sends_operation_id_key on app_public.test_sends (operation_id);
create index test_sends_campaign_id_idx on app_public.test_sends (campaign_id);
create index test_sends_sender_id_idx on app_public.test_sends (sender_id);
create index test_sends_subscriber_id_idx on app_public.test_sends (subscriber_id);
comment on table app_public.test_sends is
  'Test emails: a campaign rendered and sent to one address through its sender (send_test_email), with its own '
  'Message-ID and operation id. Not messages: not in the rollups, and their events are never attributed to the campaign.';
comment on column app_public.test_sends.subscriber_id is
  'The subscriber with this address, when there is one: the email is rendered with their fields.';
comment on column app_public.test_sends.status is
  'queued (the send_test_email job has not run yet), accepted (ACS answered 202) or failed (see error).';
comment on column app_public.test_sends.error is 'Why the test email failed: a template error, ACS''s error code and message, or no answer from ACS.';
comment on column app_public.test_sends.delivery_status is 'The status of the latest delivery report Event Grid sent for it (Delivered, Bounced, ...).';
comment on column app_public.test_sends.sent_at is 'When the outcome (accepted or failed) was recorded.';

alter table app_public.test_sends enable row level security;
create policy select_all on app_public.test_sends for select to :DATABASE_ADMIN, :DATABASE_READONLY using (true);
grant select on app_public.test_sends to :DATABASE_ADMIN, :DATABASE_READONLY;

create function app_public.send_test_email(campaign_id bigint, email text) returns app_public.test_sends as $$
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
         '<' || gen_random_uuid() || '@' || sender.sending_domain || '>'
  from app_public.senders as sender where sender.id = campaign.sender_id
  returning * into test_send;
  perform app_private.add_job('send_test_email', json_build_object('testSendId', test_send.id),
                              max_attempts => 3, job_key => 'send_test_email:' || test_send.id);
  return test_send;
end;
$$ language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp;
comment on function app_public.send_test_email(bigint, text) is
  'Sends the campaign to one address as a test (subject prefixed "[Test] "), in any status of the campaign: checks '
  'the campaign (it exists, has a sender, its subject and bodies render) and the address (the subscribers'' email '
  'rule), records a test send with its own Message-ID and operation id, and queues the graphile-worker job '
  'send_test_email {"testSendId": id}. Returns the test send; its status becomes accepted or failed.';

create function app_private.queued_test_send(test_send_id bigint) returns table (
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
comment on function app_private.queued_test_send(bigint) is
  'A queued test send with what rendering it needs: the subscriber''s fields when the address is a subscriber''s, '
  'and the list (the first of the campaign''s lists the subscriber is on, else its first list). No row once sent.';

-- Events of test emails match no message: they are taken off the pending events (so they are not reported as
-- unattributed) and their delivery reports give the test send its delivery status.
create function app_private.tg_raw_events__test_sends() returns trigger as $$
begin
  with matched as (
    select e.id, t.id as test_send_id, e.event_type, e.status, e.status_message, e.occurred_at
    from new_events as e join app_public.test_sends as t on t.internet_message_id = e.internet_message_id
    union
    select e.id, t.id, e.event_type, e.status, e.status_message, e.occurred_at
    from new_events as e join app_public.test_sends as t on t.operation_id = e.operation_id
  ),
  unparked as (
    delete from app_private.pending_events as p using matched as m where p.raw_event_id = m.id
  ),
  report as (
    select distinct on (test_send_id) test_send_id, status, status_message, occurred_at
    from matched
    where app_private.event_kind(event_type) = 'delivery_report' and status is not null
    order by test_send_id, occurred_at desc
  )
  update app_public.test_sends as t
  set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
  from report as r
  where t.id = r.test_send_id and (t.delivery_status_at is null or t.delivery_status_at <= r.occurred_at);
  return null;
end;
$$ language plpgsql set search_path = pg_catalog, public, pg_temp;
comment on function app_private.tg_raw_events__test_sends() is
  'Statement trigger: events of test emails are no one''s pending events; delivery reports set the test send''s delivery status.';

create trigger _600_test_sends after insert on app_public.raw_events
  referencing new table as new_events for each statement execute function app_private.tg_raw_events__test_sends();
