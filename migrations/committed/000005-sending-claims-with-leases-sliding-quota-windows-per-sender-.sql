--! Previous: sha1:c2cd9eed55a3a05c467fb1d0d9fb811a5879916e
--! Hash: sha1:33cb1546f2a26d69dd817929dc2a9e8b7304aea4
--! Message: Sending: claims with leases, sliding quota windows per sender, outcomes, the send job's schedule, template checks

-- Sending: the claim of queued messages with leases, quotas per sender across processes (sliding windows,
-- send window, pause after 429), the recording of outcomes, and when the send job runs next. The send
-- task (tasks/send_campaign.ts) calls these; see docs/sending.md.

drop trigger if exists _300_check_content on app_public.campaigns;
drop function if exists app_private.tg_campaigns__check_content(), app_public.check_template(text, text),
  app_public.template_errors(text), app_private.quota_time_scale(), app_private.sender_capacity(app_public.senders, timestamptz),
  app_private.sender_available_at(app_public.senders, timestamptz), app_private.claim_messages(bigint, integer, integer),
  app_private.record_send_outcomes(jsonb, integer, integer),
  app_private.pause_sender(bigint, bigint, text), app_private.next_send_at(bigint),
  app_private.schedule_sending(bigint), app_private.queue_sending_jobs(), app_private.fail_queued_messages(bigint, text),
  app_private.signing_secret(text, text) cascade;
drop table if exists app_private.sender_sends, app_private.sender_throttles, app_public.campaign_senders,
  app_private.signing_secrets cascade;

--------------------------------------------------------------------------------------------------------
-- Template fields. The grammar is tiny and shared with src/sending/template.ts: {{ field }} (HTML-escaped in
-- the HTML part) and {{{ field }}} (inserted as is); fields are subscriber.email, subscriber.name,
-- subscriber.id, subscriber.attributes.KEY, list.id, list.name, campaign.id, campaign.name, unsubscribe_url.

create function app_public.template_errors(content text) returns text[] as $$
  select coalesce(array_agg(error order by n), '{}')
  from (
    select n, format('unknown field "%s"', tag[1]) as error
    from regexp_matches(coalesce(content, ''), '\{\{\{?\s*([^{}]*?)\s*\}?\}\}', 'g') with ordinality as t(tag, n)
    where tag[1] !~ '^(subscriber\.(email|name|id|attributes\.[A-Za-z0-9_-]+)|list\.(id|name)|campaign\.(id|name)|unsubscribe_url)$'
    union all
    select 1000000, 'unbalanced braces: "{{" or "}}" outside a {{ field }}'
    where regexp_replace(coalesce(content, ''), '\{\{\{\s*[^{}]*?\s*\}\}\}|\{\{(?!\{)\s*[^{}]*?\s*\}\}', '', 'g') ~ '\{\{|\}\}'
  ) as errors
$$ language sql immutable;
comment on function app_public.template_errors(text) is
  'The errors of a template text (subject, HTML or text part): unknown fields and unbalanced braces; empty when valid.';

create function app_public.check_template(part text, content text) returns void as $$
declare
  errors text[] := app_public.template_errors(content);
begin
  if cardinality(errors) > 0 then
    raise exception 'the % of the campaign has errors: %', part, array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$ language plpgsql immutable;

create function app_private.tg_campaigns__check_content() returns trigger as $$
declare
  template app_public.templates;
begin
  select * into template from app_public.templates where id = new.template_id;
  perform app_public.check_template('subject', coalesce(nullif(new.subject, ''), template.subject));
  if new.html_body <> '' or new.text_body <> '' then
    perform app_public.check_template('HTML part', new.html_body);
    perform app_public.check_template('text part', new.text_body);
  else
    perform app_public.check_template('HTML part', template.html_body);
    perform app_public.check_template('text part', template.text_body);
  end if;
  return new;
end;
$$ language plpgsql stable set search_path to pg_catalog, public, pg_temp;
comment on function app_private.tg_campaigns__check_content() is
  'Refuses to schedule or start a campaign whose subject (its own, else its template''s) or bodies (its own if it has '
  'any, else its template''s) have template errors.';
