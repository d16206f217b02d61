--! Previous: sha1:380a7f91ccfa42592a69852a06dfcc33c0cc74b9
--! Hash: sha1:26372fe3be140f96e7598f6047d46faaf08844ae
--! Message: Double opt-in: confirmation sender and content of lists, public subscribe, confirmation emails, rate limits

-- Double opt-in: which sender and content a list's confirmation emails have, the optional public subscribe form,
-- the confirmation emails themselves (each with its own Message-ID and operation id, like test sends), and the
-- rate limit of the subscribe form. docs/opt-in.md explains the flow.
--
-- Idempotent while it is work in progress: everything is dropped first.

drop table if exists app_private.subscribe_rate_limits;
drop table if exists app_public.confirmations;
drop type if exists app_public.confirmation_request_result;
drop type if exists app_public.bulk_confirm_result;
alter table app_public.lists
  drop column if exists confirmation_sender_id,
  drop column if exists confirmation_subject,
  drop column if exists confirmation_html,
  drop column if exists confirmation_text,
  drop column if exists confirmation_resend_interval,
  drop column if exists public_subscribe;

-- == The list's confirmation settings ==

alter table app_public.lists
  add column confirmation_sender_id bigint references app_public.senders (id),
  add column confirmation_subject text,
  add column confirmation_html text,
  add column confirmation_text text,
  add column confirmation_resend_interval interval not null default interval '1 hour'
    constraint lists_confirmation_resend_interval_check check (confirmation_resend_interval >= interval '1 minute'),
  add column public_subscribe boolean not null default false,
  add constraint lists_public_subscribe_check
    check (not public_subscribe or opt_in = 'single' or confirmation_sender_id is not null);
create index lists_confirmation_sender_id_idx on app_public.lists (confirmation_sender_id);

comment on column app_public.lists.confirmation_sender_id is 'The sender of the list''s confirmation emails (double opt-in). Without one, no confirmation can be sent.';
comment on column app_public.lists.confirmation_subject is 'Subject of the confirmation email; NULL: "Please confirm your subscription to {{ list.name }}". Fields: subscriber.email, subscriber.name, list.id, list.name, confirm_url.';
comment on column app_public.lists.confirmation_html is 'HTML part of the confirmation email; NULL: the built-in one (unless only confirmation_text is set). Must contain {{ confirm_url }} when set.';
comment on column app_public.lists.confirmation_text is 'Text part of the confirmation email; NULL: derived from the HTML part. Must contain {{ confirm_url }} when set.';
comment on column app_public.lists.confirmation_resend_interval is 'A member is sent another confirmation email only this long after the previous one was requested (at least a minute).';
comment on column app_public.lists.public_subscribe is 'Whether anyone may subscribe through the public form GET/POST /subscribe/LIST_ID (off by default). A double opt-in list needs a confirmation sender for it.';

grant insert (confirmation_sender_id, confirmation_subject, confirmation_html, confirmation_text, confirmation_resend_interval, public_subscribe),
      update (confirmation_sender_id, confirmation_subject, confirmation_html, confirmation_text, confirmation_resend_interval, public_subscribe)
  on table app_public.lists to :DATABASE_ADMIN;

-- == Confirmation emails ==

create table app_public.confirmations (
  id bigint generated always as identity primary key,
  list_id bigint not null references app_public.lists (id) on delete cascade,
  subscriber_id bigint not null references app_public.subscribers (id) on delete cascade,
  sender_id bigint not null references app_public.senders (id) on delete cascade,
  recipient text not null,
  internet_message_id text not null
    constraint confirmations_internet_message_id_check check (internet_message_id ~ '^<[0-9a-f-]{36}@[a-z0-9.-]+>$'),
  operation_id uuid not null default gen_random_uuid(),
  requested_by text not null
    constraint confirmations_requested_by_check check (requested_by in ('admin', 'subscribe form')),
  status text not null default 'queued'
    constraint confirmations_status_check check (status in ('queued', 'sending', 'accepted', 'failed', 'cancelled')),
  error text,
  send_attempts integer not null default 0,
  lease_expires_at timestamptz,
  sender_send_id bigint,
  delivery_status text,
  delivery_status_message text,
  delivery_status_at timestamptz,
  confirmed_at timestamptz,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);

comment on table app_public.confirmations is 'Confirmation emails of double opt-in: one per request, to one member of one list, through the list''s confirmation sender and its quotas, with its own Message-ID and operation id. Not messages: in no campaign and no rollup; their delivery reports set delivery_status.';
comment on column app_public.confirmations.requested_by is 'admin (send_confirmations) or subscribe form (the public form).';
comment on column app_public.confirmations.status is 'queued (waiting for the sender''s quota or send window), sending (handed to ACS, or in doubt until its lease ends and it is looked up), accepted (ACS answered 202), failed (see error), cancelled (the member was confirmed, left or was blocklisted before it was sent).';
comment on column app_public.confirmations.sender_send_id is 'The quota reservation (app_private.sender_sends) it was sent under.';
comment on column app_public.confirmations.confirmed_at is 'When its link confirmed the membership (POST).';

create unique index confirmations_internet_message_id_key on app_public.confirmations (internet_message_id);
create unique index confirmations_operation_id_key on app_public.confirmations (operation_id);
-- One confirmation waiting or in flight per member of a list.
create unique index confirmations_pending_key on app_public.confirmations (list_id, subscriber_id) where status in ('queued', 'sending');
create index confirmations_list_id_subscriber_id_created_at_idx on app_public.confirmations (list_id, subscriber_id, created_at);
create index confirmations_subscriber_id_idx on app_public.confirmations (subscriber_id);
create index confirmations_sender_id_status_idx on app_public.confirmations (sender_id, id) where status in ('queued', 'sending');

alter table app_public.confirmations enable row level security;
create policy select_all on app_public.confirmations for select to :DATABASE_ADMIN, :DATABASE_READONLY using (true);
grant select on table app_public.confirmations to :DATABASE_ADMIN, :DATABASE_READONLY;

comment on column app_private.sender_sends.message_ids is 'While unsettled: the claimed messages whose outcome is not known yet (ids of app_public.messages). NULL once settled, and for batches of confirmation emails (app_public.confirmations.sender_send_id names their batch).';

-- == What the commands and GraphQL return ==

create type app_public.confirmation_request_result as (
  queued integer,
  already_pending integer,
  sent_recently integer,
  blocklisted integer
);
comment on type app_public.confirmation_request_result is 'send_confirmations: unconfirmed members sent a confirmation now (queued), those with one waiting or in flight already, those whose last one is more recent than the list''s confirmation_resend_interval, and blocklisted ones (never sent any).';

create type app_public.bulk_confirm_result as (
  confirmed integer,
  already_confirmed integer,
  not_members integer,
  left_alone integer
);
comment on type app_public.bulk_confirm_result is 'confirm_list_members: members confirmed now, members confirmed before, addresses that are no member of the list (or no subscriber at all), and members left as they are (unsubscribed, or blocklisted).';

-- == Rate limit of the public subscribe form ==

create table app_private.subscribe_rate_limits (
  key text primary key,
  window_start timestamptz not null,
  hits integer not null
);
comment on table app_private.subscribe_rate_limits is 'Requests to the public subscribe form per key (ip:ADDRESS, or email:SHA-256 of the lower-case address) in the window opened by the key''s first request (window_start); rows of ended windows are removed as new requests come (app_private.take_subscribe_allowance).';
create index subscribe_rate_limits_window_start_idx on app_private.subscribe_rate_limits (window_start);