create trigger _300_check_content before update of status on app_public.campaigns
  for each row when (new.status in ('scheduled', 'running') and old.status in ('draft', 'scheduled'))
  execute function app_private.tg_campaigns__check_content();

--------------------------------------------------------------------------------------------------------
-- Senders serving a campaign besides its own sender_id.

create table app_public.campaign_senders (
  campaign_id bigint not null references app_public.campaigns on delete cascade,
  sender_id bigint not null references app_public.senders,
  primary key (campaign_id, sender_id)
);
create index campaign_senders_sender_id_idx on app_public.campaign_senders (sender_id);
comment on table app_public.campaign_senders is
  'More senders for a campaign besides campaigns.sender_id; each claim gives messages to the senders with the most '
  'remaining capacity. Message-IDs keep the domain of the campaign''s own sender.';

--------------------------------------------------------------------------------------------------------
-- Quotas: every batch handed to a sender is recorded with when its requests can last have reached ACS, so that
-- every window (minute, hour, day) is a true sliding window shared by all worker processes.

create table app_private.sender_sends (
  id bigint primary key generated always as identity,
  sender_id bigint not null references app_public.senders on delete cascade,
  sends integer not null check (sends > 0),
  reserved_at timestamptz not null default now(),
  ends_at timestamptz not null,
  settled boolean not null default false
);
create index sender_sends_sender_id_ends_at_idx on app_private.sender_sends (sender_id, ends_at);
comment on table app_private.sender_sends is
  'Batches of messages handed to a sender. While unsettled, ends_at is the end of the claim''s lease (the latest '
  'a request can reach ACS); once settled, when the last request ended, and sends is the number that may have '
  'counted at ACS (accepted, refused or unknown; not 429s or messages never sent). A batch counts in a window '
  'while ends_at is inside it.';

create table app_private.sender_throttles (
  sender_id bigint primary key references app_public.senders on delete cascade,
  paused_until timestamptz not null,
  reason text not null
);
comment on table app_private.sender_throttles is 'A sender paused until a time, after ACS answered 429 with Retry-After.';

create function app_private.quota_time_scale() returns double precision as $$
  select coalesce(nullif(current_setting('mailroom.quota_time_scale', true), '')::double precision, 1)
$$ language sql stable;
comment on function app_private.quota_time_scale() is
  'Length of the quota windows relative to real time (setting mailroom.quota_time_scale, default 1); tests and '
  'the sandbox shorten the windows with it, as the sandbox''s timeScale shortens its own.';

create function app_private.sender_capacity(sender app_public.senders, at timestamptz default now()) returns integer as $$
  select case
    when not app_public.sender_window_open(sender, at) then 0
    when exists (select 1 from app_private.sender_throttles as t where t.sender_id = sender.id and t.paused_until > at) then 0
    else greatest(0, least(
      coalesce(sender.per_minute_limit - coalesce(sum(s.sends) filter (where s.ends_at > at - w.minute), 0), 2147483647),
      coalesce(sender.per_hour_limit - coalesce(sum(s.sends) filter (where s.ends_at > at - 60 * w.minute), 0), 2147483647),
      coalesce(sender.per_day_limit - coalesce(sum(s.sends), 0), 2147483647)))::integer
  end
  from (select interval '1 minute' * app_private.quota_time_scale() as minute) as w
  left join app_private.sender_sends as s on s.sender_id = sender.id and s.ends_at > at - 1440 * w.minute
    and (sender.per_minute_limit is not null or sender.per_hour_limit is not null or sender.per_day_limit is not null)
  group by w.minute
$$ language sql stable set search_path to pg_catalog, public, pg_temp;
comment on function app_private.sender_capacity(app_public.senders, timestamptz) is
  'How many more messages the sender may hand to ACS at the given time: 0 outside its send window or while paused '
  'after a 429, else what every quota window (sliding minute, hour, day) leaves.';

create function app_private.sender_available_at(sender app_public.senders, at timestamptz default now()) returns timestamptz as $$
declare
  minute interval := interval '1 minute' * app_private.quota_time_scale();
  available timestamptz := at;
  local timestamp;
  window_limit integer;
  window_length interval;
  freed timestamptz;
begin
  select greatest(available, t.paused_until) into available from app_private.sender_throttles as t where t.sender_id = sender.id;
  available := coalesce(available, at);
  if not app_public.sender_window_open(sender, available) then
    local := date_trunc('day', available at time zone sender.send_window_time_zone) + sender.send_window_start;
    if (local at time zone sender.send_window_time_zone) <= available then
      local := local + interval '1 day';
    end if;
    available := local at time zone sender.send_window_time_zone;
  end if;
  for window_limit, window_length in
    select * from (values (sender.per_minute_limit, minute), (sender.per_hour_limit, 60 * minute),
                          (sender.per_day_limit, 1440 * minute)) as w
  loop
    continue when window_limit is null;
    -- The earliest time enough batches have left the window for one more message.
    select min(x.ends_at) + window_length into freed
    from (
      select s.ends_at, sum(s.sends) over () as used,
             sum(s.sends) over () - sum(s.sends) over (order by s.ends_at, s.id) as remaining
      from app_private.sender_sends as s
      where s.sender_id = sender.id and s.ends_at > available - window_length
    ) as x
    where x.used >= window_limit and x.remaining < window_limit;
    available := greatest(available, freed);
  end loop;
  return available;
end;
$$ language plpgsql stable set search_path to pg_catalog, public, pg_temp;
comment on function app_private.sender_available_at(app_public.senders, timestamptz) is
  'The earliest time (from the given one) the sender may send again: after a 429 pause, in its send window, and '
  'once each full quota window has room for one more message.';

--------------------------------------------------------------------------------------------------------
-- Claims.

create function app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer)
returns table (
  message_id bigint, sender_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text,
  recipient text, look_up boolean, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb,
  list_id bigint, list_name text
) as $$
declare
  campaign app_public.campaigns;
  lease interval := make_interval(secs => lease_seconds);
  room integer := max_messages;
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
  -- before anything else. This happens whatever the campaign's status.
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

  -- New sends: the campaign's senders with capacity, most remaining capacity first, each reserving what it
  -- takes in one sender_sends row.
  return query
  with senders as (
    select s.id, app_private.sender_capacity(s) as capacity
    from app_public.senders as s
    where s.id = campaign.sender_id
       or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = campaign.id)
  ),
  shares as (
    select s.id as sender_id,
           sum(least(s.capacity, room)) over (order by s.capacity desc, s.id) - least(s.capacity, room) as first,
           sum(least(s.capacity, room)) over (order by s.capacity desc, s.id) as last
    from senders as s
    where s.capacity > 0
  ),
  queued as (
    select m.id, row_number() over (order by m.id) - 1 as n
    from (
      select m.id from app_public.messages as m
      where m.campaign_id = campaign.id and m.send_status = 'queued'
      order by m.id
      limit least(room, (select coalesce(max(last), 0) from shares))
      for update skip locked
    ) as m
  ),
  assigned as (
    select q.id, sh.sender_id from queued as q join shares as sh on q.n >= sh.first and q.n < sh.last
  ),
  reserved as (
    insert into app_private.sender_sends (sender_id, sends, ends_at)
    select a.sender_id, count(*), now() + lease from assigned as a group by a.sender_id
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
comment on function app_private.claim_messages(bigint, integer, integer) is
  'Claims up to max_messages of a campaign for one worker, with a lease of lease_seconds (FOR UPDATE SKIP LOCKED, '
  'so any number of workers may claim at once). First messages in doubt whose lease ended (look_up: ask ACS '
  'before sending again), then, while the campaign is running, queued messages for the senders with capacity '
  '(quota windows, send window, 429 pause), reserved in sender_sends.';

--------------------------------------------------------------------------------------------------------
-- Outcomes.

create function app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer default 5000, max_attempts integer default 10)
returns void as $$
  -- outcomes: [{"id": message id, "outcome": ..., "code"?, "error"?, "retryAfterMs"?}, ...] where outcome is
  --   accepted   ACS answered 202, or a look-up found the operation
  --   failed     ACS refused the message for good (4xx other than 429): code and error are ACS's
  --   unknown    5xx, timeout or network error: stays 'sending' until its lease ends after a backoff, then is looked up
  --   not_found  a look-up found no such operation: nothing was sent; queued again
  --   throttled  429: queued again (the caller pauses the sender first: app_private.pause_sender)
  --   not_sent   claimed but never handed to ACS (the worker stopped): queued again
  -- Every sender_sends row of the batch is settled: ends now, counting what may have counted at ACS.
  with o as (
    select (x ->> 'id')::bigint as id, x ->> 'outcome' as outcome, x ->> 'code' as code, x ->> 'error' as error,
           (x ->> 'retryAfterMs')::bigint as retry_after_ms, (x ->> 'senderSendId')::bigint as sender_send_id
    from jsonb_array_elements(outcomes) as x
  ),
  updated as (
    update app_public.messages as m set
      send_status = case
        when o.outcome = 'accepted' then 'accepted'
        when o.outcome = 'failed' then 'failed'
        when o.outcome = 'unknown' then 'sending'
        when c.status = 'cancelled' then 'cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      send_status_reason = case
        when o.outcome = 'failed' then o.code
        when o.outcome = 'unknown' then null
        when o.outcome = 'accepted' then null
        when c.status = 'cancelled' then 'campaign cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'attempts exhausted'
        else null end,
      accepted_at = case when o.outcome = 'accepted' then coalesce(m.accepted_at, now()) else m.accepted_at end,
      lease_expires_at = case
        when o.outcome = 'unknown'
          then now() + least(interval '10 minutes',
                             interval '1 millisecond' * retry_base_ms
                               * power(2, greatest(m.send_attempts - 1, 0)))
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(m.send_attempts - 1, 0) else m.send_attempts end,
      last_error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        else m.last_error end
    from o, app_public.campaigns as c
    where m.id = o.id and c.id = m.campaign_id and m.send_status = 'sending'
    returning m.id
  ),
  used as (
    select o.sender_send_id, count(*) filter (where o.outcome not in ('throttled', 'not_sent')) as sends
    from o where o.sender_send_id is not null
    group by o.sender_send_id
  ),
  settled as (
    update app_private.sender_sends as s set sends = s.sends - (u_all.claimed - u.sends), ends_at = now(), settled = true
    from used as u
    join (select o.sender_send_id, count(*) as claimed from o where o.sender_send_id is not null group by o.sender_send_id) as u_all
      on u_all.sender_send_id = u.sender_send_id
    where s.id = u.sender_send_id and s.sends - (u_all.claimed - u.sends) > 0
  )
  delete from app_private.sender_sends as s
  using used as u
  where s.id = u.sender_send_id and u.sends = 0;
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.record_send_outcomes(jsonb, integer, integer) is
  'Records what happened to claimed messages, in one statement (see the outcomes in the body), and settles the '
  'batches'' quota reservations. Only messages still ''sending'' are changed. Takes no sender lock (claims take '
  'those before message and rollup locks; this takes message and rollup locks), so the two never deadlock.';

create function app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) returns timestamptz as $$
  insert into app_private.sender_throttles as t (sender_id, paused_until, reason)
  values (pause_sender.sender_id, now() + interval '1 millisecond' * greatest(pause_ms, 0), pause_sender.reason)
  on conflict (sender_id) do update
    set paused_until = greatest(t.paused_until, excluded.paused_until), reason = excluded.reason
  returning paused_until
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.pause_sender(bigint, bigint, text) is
  'Pauses a sender for pause_ms (ACS''s Retry-After after a 429) unless it is paused longer already; claims give it '
  'no messages until then. Run in its own transaction, before the outcomes are recorded.';

--------------------------------------------------------------------------------------------------------
-- The send job's schedule: graphile-worker job send_campaign {"campaignId": id}, one per campaign (job key).

create function app_private.next_send_at(campaign_id bigint) returns timestamptz as $$
  select least(
    -- messages in doubt are looked up when their lease ends, whatever the campaign's status
    (select min(m.lease_expires_at) from app_public.messages as m
     where m.campaign_id = c.id and m.send_status = 'sending'),
    -- queued messages of a running campaign go when one of its senders has capacity
    case when c.status = 'running' and exists (
           select 1 from app_public.messages as m where m.campaign_id = c.id and m.send_status = 'queued')
      then (select min(app_private.sender_available_at(s)) from app_public.senders as s
            where s.id = c.sender_id
               or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = c.id))
    end)
  from app_public.campaigns as c
  where c.id = next_send_at.campaign_id
$$ language sql stable set search_path to pg_catalog, public, pg_temp;
comment on function app_private.next_send_at(bigint) is
  'When the campaign''s send job has something to do next: a lease of a message in doubt ends, or a sender has '
  'capacity for its queued messages (running campaigns only). NULL when there is nothing left to do.';

create function app_private.schedule_sending(campaign_id bigint) returns timestamptz as $$
declare
  at timestamptz := app_private.next_send_at(campaign_id);
begin
  if at is not null then
    perform app_private.add_job('send_campaign', json_build_object('campaignId', campaign_id),
                                run_at => greatest(at, now()), job_key => 'send_campaign:' || campaign_id);
  end if;
  return at;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.schedule_sending(bigint) is
  'Queues the campaign''s send job for next_send_at (replacing a pending one); returns that time, NULL if none.';

create function app_private.queue_sending_jobs() returns integer as $$
  select count(app_private.schedule_sending(r.campaign_id))::integer
  from app_public.campaign_rollups as r
  join app_public.campaigns as c on c.id = r.campaign_id
  where r.sending > 0 or (r.queued > 0 and c.status = 'running')
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.queue_sending_jobs() is
  'Queues the send job of every campaign with messages to send or in doubt; run when a worker starts, so that '
  'campaigns whose job was held by a worker that died carry on at once.';

create function app_private.fail_queued_messages(campaign_id bigint, reason text) returns integer as $$
  with failed as (
    update app_public.messages as m set send_status = 'failed', send_status_reason = 'invalid content', last_error = reason
    where m.campaign_id = fail_queued_messages.campaign_id and m.send_status = 'queued'
    returning 1
  )
  select count(*)::integer from failed
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.fail_queued_messages(bigint, text) is
  'Marks every queued message of a campaign failed with the reason (content that cannot be rendered).';

--------------------------------------------------------------------------------------------------------
-- Signing secrets (the one-click unsubscribe token), generated once and shared by every process.

create table app_private.signing_secrets (
  name text primary key,
  secret text not null check (length(secret) >= 32),
  created_at timestamptz not null default now()
);
comment on table app_private.signing_secrets is
  'Secrets generated on first use and shared by every process (unsubscribe: HMAC key of the List-Unsubscribe '
  'tokens). UNSUBSCRIBE_SECRET, when set, is used instead.';

create function app_private.signing_secret(name text, candidate text) returns text as $$
  with inserted as (
    insert into app_private.signing_secrets (name, secret) values (signing_secret.name, candidate)
    on conflict do nothing
    returning secret
  )
  select secret from inserted
  union all
  select s.secret from app_private.signing_secrets as s where s.name = signing_secret.name
  limit 1
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;
comment on function app_private.signing_secret(text, text) is
  'The secret of that name, stored as the candidate (a fresh random value) on first use.';

--------------------------------------------------------------------------------------------------------
-- Privileges.

alter table app_public.campaign_senders enable row level security;
create policy select_all on app_public.campaign_senders for select to :DATABASE_ADMIN, :DATABASE_READONLY using (true);
create policy insert_admin on app_public.campaign_senders for insert to :DATABASE_ADMIN with check (true);
create policy delete_admin on app_public.campaign_senders for delete to :DATABASE_ADMIN using (true);
grant select on app_public.campaign_senders to :DATABASE_ADMIN, :DATABASE_READONLY;
grant insert (campaign_id, sender_id) on app_public.campaign_senders to :DATABASE_ADMIN;
grant delete on app_public.campaign_senders to :DATABASE_ADMIN;
