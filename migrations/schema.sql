--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app_hidden; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_hidden;

--
-- Name: app_private; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_private;

--
-- Name: app_public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_public;

--
-- Name: delivery_report_rank; Type: TYPE; Schema: app_private; Owner: -
--

CREATE TYPE app_private.delivery_report_rank AS (
	precedence integer,
	occurred_at timestamp with time zone,
	status text COLLATE pg_catalog."C",
	status_message text COLLATE pg_catalog."C"
);

--
-- Name: TYPE delivery_report_rank; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TYPE app_private.delivery_report_rank IS 'The rank of a delivery report, compared field by field: the message''s delivery status is its report of highest rank (see the function app_private.delivery_report_rank).';

--
-- Name: bulk_confirm_result; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.bulk_confirm_result AS (
	confirmed integer,
	already_confirmed integer,
	not_members integer,
	left_alone integer
);

--
-- Name: TYPE bulk_confirm_result; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.bulk_confirm_result IS 'confirm_list_members: members confirmed now, members confirmed before, addresses that are no member of the list (or no subscriber at all), and members left as they are (unsubscribed, or blocklisted).';

--
-- Name: confirmation_request_result; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.confirmation_request_result AS (
	queued integer,
	already_pending integer,
	sent_recently integer,
	blocklisted integer
);

--
-- Name: TYPE confirmation_request_result; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.confirmation_request_result IS 'send_confirmations: unconfirmed members sent a confirmation now (queued), those with one waiting or in flight already, those whose last one is more recent than the list''s confirmation_resend_interval, and blocklisted ones (never sent any).';

--
-- Name: list_member_counts; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.list_member_counts AS (
	members bigint,
	unconfirmed bigint,
	confirmed bigint,
	unsubscribed bigint
);

--
-- Name: TYPE list_member_counts; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.list_member_counts IS 'Members of a list by status; members = all but the unsubscribed.';

--
-- Name: sender_quota_use; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.sender_quota_use AS (
	sent_last_minute integer,
	sent_last_hour integer,
	sent_last_day integer,
	remaining_last_minute integer,
	remaining_last_hour integer,
	remaining_last_day integer,
	capacity_now integer,
	paused_until timestamp with time zone,
	window_open boolean
);

--
-- Name: TYPE sender_quota_use; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.sender_quota_use IS 'Messages handed to ACS in the sliding minute, hour and day (batches still in flight count), what each quota leaves (NULL: no quota), how many may be sent right now (capacity_now: 0 outside the send window or while paused after a 429), until when it is paused, and whether the send window is open.';

--
-- Name: subscriber_import_result; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.subscriber_import_result AS (
	row_number integer,
	email text,
	subscriber_id bigint,
	outcome text,
	error text,
	added_to_list boolean
);

--
-- Name: TYPE subscriber_import_result; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.subscriber_import_result IS 'What happened to one row of an import (row_number counts from 1): outcome created, updated, existing (already there, left as it was) or rejected (see error); added_to_list when a new membership of the list was created.';

--
-- Name: subscriber_import_row; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.subscriber_import_row AS (
	email text,
	name text,
	attributes jsonb
);

--
-- Name: TYPE subscriber_import_row; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.subscriber_import_row IS 'One subscriber to import: email (required), name, attributes (a JSON object).';

--
-- Name: advisory_lock_id(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.advisory_lock_id(name text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case name
    -- Creating the cluster's roles (src/db/roles.ts, session lock).
    when 'roles' then 7361001
    -- Applying the files of migrations/sql (src/db/migrate.ts, transaction lock).
    when 'sql sources' then 7361002
    -- Events that match no message (shared, before they are parked in pending_events) against new messages
    -- (exclusive, before pending events are matched to them): whichever commits second sees the other.
    when 'pending events' then 7361003
    -- Deleting a subscriber (exclusive) against starting a campaign (shared).
    when 'subscriber deletion' then 7361004
    -- One worker pool is alive (class of a two-key session lock: 7361005, hashtext(pool id)).
    when 'worker liveness' then 7361005
  end
$$;

--
-- Name: FUNCTION advisory_lock_id(name text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.advisory_lock_id(name text) IS 'The number of each advisory lock Mailroom takes, by name (roles, sql sources, pending events, subscriber deletion, worker liveness); NULL for an unknown name. The file migrations/sql/10-common/advisory_lock_id.sql documents when each is taken and the lock order.';

--
-- Name: authenticate_api_key(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.authenticate_api_key(key_hash text) RETURNS TABLE(api_key_id bigint, role text, state text, seconds_left double precision)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select k.id, k.role,
    case when k.revoked_at is not null then 'revoked'
         when k.expires_at <= now() then 'expired'
         else 'valid' end,
    extract(epoch from k.expires_at - now())::double precision
  from app_private.api_keys as k
  where k.key_hash = authenticate_api_key.key_hash
$$;

--
-- Name: FUNCTION authenticate_api_key(key_hash text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.authenticate_api_key(key_hash text) IS 'For the authenticator: the key with this SHA-256 (hex), its role, whether it is valid, revoked or expired, and the seconds until it expires (NULL: never); no row for an unknown key.';

--
-- Name: campaign_engagement_over_time(bigint); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.campaign_engagement_over_time(campaign_id bigint) RETURNS TABLE(hour timestamp with time zone, opens bigint, opens_human bigint, clicks bigint, clicks_human bigint)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select h.hour, h.opens, h.opens_human, h.clicks, h.clicks_human
  from app_public.campaign_engagement_hourly as h
  where h.campaign_id = campaign_engagement_over_time.campaign_id
  order by h.hour
$$;

--
-- Name: FUNCTION campaign_engagement_over_time(campaign_id bigint); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.campaign_engagement_over_time(campaign_id bigint) IS 'A campaign''s opens and clicks per hour (all that count, and the human ones), from app_public.campaign_engagement_hourly. For the dashboard''s chart.';

--
-- Name: confirmation_template_errors(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.confirmation_template_errors(content text) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $_$
  select coalesce(array_agg(error order by n), '{}')
  from (
    select n, format('unknown field "%s" (a confirmation email knows subscriber.email, subscriber.name, list.id, list.name, confirm_url)', tag[1]) as error
    from regexp_matches(coalesce(content, ''), '\{\{\{?\s*([^{}]*?)\s*\}?\}\}', 'g') with ordinality as t(tag, n)
    where tag[1] !~ '^(subscriber\.(email|name)|list\.(id|name)|confirm_url)$'
    union all
    select 1000000, 'unbalanced braces: "{{" or "}}" outside a {{ field }}'
    where regexp_replace(coalesce(content, ''), '\{\{\{\s*[^{}]*?\s*\}\}\}|\{\{(?!\{)\s*[^{}]*?\s*\}\}', '', 'g') ~ '\{\{|\}\}'
  ) as errors
$_$;

--
-- Name: FUNCTION confirmation_template_errors(content text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.confirmation_template_errors(content text) IS 'The errors of a confirmation email''s subject, HTML or text (unknown fields, unbalanced braces); empty when valid. Fields: subscriber.email, subscriber.name, list.id, list.name, confirm_url.';

--
-- Name: dashboard_session(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.dashboard_session(token_hash text) RETURNS TABLE(state text, api_key_id bigint, key_name text, role text, expires_at timestamp with time zone)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with session as (
    select s.token_hash, s.api_key_id, k.name, k.role, s.expires_at, s.last_seen_at,
      case when s.ended_at is not null then 'ended'
           when s.expires_at <= now() then 'expired'
           when k.revoked_at is not null then 'key revoked'
           when k.expires_at <= now() then 'key expired'
           else 'valid' end as state
    from app_private.dashboard_sessions as s
    join app_private.api_keys as k on k.id = s.api_key_id
    where s.token_hash = dashboard_session.token_hash
  ), seen as (
    update app_private.dashboard_sessions as d set last_seen_at = now()
    from session
    where d.token_hash = session.token_hash and session.state = 'valid' and session.last_seen_at < now() - interval '1 minute'
  )
  select session.state, session.api_key_id, session.name, session.role, session.expires_at from session
$$;

--
-- Name: FUNCTION dashboard_session(token_hash text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.dashboard_session(token_hash text) IS 'For the authenticator: the dashboard session of the cookie token with this SHA-256 (hex) and its API key, checked together: state valid, ended, expired, key revoked or key expired; the key''s id, name and role; when the session ends. No row for an unknown token. Notes last_seen_at at most once a minute.';

--
-- Name: end_dashboard_session(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.end_dashboard_session(token_hash text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with ended as (
    update app_private.dashboard_sessions as s set ended_at = now()
    where s.token_hash = end_dashboard_session.token_hash and s.ended_at is null
    returning 1
  )
  select exists (select from ended)
$$;

--
-- Name: FUNCTION end_dashboard_session(token_hash text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.end_dashboard_session(token_hash text) IS 'For the authenticator: ends the dashboard session of the cookie token with this SHA-256 (hex) (signing out). True when this call ended it.';

--
-- Name: start_dashboard_session(text, text, double precision); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) RETURNS TABLE(state text, api_key_id bigint, key_name text, role text, expires_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  key record;
  ends timestamptz;
begin
  select k.id, k.name, k.role, k.expires_at,
    case when k.revoked_at is not null then 'revoked' when k.expires_at <= now() then 'expired' else 'valid' end as state
  into key
  from app_private.api_keys as k
  where k.key_hash = start_dashboard_session.key_hash;
  if not found then
    return;
  end if;
  if key.state = 'valid' then
    -- least() ignores NULL: a key without expiry leaves the session its hours.
    insert into app_private.dashboard_sessions (token_hash, api_key_id, expires_at)
    values (start_dashboard_session.token_hash, key.id, least(now() + make_interval(secs => hours * 3600), key.expires_at))
    returning dashboard_sessions.expires_at into ends;
  end if;
  return query select key.state::text, key.id::bigint, key.name::text, key.role::text, ends;
end;
$$;

--
-- Name: FUNCTION start_dashboard_session(key_hash text, token_hash text, hours double precision); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) IS 'For the authenticator: signs a browser in to the dashboard with the API key of this SHA-256 (hex), when the key is valid, as a session known by the SHA-256 (hex) of its cookie token, lasting `hours` (at most until the key expires). Returns the key''s state (valid, revoked, expired), id, name and role and the session''s end (NULL when not started); no row for an unknown key.';

--
-- Name: subscriber_email_problem(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.subscriber_email_problem(email text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select case
    when email is null or email = '' then 'email is required'
    when length(email) > 254 then 'email is longer than 254 characters'
    when email !~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$' then 'email is not a valid address'
  end
$_$;

--
-- Name: FUNCTION subscriber_email_problem(email text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.subscriber_email_problem(email text) IS 'Why an email address (already trimmed) cannot be a subscriber''s, or NULL when it can: the rule of the subscribers_email_check constraint, also used by import_subscribers and the CSV import to report bad rows.';

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: campaign_engagement_hourly; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaign_engagement_hourly (
    campaign_id bigint NOT NULL,
    hour timestamp with time zone NOT NULL,
    opens bigint DEFAULT 0 NOT NULL,
    opens_human bigint DEFAULT 0 NOT NULL,
    clicks bigint DEFAULT 0 NOT NULL,
    clicks_human bigint DEFAULT 0 NOT NULL,
    CONSTRAINT campaign_engagement_hourly_hour_check CHECK ((hour = date_bin('01:00:00'::interval, hour, '2000-01-01 00:00:00+00'::timestamp with time zone)))
)
WITH (fillfactor='50');

--
-- Name: TABLE campaign_engagement_hourly; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaign_engagement_hourly IS 'A campaign''s opens and clicks per hour, for the chart of opens and clicks over time: the engagement events that count (message_events.ignored_reason NULL), each in the UTC hour of its occurred_at (when the person or machine acted). opens and clicks are all of them, *_human those without a machine_reason, so that over all hours they add up to campaign_rollups.opens, opens_human, clicks and clicks_human. Kept current by the ingestion pipeline in the transaction that attributes or re-derives the events (app_private.add_engagement_hourly); rebuilt by recompute_campaign_rollup; campaign_engagement_hourly_from_events computes it from the raw events. An hour whose events were all re-derived as counting nowhere keeps a row of zeros.';

--
-- Name: COLUMN campaign_engagement_hourly.hour; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.campaign_engagement_hourly.hour IS 'The start of the hour in UTC: date_bin(''1 hour'', occurred_at, ''2000-01-01 00:00+00''), which unlike date_trunc does not depend on the session''s TimeZone.';

--
-- Name: COLUMN campaign_engagement_hourly.opens; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.campaign_engagement_hourly.opens IS 'Views that count in this hour, human and machine; opens_human: those judged human.';

--
-- Name: COLUMN campaign_engagement_hourly.clicks; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.campaign_engagement_hourly.clicks IS 'Clicks that count in this hour (the honeypot link''s included, as machine), human and machine; clicks_human: those judged human.';

--
-- Name: add_engagement_hourly(app_public.campaign_engagement_hourly[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if delta is null or cardinality(delta) = 0 then
    return;
  end if;
  perform 1 from app_public.campaign_rollups as r
  where r.campaign_id in (select d.campaign_id from unnest(delta) as d)
  order by r.campaign_id
  for update;
  insert into app_public.campaign_engagement_hourly as h (campaign_id, hour, opens, opens_human, clicks, clicks_human)
  select d.campaign_id, d.hour, sum(d.opens), sum(d.opens_human), sum(d.clicks), sum(d.clicks_human)
  from unnest(delta) as d
  group by d.campaign_id, d.hour
  order by d.campaign_id, d.hour
  on conflict (campaign_id, hour) do update set
    opens = h.opens + excluded.opens,
    opens_human = h.opens_human + excluded.opens_human,
    clicks = h.clicks + excluded.clicks,
    clicks_human = h.clicks_human + excluded.clicks_human;
end;
$$;

--
-- Name: FUNCTION add_engagement_hourly(delta app_public.campaign_engagement_hourly[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) IS 'Adds per-hour deltas (rows of engagement_hourly_delta_query) to campaign_engagement_hourly: locks the campaigns'' rollup rows (campaign id order), then upserts the hours in key order, so that concurrent ingestion never deadlocks.';

--
-- Name: add_job(text, json, text, timestamp with time zone, integer, text, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.add_job(identifier text, payload json DEFAULT '{}'::json, queue_name text DEFAULT NULL::text, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone, max_attempts integer DEFAULT NULL::integer, job_key text DEFAULT NULL::text, priority integer DEFAULT NULL::integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform graphile_worker.add_job(
    identifier => identifier,
    payload => payload,
    queue_name => queue_name,
    run_at => run_at,
    max_attempts => max_attempts,
    job_key => job_key,
    priority => priority
  );
end;
$$;

--
-- Name: FUNCTION add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer) IS 'Queues a graphile-worker job (identifier = the task file name under tasks/).';

--
-- Name: attribute_events(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.attribute_events(raw_event_ids bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $_$
declare
  rederive_ids bigint[];
  unmatched_ids bigint[];
  hourly_delta app_public.campaign_engagement_hourly[];
begin
  execute $statement$
    -- Step 1, match: each event to its message, the messages locked.
    with batch_event as materialized (
      -- The events that can be attributed (delivery and engagement reports that could be interpreted), each with
      -- its message by the attribution rule: by Message-ID; else by operation id and recipient; else by operation
      -- id when the event names no recipient. Nothing else; no message when nothing matches.
      -- Mailroom's own hits name their message's operation id in a signed token: attributed by the token.
      select e.id as raw_event_id, app_private.event_kind(e.event_type) as kind,
        coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at, e.status, e.status_message,
        e.engagement_type, e.user_agent, app_private.engagement_source(e.event_type) as source,
        -- The link a click names (a Mailroom tracking URL reported by Azure: the link inside it).
        case when app_private.event_kind(e.event_type) = 'engagement' then app_private.tracked_link(e.engagement_context) end as url,
        e.http_method, e.honeypot, e.ip_address,
        coalesce(by_message_id.id, by_operation_id.id) as message_id,
        case when by_message_id.id is not null then 'internet_message_id'
             when by_operation_id.id is null then null
             when app_private.engagement_source(e.event_type) = 'mailroom' then 'tracking_token'
             when e.recipient is null then 'operation_id'
             else 'operation_id_and_recipient' end as attributed_by
      from app_public.raw_events as e
      left join app_public.messages as by_message_id on by_message_id.internet_message_id = e.internet_message_id
      left join lateral (
        select m.id from app_public.messages as m
        where by_message_id.id is null and m.operation_id = e.operation_id
          and (e.recipient is null or lower(m.recipient) = e.recipient)
      ) as by_operation_id on true
      where e.id = any($1) and e.problem is null and app_private.event_kind(e.event_type) is not null
    ),
    locked as materialized (
      -- The matched messages, locked in id order and read as last committed (the lock follows a row updated since;
      -- looked up again by id, which unlike the row's address survives that).
      select m.id, m.campaign_id, m.subscriber_id, m.accepted_at, m.opens_human, m.opens_machine, m.clicks_human,
        m.clicks_machine, m.delivery_status,
        m.delivery_status_message, m.delivery_status_at
      from app_public.messages as m
      where m.id = any(array(select message_id from batch_event where message_id is not null))
      order by m.id
      for no key update
    ),
    event as materialized (
      -- The matched events with their message's current state.
      select b.raw_event_id, m.id as message_id, m.campaign_id, m.subscriber_id, b.attributed_by, b.kind, b.occurred_at,
        b.status, b.status_message, b.engagement_type, b.user_agent, b.source, b.http_method, b.honeypot, b.ip_address,
        b.url,
        c.engagement_tracking,
        case when b.kind = 'engagement'
             then app_private.engagement_ignored_reason(c.engagement_tracking, b.source, b.engagement_type, b.url) end
          as ignored_reason,
        m.accepted_at, m.clicks_human + m.clicks_machine as earlier_clicks,
        m.opens_human + m.opens_machine + m.clicks_human + m.clicks_machine as earlier_engagement,
        m.delivery_status, m.delivery_status_at,
        case when m.delivery_status_at is not null
             then app_private.delivery_report_rank(current_status.precedence, m.delivery_status_at, m.delivery_status,
                                                   m.delivery_status_message) end as current_rank,
        case when b.kind = 'delivery_report'
             then app_private.delivery_report_rank(ds.precedence, b.occurred_at, b.status, b.status_message) end as rank
      from batch_event as b
      join locked as m on m.id = b.message_id
      left join app_public.campaigns as c on c.id = m.campaign_id and b.kind = 'engagement'
      left join app_public.delivery_statuses as ds on ds.status = b.status
      left join app_public.delivery_statuses as current_status on current_status.status = m.delivery_status
    ),
    -- Step 2, record: what each event means (engagement classified, bounce rules), recorded once, with its bounce
    -- and suppression.
    agent as (
      select d.user_agent, app_private.user_agent_machine_reason(d.user_agent) as reason
      from (select distinct user_agent from event where engagement_type is not null and user_agent is not null) as d
    ),
    rule as (
      -- The first bounce rule (by position) matching each distinct status and status message of the batch.
      select d.status, d.status_message, r.bounce_type, r.blocklist_subscriber
      from (select distinct status, coalesce(status_message, '') as status_message
            from event where kind = 'delivery_report' and status is not null) as d
      join lateral (
        select r.bounce_type, r.blocklist_subscriber
        from app_public.bounce_rules as r
        where r.status = d.status and (r.status_message_pattern is null or d.status_message ~* r.status_message_pattern)
        order by r.position
        limit 1
      ) as r on true
    ),
    request as (
      -- What the request of a Mailroom hit says (honeypot, HEAD, a listed address range), once per distinct request.
      select d.http_method, d.honeypot, d.ip_address, app_private.request_machine_reason(d.http_method, d.honeypot, d.ip_address) as reason
      from (select distinct http_method, honeypot, ip_address from event where source = 'mailroom') as d
    ),
    attributed as materialized (
      select e.*, rule.bounce_type, coalesce(rule.blocklist_subscriber, false) as blocklists,
        agent.reason as user_agent_reason, request.reason as request_reason,
        -- Engagement that counts nowhere has no machine reason either (ignored_reason says why).
        case when e.kind = 'engagement' and e.ignored_reason is null
             then app_private.engagement_machine_reason(coalesce(request.reason, agent.reason), e.occurred_at, e.accepted_at,
                                                        e.delivery_status, e.delivery_status_at, null, null, s) end as machine_reason
      from event as e
      cross join app_public.engagement_settings as s
      left join agent on e.engagement_type is not null and agent.user_agent = e.user_agent
      left join request on e.source = 'mailroom' and request.http_method is not distinct from e.http_method
                       and request.honeypot is not distinct from e.honeypot and request.ip_address is not distinct from e.ip_address
      left join rule on e.kind = 'delivery_report' and rule.status = e.status
                    and rule.status_message = coalesce(e.status_message, '')
    ),
    recorded as (
      insert into app_public.message_events (
        raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
        bounce_type, blocklists, engagement_type, url, user_agent_reason, machine_reason, engagement_source,
        request_reason, honeypot, ignored_reason
      )
      select raw_event_id, message_id, campaign_id, attributed_by, kind, occurred_at, status, status_message,
        bounce_type, blocklists, engagement_type, url, user_agent_reason, machine_reason, source,
        request_reason, coalesce(honeypot, false), ignored_reason
      from attributed
      on conflict (raw_event_id) do nothing
      returning raw_event_id
    ),
    new_event as materialized (
      -- Only the events recorded now: an event is applied once.
      select a.* from attributed as a where a.raw_event_id in (select r.raw_event_id from recorded as r)
    ),
    locked_subscriber as materialized (
      -- The subscribers that a bounce or a suppression may change (here, and in the bounce policy's trigger), locked
      -- in id order before either touches them: one order for every job.
      select l.id, l.status from app_public.subscribers as l
      where l.id in (select subscriber_id from new_event where bounce_type is not null or blocklists)
      order by l.id
      for no key update
    ),
    bounced as (
      -- One bounce per delivery report that the rules call a bounce.
      insert into app_public.bounces (subscriber_id, message_id, campaign_id, raw_event_id, bounce_type, status, detail, occurred_at)
      select n.subscriber_id, n.message_id, n.campaign_id, n.raw_event_id, n.bounce_type, n.status, n.status_message, n.occurred_at
      from new_event as n
      where n.bounce_type is not null and n.subscriber_id in (select l.id from locked_subscriber as l)
      on conflict (raw_event_id) do nothing
    ),
    suppressed as (
      -- Suppressed: ACS will not send to the address; blocklist the subscriber (by id), counting no bounce.
      update app_public.subscribers as s set status = 'blocklisted'
      from locked_subscriber as l
      where s.id = l.id and l.status <> 'blocklisted' and l.id in (select subscriber_id from new_event where blocklists)
    ),
    -- Step 3, apply to messages: per message, what the recorded events add, and the report that wins.
    counted as (
      -- The new engagement that counts (ignored_reason NULL), and the rest of the new events.
      select n.*, n.kind = 'engagement' and n.ignored_reason is null as counts from new_event as n
    ),
    incoming as (
      -- Per message: the new views and clicks, and whether a rule that looks at other events of the message may
      -- change them, in which case the message is re-derived from all of its events: the burst rule (a click while
      -- the message has another, the honeypot's included), and with both sources the rule that counts an open or
      -- click seen by Azure and by Mailroom once (engagement while the message has other engagement).
      select n.message_id,
        count(*) filter (where n.counts and n.engagement_type = 'click') > 0
          and count(*) filter (where n.counts and n.engagement_type = 'click') + max(n.earlier_clicks) > 1
        or max(n.engagement_tracking) = 'both' and count(*) filter (where n.counts) > 0
          and count(*) filter (where n.counts) + max(n.earlier_engagement) > 1
          as rederive,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as opens_human,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is not null) as opens_machine,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as clicks_human,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is not null) as clicks_machine,
        count(*) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null and n.source = 'mailroom')
          as opens_human_mailroom,
        count(*) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null and n.source = 'mailroom')
          as clicks_human_mailroom,
        min(n.occurred_at) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as first_opened_at,
        max(n.occurred_at) filter (where n.counts and n.engagement_type = 'view' and n.machine_reason is null) as last_opened_at,
        min(n.occurred_at) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as first_clicked_at,
        max(n.occurred_at) filter (where n.counts and n.engagement_type = 'click' and n.machine_reason is null) as last_clicked_at
      from counted as n
      group by n.message_id
    ),
    report as (
      -- Per message: the highest-ranking new delivery report (delivery_report_rank: precedence, time, then content,
      -- so that equal ranks are equal reports), and whether it outranks the current one.
      select distinct on (n.message_id) n.message_id, n.status, n.status_message, n.occurred_at, n.bounce_type,
        n.current_rank is null or n.rank > n.current_rank as outranks
      from new_event as n
      where n.kind = 'delivery_report'
      order by n.message_id, n.rank desc
    ),
    change as materialized (
      select i.message_id, i.rederive, coalesce(r.outranks, false) as outranks,
        r.status, r.status_message, r.occurred_at, r.bounce_type, i.opens_human, i.opens_machine, i.clicks_human,
        i.clicks_machine, i.opens_human_mailroom, i.clicks_human_mailroom, i.first_opened_at, i.last_opened_at, i.first_clicked_at, i.last_clicked_at
      from incoming as i left join report as r on r.message_id = i.message_id
    ),
    applied as (
      update app_public.messages as m set
        delivery_status = case when c.outranks then c.status else m.delivery_status end,
        delivery_status_message = case when c.outranks then c.status_message else m.delivery_status_message end,
        delivery_status_at = case when c.outranks then c.occurred_at else m.delivery_status_at end,
        bounce_type = case when c.outranks then c.bounce_type else m.bounce_type end,
        opens_human = m.opens_human + c.opens_human,
        opens_machine = m.opens_machine + c.opens_machine,
        clicks_human = m.clicks_human + c.clicks_human,
        clicks_machine = m.clicks_machine + c.clicks_machine,
        opens_human_mailroom = m.opens_human_mailroom + c.opens_human_mailroom,
        clicks_human_mailroom = m.clicks_human_mailroom + c.clicks_human_mailroom,
        first_opened_at = least(m.first_opened_at, c.first_opened_at),
        last_opened_at = greatest(m.last_opened_at, c.last_opened_at),
        first_clicked_at = least(m.first_clicked_at, c.first_clicked_at),
        last_clicked_at = greatest(m.last_clicked_at, c.last_clicked_at),
        updated_at = now()
      from change as c
      -- Every message the batch changes, those to re-derive included (refresh_messages then corrects them): the
      -- rollup trigger of this statement locks the rollups of all the batch's campaigns, in campaign order, so that
      -- a later statement of the transaction never takes one it does not hold yet (two jobs would deadlock).
      where m.id = c.message_id
        and (c.outranks or c.opens_human + c.opens_machine + c.clicks_human + c.clicks_machine > 0)
    )
    select (select array_agg(c.message_id) filter (where c.rederive) from change as c),
      (select array_agg(b.raw_event_id) from batch_event as b where b.message_id is null),
      -- What the recorded events add to campaign_engagement_hourly (engagement_hourly_delta_query: the one rule).
      (select array_agg(row(h.*)::app_public.campaign_engagement_hourly order by h.campaign_id, h.hour)
       from ($statement$ || app_private.engagement_hourly_delta_query(
    'select 1 as sign, campaign_id, occurred_at, kind, engagement_type, machine_reason, ignored_reason from new_event')
    || ') as h)'
  into rederive_ids, unmatched_ids, hourly_delta
  using raw_event_ids;

  -- Step 4 continued: the opens and clicks per hour, after the statement whose trigger on messages updated the
  -- campaigns' rollups (so that the rollup rows are always locked before the hourly rows).
  perform app_private.add_engagement_hourly(hourly_delta);
  if rederive_ids is not null then
    perform app_private.refresh_messages(rederive_ids);
  end if;
  return unmatched_ids;
end;
$_$;

--
-- Name: FUNCTION attribute_events(raw_event_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.attribute_events(raw_event_ids bigint[]) IS 'Steps 1 to 3 of ingestion (see attribute_new_events): matches raw events (by id) to messages by the attribution rule, records each once in message_events (with bounces and suppression; engagement with its source, its request''s and user agent''s reasons, and why it counts nowhere: engagement_ignored_reason), and applies them to their messages: a report that outranks the current one by delivery_report_rank, views and clicks that count added as classified by engagement_machine_reason. A click while the message has another (burst rule), and engagement of a campaign tracking both while the message has other engagement, re-derives the message with refresh_messages. Step 4, the rollup, follows from the trigger on messages; then the recorded engagement is added to campaign_engagement_hourly (add_engagement_hourly). Returns the ids of the events (delivery and engagement reports without a problem) that match no message; events of other types or with a problem are left alone.';

--
-- Name: attribute_new_events(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.attribute_new_events(raw_event_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  unmatched_ids bigint[];
begin
  -- Steps 1 to 4.
  unmatched_ids = app_private.attribute_events(raw_event_ids);
  if unmatched_ids is null then
    return;
  end if;
  -- Step 5.
  unmatched_ids = app_private.record_other_email_reports(unmatched_ids);
  if cardinality(unmatched_ids) = 0 then
    return;
  end if;
  -- Step 6: with the lock, look once more (a statement now sees what committed before the lock was granted): when
  -- a message with one of their keys exists now, attribute again; then park what still matches nothing.
  perform pg_advisory_xact_lock_shared(app_hidden.advisory_lock_id('pending events'));
  if exists (select 1 from app_public.raw_events as e
             where e.id = any(unmatched_ids)
               and (exists (select 1 from app_public.messages as m where m.internet_message_id = e.internet_message_id)
                    or exists (select 1 from app_public.messages as m where m.operation_id = e.operation_id))) then
    unmatched_ids = app_private.attribute_events(unmatched_ids);
  end if;
  insert into app_private.pending_events (raw_event_id, internet_message_id, operation_id, recipient)
  select e.id, e.internet_message_id, e.operation_id, e.recipient
  from app_public.raw_events as e
  where e.id = any(unmatched_ids) and (e.internet_message_id is not null or e.operation_id is not null)
  order by e.id;
end;
$$;

--
-- Name: FUNCTION attribute_new_events(raw_event_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.attribute_new_events(raw_event_ids bigint[]) IS 'Ingestion of newly stored raw events (by id), in named steps: match, record and apply to messages (attribute_events), roll up (the trigger on messages), test sends and confirmation emails (record_other_email_reports), park in pending_events what matches no message. Called by the statement trigger on raw_events; the file migrations/sql/30-attribution/attribute_new_events.sql documents the steps and their lock order.';

--
-- Name: attribute_pending(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.attribute_pending(raw_event_ids bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  unmatched_ids bigint[];
  attributed_ids bigint[];
begin
  unmatched_ids = app_private.attribute_events(raw_event_ids);
  attributed_ids = array(select unnest(raw_event_ids) except select unnest(unmatched_ids));
  delete from app_private.pending_events as p where p.raw_event_id = any(attributed_ids);
  return attributed_ids;
end;
$$;

--
-- Name: FUNCTION attribute_pending(raw_event_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.attribute_pending(raw_event_ids bigint[]) IS 'Attributes pending events (by raw event id) with attribute_events and takes those attributed off app_private.pending_events; the others stay pending. Returns the ids attributed.';

--
-- Name: attribute_pending_events(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.attribute_pending_events() RETURNS TABLE(attributed_by text, events bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  attributed_ids bigint[];
begin
  -- The same lock as inserting messages: no event or message can slip in between while we look.
  perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('pending events'));
  -- Pending rows of events that were attributed meanwhile are stale: remove them.
  delete from app_private.pending_events as p
  using app_public.message_events as me where me.raw_event_id = p.raw_event_id;
  attributed_ids = app_private.attribute_pending(array(select p.raw_event_id from app_private.pending_events as p));
  return query
  select me.attributed_by, count(*)
  from app_public.message_events as me
  where me.raw_event_id = any(attributed_ids)
  group by me.attributed_by
  order by 1;
end;
$$;

--
-- Name: FUNCTION attribute_pending_events(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.attribute_pending_events() IS 'Attributes the pending (unattributed) events that match a message now, by the attribution rule, with all the effects of attribution; returns how many per key used. Events that still match nothing stay pending.';

--
-- Name: campaigns; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaigns (
    id bigint NOT NULL,
    name text NOT NULL,
    template_id bigint,
    sender_id bigint,
    subject text DEFAULT ''::text NOT NULL,
    html_body text DEFAULT ''::text NOT NULL,
    text_body text DEFAULT ''::text NOT NULL,
    status text DEFAULT 'draft'::text NOT NULL,
    scheduled_at timestamp with time zone,
    started_at timestamp with time zone,
    paused_at timestamp with time zone,
    finished_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    engagement_tracking text,
    CONSTRAINT campaigns_check CHECK (((status <> 'scheduled'::text) OR (scheduled_at IS NOT NULL))),
    CONSTRAINT campaigns_engagement_tracking_check CHECK ((engagement_tracking = ANY (ARRAY['azure'::text, 'mailroom'::text, 'both'::text, 'off'::text]))),
    CONSTRAINT campaigns_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'scheduled'::text, 'running'::text, 'paused'::text, 'cancelled'::text, 'finished'::text])))
);

--
-- Name: TABLE campaigns; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaigns IS 'A mailing to the members of its lists. Status changes only through start_campaign, schedule_campaign, unschedule_campaign, pause_campaign, resume_campaign and cancel_campaign, along campaign_status_transitions; a running campaign becomes finished when no message is queued or sending.';

--
-- Name: COLUMN campaigns.engagement_tracking; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.campaigns.engagement_tracking IS 'azure, mailroom, both or off; NULL until start takes the sender''s. Decides how the messages are rendered (mailroom, both: links rewritten, open pixel) and which engagement counts.';

--
-- Name: campaign_content(app_public.campaigns); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.campaign_content(campaign app_public.campaigns, OUT subject text, OUT html_body text, OUT text_body text) RETURNS record
    LANGUAGE sql STABLE
    AS $$
  select coalesce(nullif(campaign.subject, ''), t.subject, ''),
    case when campaign.html_body <> '' or campaign.text_body <> '' then campaign.html_body else coalesce(t.html_body, '') end,
    case when campaign.html_body <> '' or campaign.text_body <> '' then campaign.text_body else coalesce(t.text_body, '') end
  from (select) as one left join app_public.templates as t on t.id = campaign.template_id
$$;

--
-- Name: FUNCTION campaign_content(campaign app_public.campaigns, OUT subject text, OUT html_body text, OUT text_body text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.campaign_content(campaign app_public.campaigns, OUT subject text, OUT html_body text, OUT text_body text) IS 'The subject (the campaign''s, else its template''s) and bodies (the campaign''s if it has any, else its template''s) that a campaign sends. Used by the check of its content, send_test_email and the sending worker.';

--
-- Name: campaign_events_from_raw(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.campaign_events_from_raw(campaign_id bigint) RETURNS TABLE(message_id bigint, kind text, status text, bounce_type text, engagement_type text, source text, occurred_at timestamp with time zone, is_machine boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET work_mem TO '256MB'
    SET enable_nestloop TO 'off'
    AS $$
  with settings as (select * from app_public.engagement_settings),
  msg as (
    select * from app_public.messages as m where m.campaign_id = campaign_events_from_raw.campaign_id
  ),
  candidate as materialized (
    select e.*, app_private.event_kind(e.event_type) as kind
    from app_public.raw_events as e
    where e.problem is null and app_private.event_kind(e.event_type) is not null
      and e.id in (select r.id from app_public.raw_events as r join msg on msg.internet_message_id = r.internet_message_id
                   union
                   select r.id from app_public.raw_events as r join msg on msg.operation_id = r.operation_id)
  ),
  matched as (
    select c.id, m.id as message_id, 1 as rank
    from candidate as c join app_public.messages as m on m.internet_message_id = c.internet_message_id
    union all
    select c.id, m.id, 2
    from candidate as c join app_public.messages as m on m.operation_id = c.operation_id
    where lower(m.recipient) = c.recipient
    union all
    select c.id, m.id, 3
    from candidate as c join app_public.messages as m on m.operation_id = c.operation_id
    where c.recipient is null
  ),
  attributed as materialized (
    select c.*, b.message_id, m.accepted_at
    from (select distinct on (id) id, message_id from matched order by id, rank) as b
    join candidate as c on c.id = b.id
    join msg as m on m.id = b.message_id
  ),
  report as materialized (
    select distinct on (a.message_id) a.message_id, a.status, coalesce(a.occurred_at, a.event_time, a.received_at) as occurred_at,
      rule.bounce_type
    from attributed as a
    left join app_public.delivery_statuses as ds on ds.status = a.status
    left join lateral (
      select r.bounce_type from app_public.bounce_rules as r
      where r.status = a.status
        and (r.status_message_pattern is null or coalesce(a.status_message, '') ~* r.status_message_pattern)
      order by r.position limit 1
    ) as rule on true
    where a.kind = 'delivery_report'
    order by a.message_id, app_private.delivery_report_rank(ds.precedence, coalesce(a.occurred_at, a.event_time, a.received_at),
                                                            a.status, a.status_message) desc
  ),
  tracking as (
    select c.engagement_tracking from app_public.campaigns as c where c.id = campaign_events_from_raw.campaign_id
  ),
  engagement as materialized (
    select e.*, app_private.engagement_ignored_reason(t.engagement_tracking, e.source, e.engagement_type, e.url) as own_ignored,
      t.engagement_tracking
    from (
      select a.id, a.message_id, a.engagement_type, app_private.tracked_link(a.engagement_context) as url, a.user_agent,
             a.accepted_at, app_private.engagement_source(a.event_type) as source, coalesce(a.honeypot, false) as honeypot,
             app_private.request_machine_reason(a.http_method, a.honeypot, a.ip_address) as request_reason,
             coalesce(a.occurred_at, a.event_time, a.received_at) as occurred_at
      from attributed as a where a.kind = 'engagement'
    ) as e
    left join tracking as t on true
  ),
  duplicate as materialized (
    select e.id
    from engagement as e cross join settings as s
    where e.engagement_tracking = 'both' and e.source = 'azure' and e.own_ignored is null
      and exists (select 1 from engagement as o
                  where o.message_id = e.message_id and o.source = 'mailroom' and o.own_ignored is null and not o.honeypot
                    and o.engagement_type = e.engagement_type and (e.engagement_type = 'view' or o.url = e.url)
                    and o.occurred_at between e.occurred_at - make_interval(secs => s.source_overlap_seconds)
                                          and e.occurred_at + make_interval(secs => s.source_overlap_seconds))
  ),
  burst as materialized (
    select e.id, count(distinct o.url) filter (where o.engagement_type = 'click' and o.url is not null) as distinct_links,
      bool_or(o.honeypot and not e.honeypot) as honeypot_near
    from engagement as e cross join settings as s
    join engagement as o on o.message_id = e.message_id
    where e.engagement_type = 'click' and o.engagement_type = 'click' and o.own_ignored is null
      and o.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                            and e.occurred_at + make_interval(secs => s.burst_seconds)
    group by e.id
  ),
  agent as materialized (
    select d.user_agent, app_private.user_agent_machine_reason(d.user_agent) as reason
    from (select distinct user_agent from engagement where user_agent is not null) as d
  ),
  classified as materialized (
    select e.message_id, e.engagement_type, e.source, e.occurred_at,
      app_private.engagement_machine_reason(coalesce(e.request_reason, a.reason), e.occurred_at, e.accepted_at, r.status,
                                            r.occurred_at, b.distinct_links, b.honeypot_near, s) is not null as is_machine
    from engagement as e cross join app_public.engagement_settings as s
    left join agent as a on a.user_agent = e.user_agent
    left join burst as b on b.id = e.id
    left join report as r on r.message_id = e.message_id
    where e.own_ignored is null and e.id not in (select d.id from duplicate as d)
  )
  select r.message_id, 'delivery_report', r.status, r.bounce_type, null, null, r.occurred_at, null from report as r
  union all
  select c.message_id, 'engagement', null, null, c.engagement_type, c.source, c.occurred_at, c.is_machine from classified as c
$$;

--
-- Name: FUNCTION campaign_events_from_raw(campaign_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.campaign_events_from_raw(campaign_id bigint) IS 'A campaign''s delivery reports of highest rank (one per message) and engagement events that count, classified, computed from the raw events by the rules alone (not from message_events): what the oracles campaign_rollup_from_events and campaign_engagement_hourly_from_events add up.';

--
-- Name: check_campaign_content(app_public.campaigns); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.check_campaign_content(campaign app_public.campaigns) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  content record;
  errors text[];
begin
  select * into content from app_private.campaign_content(campaign);
  errors := array(
    select p.part || ' ' || e.error
    from (values (1, 'subject', content.subject), (2, 'html', content.html_body), (3, 'text', content.text_body)) as p(n, part, body)
    cross join lateral unnest(app_public.template_errors(p.body)) with ordinality as e(error, m)
    order by p.n, e.m
  );
  if cardinality(errors) > 0 then
    raise exception 'campaign % has template errors: %', campaign.id, array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$;

--
-- Name: FUNCTION check_campaign_content(campaign app_public.campaigns); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.check_campaign_content(campaign app_public.campaigns) IS 'Raises (22023) "campaign N has template errors: PART line N: ..." with every template error of the campaign''s subject (its own, else its template''s) and bodies (its own if it has any, else its template''s), naming the part, the line and the placeholder.';

--
-- Name: check_campaign_ready(app_public.campaigns); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.check_campaign_ready(campaign app_public.campaigns) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if campaign.status = 'cancelled' then
    raise exception 'campaign % is cancelled and cannot be started', campaign.id using errcode = '55000';
  elsif campaign.status in ('running', 'paused', 'finished') then
    raise exception 'campaign % has already been started (it is %)', campaign.id, campaign.status using errcode = '55000';
  elsif campaign.sender_id is null then
    raise exception 'campaign % has no sender', campaign.id using errcode = '55000';
  elsif not exists (select 1 from app_public.campaign_lists where campaign_id = campaign.id) then
    raise exception 'campaign % has no lists', campaign.id using errcode = '55000';
  end if;
end;
$$;

--
-- Name: claim_confirmations(bigint, integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer) RETURNS TABLE(confirmation_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text, recipient text, look_up boolean, subscriber_name text, list_id bigint, list_name text, confirmation_subject text, confirmation_html text, confirmation_text text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  sender app_public.senders;
  lease interval := make_interval(secs => lease_seconds);
  room integer := max_confirmations;
  take integer;
  candidates bigint[];
  sendable bigint[];
  reservation bigint;
begin
  -- The sender's row first, as claim_messages takes it: reservations of every process and of campaigns are
  -- serialised per sender, and the capacity below sees all of them.
  select * into sender from app_public.senders as s where s.id = claim_confirmations.sender_id for update;
  if not found then
    return;
  end if;

  -- Confirmations whose outcome is unknown (a 5xx, a timeout, a worker that died) are looked up at ACS when their
  -- lease ends, never sent again before.
  return query
  with in_doubt as (
    select c.id from app_public.confirmations as c
    where c.sender_id = sender.id and c.status = 'sending' and c.lease_expires_at <= now()
    order by c.lease_expires_at, c.id
    limit room
    for update skip locked
  )
  update app_public.confirmations as c set lease_expires_at = now() + lease
  from in_doubt
  where c.id = in_doubt.id
  returning c.id, c.sender_send_id, c.operation_id, c.internet_message_id, c.recipient, true,
    null::text, c.list_id, null::text, null::text, null::text, null::text;
  get diagnostics take = row_count;
  room := room - take;
  take := least(room, app_private.sender_capacity(sender));
  if take <= 0 then
    return;
  end if;

  select array_agg(q.id order by q.id) into candidates
  from (
    select c.id from app_public.confirmations as c
    where c.sender_id = sender.id and c.status = 'queued'
    order by c.id
    limit take
    for update skip locked
  ) as q;
  if candidates is null then
    return;
  end if;

  -- What may no longer be sent is cancelled: its link would confirm nobody now (app_private.confirmation_link_state:
  -- the member confirmed or left meanwhile, the subscriber was blocklisted, or is no member any more).
  with state as (
    select x.id, app_private.confirmation_link_state(x.id) as state from unnest(candidates) as x(id)
  ),
  cancelled as (
    update app_public.confirmations as c
    set status = 'cancelled', sent_at = now(), error = 'not sent: ' || st.state
    from state as st
    where c.id = st.id and st.state <> 'confirmable'
    returning c.id
  )
  select array(select unnest(candidates) except select cancelled.id from cancelled order by 1) into sendable;
  if cardinality(sendable) = 0 then
    return;
  end if;

  insert into app_private.sender_sends (sender_id, sends, ends_at)
  values (sender.id, cardinality(sendable), now() + lease)
  returning id into reservation;

  return query
  update app_public.confirmations as c
  set status = 'sending', lease_expires_at = now() + lease, send_attempts = c.send_attempts + 1, sender_send_id = reservation
  from app_public.lists as l, app_public.subscribers as s
  where c.id = any(sendable) and l.id = c.list_id and s.id = c.subscriber_id
  returning c.id, reservation, c.operation_id, c.internet_message_id, c.recipient, false,
    s.name, l.id, l.name, l.confirmation_subject, l.confirmation_html, l.confirmation_text;
end;
$$;

--
-- Name: FUNCTION claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer) IS 'Claims up to max_confirmations confirmation emails of the sender for one worker, with a lease: first those in doubt whose lease ended (look_up: ask ACS before anything else), then queued ones within the sender''s capacity (quota windows, send window, 429 pause), reserved in app_private.sender_sends like campaign messages. Queued ones that may no longer be sent (the member confirmed or left, the subscriber was blocklisted) are cancelled instead.';

--
-- Name: claim_messages(bigint, integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer) RETURNS TABLE(message_id bigint, sender_id bigint, sender_send_id bigint, operation_id uuid, internet_message_id text, recipient text, look_up boolean, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb, list_id bigint, list_name text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer) IS 'Claims up to max_messages of a campaign for one worker, with a lease of lease_seconds (FOR UPDATE SKIP LOCKED, so any number of workers may claim at once). First messages in doubt whose lease ended (look_up: ask ACS before sending again), then, while the campaign is running, queued messages for the senders with capacity (quota windows, send window, 429 pause), reserved in sender_sends with the ids of the messages.';

--
-- Name: confirm_subscription(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.confirm_subscription(confirmation_id bigint) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  confirmation app_public.confirmations;
  state text;
begin
  select * into confirmation from app_public.confirmations as c where c.id = confirm_subscription.confirmation_id;
  if not found then
    return 'not found';
  end if;
  -- The membership locked first: a concurrent unsubscribe or confirmation is seen whole.
  perform 1 from app_public.list_memberships as lm
  where lm.list_id = confirmation.list_id and lm.subscriber_id = confirmation.subscriber_id
  for update;
  state := app_private.confirmation_link_state(confirmation.id);
  if state <> 'confirmable' then
    return state;
  end if;
  update app_public.list_memberships as lm set status = 'confirmed'
  where lm.list_id = confirmation.list_id and lm.subscriber_id = confirmation.subscriber_id;
  update app_public.confirmations as c set confirmed_at = now() where c.id = confirmation.id;
  return 'confirmed';
end;
$$;

--
-- Name: FUNCTION confirm_subscription(confirmation_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.confirm_subscription(confirmation_id bigint) IS 'The link of a confirmation email, POSTed: confirms the membership when app_private.confirmation_link_state says confirmable, and records confirmed_at on the confirmation; otherwise changes nothing. Returns confirmed or the state that stopped it (already confirmed, unsubscribed, blocklisted, not a member, not found). Idempotent.';

--
-- Name: confirmation_link_state(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.confirmation_link_state(confirmation_id bigint) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select coalesce((
    select case
      when lm.status is null then 'not a member'
      when s.status <> 'enabled' then 'blocklisted'
      when lm.status = 'confirmed' then 'already confirmed'
      when lm.status = 'unconfirmed' then 'confirmable'
      when c.created_at > coalesce(lm.unsubscribed_at, '-infinity') then 'confirmable'
      else 'unsubscribed' end
    from app_public.confirmations as c
    join app_public.subscribers as s on s.id = c.subscriber_id
    left join app_public.list_memberships as lm on lm.list_id = c.list_id and lm.subscriber_id = c.subscriber_id
    where c.id = confirmation_link_state.confirmation_id), 'not found')
$$;

--
-- Name: FUNCTION confirmation_link_state(confirmation_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.confirmation_link_state(confirmation_id bigint) IS 'What the link of this confirmation would do now: confirmable, already confirmed, unsubscribed (it left after this email: an old link never subscribes again), blocklisted, not a member, not found. GET /confirm/TOKEN shows it; POST acts on it (confirm_subscription).';

--
-- Name: confirmations_next_send_at(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.confirmations_next_send_at(sender_id bigint) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select least(
    (select min(c.lease_expires_at) from app_public.confirmations as c
     where c.sender_id = confirmations_next_send_at.sender_id and c.status = 'sending'),
    (select app_private.sender_available_at(s)
     from app_public.senders as s
     where s.id = confirmations_next_send_at.sender_id
       and exists (select 1 from app_public.confirmations as c
                   where c.sender_id = confirmations_next_send_at.sender_id and c.status = 'queued')))
$$;

--
-- Name: FUNCTION confirmations_next_send_at(sender_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.confirmations_next_send_at(sender_id bigint) IS 'When the sender''s confirmation job has work again: the end of the earliest lease of a confirmation in doubt, or when the sender has room again (quota windows, send window, 429 pause) for its queued ones; NULL when it has none.';

--
-- Name: delivery_report_rank(integer, timestamp with time zone, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text) RETURNS app_private.delivery_report_rank
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select row(coalesce(precedence, 0), occurred_at, coalesce(status, ''), coalesce(status_message, ''))::app_private.delivery_report_rank
$$;

--
-- Name: FUNCTION delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text) IS 'The rank of a delivery report (precedence of its status, 0 when unknown; time; status; status message, compared in the C collation): the message''s delivery status is the report of highest rank. Used by attribution, refresh_messages and campaign_rollup_from_events.';

--
-- Name: engagement_hourly_delta_query(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.engagement_hourly_delta_query(changes text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select format($query$
    select campaign_id, date_bin('1 hour', occurred_at, timestamptz '2000-01-01 00:00+00') as hour,
      coalesce(sum(sign) filter (where engagement_type = 'view'), 0) as opens,
      coalesce(sum(sign) filter (where engagement_type = 'view' and machine_reason is null), 0) as opens_human,
      coalesce(sum(sign) filter (where engagement_type = 'click'), 0) as clicks,
      coalesce(sum(sign) filter (where engagement_type = 'click' and machine_reason is null), 0) as clicks_human
    from (%s) as changed
    where kind = 'engagement' and ignored_reason is null
    group by 1, 2
    having sum(sign) filter (where engagement_type = 'view') <> 0
        or sum(sign) filter (where engagement_type = 'view' and machine_reason is null) <> 0
        or sum(sign) filter (where engagement_type = 'click') <> 0
        or sum(sign) filter (where engagement_type = 'click' and machine_reason is null) <> 0
  $query$, changes)
$_$;

--
-- Name: FUNCTION engagement_hourly_delta_query(changes text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.engagement_hourly_delta_query(changes text) IS 'The query of the campaign_engagement_hourly delta of a set of message_events changes (given as a query of sign, campaign_id, occurred_at, kind, engagement_type, machine_reason, ignored_reason): per campaign and UTC hour, the table''s columns. The one definition of what an event counts for per hour, used by attribute_events, refresh_messages and recompute_campaign_rollup.';

--
-- Name: engagement_ignored_reason(text, text, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select case
    when engagement_type = 'click' and url ~ '/unsubscribe/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{27}([?#]|$)' then 'unsubscribe link'
    when coalesce(engagement_tracking, 'azure') = 'off' then 'the campaign counts no engagement'
    when coalesce(engagement_tracking, 'azure') not in ('both', engagement_source)
      then 'the campaign counts ' || coalesce(engagement_tracking, 'azure') || ' engagement only'
  end
$_$;

--
-- Name: FUNCTION engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text) IS 'Why an engagement event counts nowhere, from the event and its campaign''s engagement_tracking: an unsubscribe link, or a source the campaign does not count. NULL = it counts (unless refresh_messages finds it the duplicate of Mailroom''s own hit).';

--
-- Name: engagement_settings; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.engagement_settings (
    id boolean DEFAULT true NOT NULL,
    minimum_seconds_after_acceptance numeric DEFAULT 2 NOT NULL,
    burst_distinct_links integer DEFAULT 3 NOT NULL,
    burst_seconds numeric DEFAULT 5 NOT NULL,
    source_overlap_seconds numeric DEFAULT 60 NOT NULL,
    CONSTRAINT engagement_settings_burst_distinct_links_check CHECK ((burst_distinct_links >= 2)),
    CONSTRAINT engagement_settings_burst_seconds_check CHECK ((burst_seconds >= (0)::numeric)),
    CONSTRAINT engagement_settings_id_check CHECK (id),
    CONSTRAINT engagement_settings_minimum_seconds_after_acceptance_check CHECK ((minimum_seconds_after_acceptance >= (0)::numeric)),
    CONSTRAINT engagement_settings_source_overlap_seconds_check CHECK ((source_overlap_seconds >= (0)::numeric))
);

--
-- Name: TABLE engagement_settings; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.engagement_settings IS 'One row. Engagement sooner than minimum_seconds_after_acceptance after ACS accepted the message (or after its delivery) is machine; a click with clicks on burst_distinct_links or more distinct links within burst_seconds before or after it, or with a honeypot hit that close, is machine. With both sources, an Azure engagement event within source_overlap_seconds of Mailroom''s own of the same message and type counts once (Mailroom''s).';

--
-- Name: engagement_machine_reason(text, timestamp with time zone, timestamp with time zone, text, timestamp with time zone, bigint, boolean, app_public.engagement_settings); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  select coalesce(
    event_reason,
    case when occurred_at < greatest(accepted_at, case when delivery_status = 'Delivered' then delivery_status_at end)
                            + make_interval(secs => settings.minimum_seconds_after_acceptance)
         then 'less than ' || settings.minimum_seconds_after_acceptance::text || ' s after '
              || case when delivery_status = 'Delivered' and delivery_status_at > coalesce(accepted_at, '-infinity')
                      then 'delivery' else 'acceptance' end end,
    case when burst_distinct_links >= settings.burst_distinct_links
         then 'burst: clicks on ' || burst_distinct_links::text || ' links within ' || settings.burst_seconds::text || ' s' end,
    case when honeypot_near then 'burst: the honeypot link was hit within ' || settings.burst_seconds::text || ' s' end
  )
$$;

--
-- Name: FUNCTION engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings) IS 'Why an engagement event is a machine''s (the request or user agent; less than minimum_seconds_after_acceptance after the later of acceptance and delivery; a burst of clicks on distinct links, or near a honeypot hit), or NULL for a person. Used by attribution, refresh_messages, the rollup trigger and campaign_rollup_from_events.';

--
-- Name: engagement_source(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.engagement_source(event_type text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case lower(event_type)
    when 'microsoft.communication.emailengagementtrackingreportreceived' then 'azure'
    when 'mailroom.emailengagementtracked' then 'mailroom'
  end
$$;

--
-- Name: FUNCTION engagement_source(event_type text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.engagement_source(event_type text) IS 'Who saw an engagement event: azure (Event Grid''s EmailEngagementTrackingReportReceived) or mailroom (Mailroom''s own open pixel and click redirect); NULL for other event types.';

--
-- Name: event_kind(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.event_kind(event_type text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case lower(event_type)
    when 'microsoft.communication.emaildeliveryreportreceived' then 'delivery_report'
    when 'microsoft.communication.emailengagementtrackingreportreceived' then 'engagement'
    when 'mailroom.emailengagementtracked' then 'engagement'
  end
$$;

--
-- Name: FUNCTION event_kind(event_type text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.event_kind(event_type text) IS 'delivery_report, engagement (Azure''s engagement events and Mailroom''s own tracking hits, Mailroom.EmailEngagementTracked), or NULL for an event type Mailroom does not attribute.';

--
-- Name: fail_queued_messages(bigint, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.fail_queued_messages(campaign_id bigint, reason text) RETURNS integer
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with failed as (
    update app_public.messages as m set send_status = 'failed', send_status_reason = 'invalid content', last_error = reason
    where m.campaign_id = fail_queued_messages.campaign_id and m.send_status = 'queued'
    returning 1
  )
  select count(*)::integer from failed
$$;

--
-- Name: FUNCTION fail_queued_messages(campaign_id bigint, reason text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.fail_queued_messages(campaign_id bigint, reason text) IS 'Marks every queued message of a campaign failed with the reason (content that cannot be rendered).';

--
-- Name: finish_campaigns_if_done(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.finish_campaigns_if_done(campaign_ids bigint[]) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  update app_public.campaigns as c
  set status = 'finished', finished_at = now()
  from app_public.campaign_rollups as r
  where c.id = any(campaign_ids) and r.campaign_id = c.id
    and c.status = 'running' and r.queued = 0 and r.sending = 0;
$$;

--
-- Name: FUNCTION finish_campaigns_if_done(campaign_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.finish_campaigns_if_done(campaign_ids bigint[]) IS 'Marks running campaigns finished when none of their messages is queued or sending.';

--
-- Name: hold_worker_lock(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.hold_worker_lock(pool_id text) RETURNS void
    LANGUAGE sql
    AS $$
  -- One lock per graphile-worker pool id, held by the session for as long as the pool lives.
  select pg_advisory_lock(app_hidden.advisory_lock_id('worker liveness')::integer, hashtext(pool_id))
$$;

--
-- Name: FUNCTION hold_worker_lock(pool_id text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.hold_worker_lock(pool_id text) IS 'Taken by each worker process, on a connection of its own, for each of its graphile-worker pools (session advisory lock ''worker liveness'', hashtext(pool id)). PostgreSQL releases it the moment that connection ends: a pool whose lock nobody holds is dead.';

--
-- Name: ingest_events(jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.ingest_events(batch jsonb) RETURNS TABLE(received integer, inserted integer, duplicates integer)
    LANGUAGE sql
    SET search_path TO 'app_public', 'app_private', 'app_hidden', 'public'
    AS $_$
  with delivery as materialized (
    -- One delivery (an object) or several (an array of them, as an ingest_events job holds).
    select
      d.delivery,
      d.position as delivery_position,
      coalesce(app_private.to_timestamptz(d.delivery->>'receivedAt'), now()) as received_at,
      nullif(d.delivery->>'subscriptionName', '') as subscription_name,
      case when d.delivery->>'deliveryCount' ~ '^[0-9]{1,9}$' then (d.delivery->>'deliveryCount')::integer end as delivery_count
    from jsonb_array_elements(case jsonb_typeof(batch) when 'array' then batch else jsonb_build_array(batch) end)
         with ordinality as d(delivery, position)
    where jsonb_typeof(d.delivery) = 'object'
  ),
  batch_event as (
    select
      e.event,
      d.delivery_position,
      e.position,
      d.received_at,
      d.subscription_name,
      d.delivery_count,
      case
        when d.delivery->>'schema' in ('eventgrid', 'cloudevents') then d.delivery->>'schema'
        when jsonb_typeof(e.event) = 'object' and e.event ? 'specversion' then 'cloudevents'
        else 'eventgrid'
      end as event_schema
    from delivery as d,
      jsonb_array_elements(
        case jsonb_typeof(d.delivery->'events')
          when 'array' then d.delivery->'events'
          when 'object' then jsonb_build_array(d.delivery->'events')
          else '[]'::jsonb
        end
      ) with ordinality as e(event, position)
  ),
  envelope as (
    select
      event,
      delivery_position,
      position,
      event_schema,
      received_at,
      subscription_name,
      delivery_count,
      jsonb_typeof(event) = 'object' as is_object,
      coalesce(case when event_schema = 'cloudevents' then coalesce(event->>'source', event->>'topic')
                    else coalesce(event->>'topic', event->>'source') end, '') as source,
      nullif(event->>'id', '') as event_id,
      nullif(case when event_schema = 'cloudevents' then coalesce(event->>'type', event->>'eventType')
                  else coalesce(event->>'eventType', event->>'type') end, '') as event_type,
      case when event_schema = 'cloudevents' then coalesce(event->>'time', event->>'eventTime')
           else coalesce(event->>'eventTime', event->>'time') end as event_time_text,
      event->>'subject' as subject,
      case when jsonb_typeof(event->'data') = 'object' then event->'data' end as data
    from batch_event
  ),
  interpreted as (
    select
      envelope.*,
      coalesce(data->>'deliveryAttemptTimestamp', data->>'deliveryAttemptTimeStamp',
               data->>'userActionTimestamp', data->>'userActionTimeStamp') as occurred_text
    from envelope
  ),
  timed as materialized (
    -- Materialised so that each time is parsed once per event, however often it is referred to below.
    select interpreted.*, app_private.to_timestamptz(event_time_text) as event_time,
      app_private.to_timestamptz(occurred_text) as occurred_time
    from interpreted
  ),
  checked as (
    select
      timed.*,
      case
        when not is_object then 'not a JSON object'
        when event_id is null then 'missing id'
        when event_type is null then 'missing event type'
        when event_time_text is not null and event_time is null then 'unparseable event time'
        when occurred_text is not null and occurred_time is null
          then 'unparseable delivery attempt or user action time'
        when lower(event_type) in ('microsoft.communication.emaildeliveryreportreceived',
                                   'microsoft.communication.emailengagementtrackingreportreceived')
             and data is null then 'missing data'
      end as problem,
      -- Copies of one event in one job (deliveries queued together) make one row.
      case when event_id is null then 1 else count(*) over same_event end as copies,
      case when event_id is null then 1 else row_number() over (same_event order by delivery_position, position) end as copy,
      case when event_id is null then received_at else min(received_at) over same_event end as first_received_at,
      case when event_id is null then received_at else max(received_at) over same_event end as latest_received_at,
      case when event_id is null then delivery_count else max(delivery_count) over same_event end as most_deliveries
    from timed
    window same_event as (partition by lower(source), event_id)
  ),
  stored as (
    insert into app_public.raw_events (
      source, event_id, event_schema, event_type, subject, event_time, event,
      internet_message_id, operation_id, recipient, sender, status, status_message,
      engagement_type, engagement_context, user_agent, occurred_at, problem,
      subscription_name, delivery_count, times_received, received_at, last_received_at,
      ip_address, http_method, honeypot
    )
    select
      source, event_id, event_schema, event_type, subject, event_time, event,
      app_private.normalize_internet_message_id(data->>'internetMessageId'),
      app_private.to_uuid(btrim(data->>'messageId')),
      nullif(lower(btrim(data->>'recipient')), ''),
      nullif(lower(btrim(data->>'sender')), ''),
      app_private.normalize_delivery_status(data->>'status'),
      case when jsonb_typeof(data->'deliveryStatusDetails') = 'object'
           then data->'deliveryStatusDetails'->>'statusMessage' end,
      nullif(lower(btrim(coalesce(data->>'engagementType', data->>'engagement'))), ''),
      nullif(data->>'engagementContext', ''),
      nullif(data->>'userAgent', ''),
      coalesce(occurred_time, event_time),
      problem,
      subscription_name,
      most_deliveries,
      copies,
      first_received_at,
      latest_received_at,
      -- What only Mailroom's own tracking endpoint sees (Mailroom.EmailEngagementTracked).
      case when data ? 'ipAddress' then app_private.to_inet(data->>'ipAddress') end,
      case when data->>'httpMethod' in ('GET', 'HEAD') then data->>'httpMethod' end,
      case when jsonb_typeof(data->'honeypot') = 'boolean' then (data->>'honeypot')::boolean end
    from checked
    where copy = 1
    order by lower(source), event_id
    on conflict (lower(source), event_id) do update set
      delivery_count = greatest(raw_events.delivery_count, excluded.delivery_count),
      times_received = raw_events.times_received + excluded.times_received,
      last_received_at = greatest(raw_events.last_received_at, excluded.last_received_at)
    returning (xmax = 0) as is_new
  )
  select
    (select count(*) from batch_event)::integer,
    (select count(*) filter (where is_new) from stored)::integer,
    ((select count(*) from batch_event) - (select count(*) filter (where is_new) from stored))::integer
$_$;

--
-- Name: FUNCTION ingest_events(batch jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.ingest_events(batch jsonb) IS 'Stores Event Grid deliveries in one INSERT. Batch: one delivery or an array of them (an ingest_events job), each {"schema": "eventgrid"|"cloudevents", "receivedAt": ISO time, "deliveryCount": int|null, "subscriptionName": text|null, "events": [...]}. Idempotent on (source compared case-insensitively, event id): a redelivery raises times_received and delivery_count instead of adding a row. An event that cannot be interpreted is kept with its problem. Raises only for content the table cannot hold (an id longer than its index allows, say): app_private.ingest_job isolates such an event. Returns how many events the batch held, how many were new, and how many were duplicates.';

--
-- Name: ingest_job(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.ingest_job(job_id bigint) RETURNS TABLE(received integer, inserted integer, duplicates integer)
    LANGUAGE plpgsql
    SET search_path TO 'app_public', 'app_private', 'app_hidden', 'public'
    AS $$
declare
  payload json;
  deliveries jsonb;
  delivery json;
  header jsonb;
  event jsonb;
  result record;
  stored boolean;
begin
  -- The job's payload as the receiver wrote it, read here: it is not parsed and written again on the way.
  select case json_typeof(j.payload) when 'array' then j.payload else json_build_array(j.payload) end
    into payload
  from graphile_worker._private_jobs as j where j.id = job_id;
  if payload is null then
    raise exception 'job % does not exist', job_id using errcode = 'P0002';
  end if;
  received := 0; inserted := 0; duplicates := 0;

  -- 1. Parse. The receiver sets aside every event PostgreSQL cannot hold as jsonb (see "unstorable" below), so
  --    this fails only for a job written some other way; then each delivery that cannot be parsed is kept as text.
  begin
    deliveries := payload::jsonb;
  exception when data_exception or program_limit_exceeded then
    deliveries := '[]';
    for delivery in select d.value from json_array_elements(payload) as d loop
      begin
        deliveries := deliveries || jsonb_build_array(delivery::jsonb);
      exception when data_exception or program_limit_exceeded then
        select * into result from app_private.store_unreadable_event(delivery::text, null, null, null,
          'delivery cannot be stored as JSON: ' || sqlerrm);
        received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
      end;
    end loop;
  end;

  -- 2. Store every event in one statement; the triggers on raw_events attribute them.
  begin
    select * into result from app_private.ingest_events(deliveries);
    stored := true;
  exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
    stored := false;
  end;
  if stored then
    received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
  else
    -- Some content cannot be stored: isolate it, event by event. A content error never fails the job, so
    -- the job is never retried for it and no other event waits for it.
    for header, event in
      select d.value - 'events' - 'unstorable', e.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'events') when 'array' then d.value->'events' else '[]' end) as e
    loop
      begin
        select * into result from app_private.ingest_events(header || jsonb_build_object('events', jsonb_build_array(event)));
      exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
        select * into result from app_private.store_unreadable_event(event::text, event->>'id',
          case when header->>'schema' = 'cloudevents' then coalesce(event->>'source', event->>'topic')
               else coalesce(event->>'topic', event->>'source') end,
          header, 'cannot be stored: ' || sqlerrm);
      end;
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;

  -- 3. The events the receiver set aside, kept as text with the receiver's reason.
  if strpos(payload::text, '"unstorable"') > 0 then
    for header, event in
      select d.value - 'events' - 'unstorable', u.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'unstorable') when 'array' then d.value->'unstorable' else '[]' end) as u
    loop
      select * into result from app_private.store_unreadable_event(event->>'text', event->>'id', event->>'source',
        header, coalesce(event->>'problem', 'cannot be stored as JSON'));
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;
  return next;
end;
$$;

--
-- Name: FUNCTION ingest_job(job_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.ingest_job(job_id bigint) IS 'Stores the deliveries of one ingest_events job (its payload in graphile_worker._private_jobs, read as written; the public jobs view leaves the payload out). One statement for the whole job. When some content cannot be stored, the job is split event by event and each event that still cannot be stored is kept as text with its problem (store_unreadable_event); the events the receiver set aside as "unstorable" (nested too deep, a NUL character, a lone surrogate, an id or source too long) are kept the same way. Content never fails the job; only a transient error does, and graphile-worker retries it.';

--
-- Name: is_internet_message_id(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.is_internet_message_id(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select value ~ '^<[-0-9a-f]+@[-.0-9a-z]+>$' and strpos(value, '@') = 38
$_$;

--
-- Name: FUNCTION is_internet_message_id(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.is_internet_message_id(value text) IS 'Whether the text is a Message-ID as Mailroom generates them: <uuid@sending-domain>, in lower case.';

--
-- Name: lock_campaign(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.lock_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns;
begin
  select * into campaign from app_public.campaigns where id = lock_campaign.campaign_id for update;
  if not found then
    raise exception 'campaign % does not exist', lock_campaign.campaign_id using errcode = 'P0002';
  end if;
  return campaign;
end;
$$;

--
-- Name: FUNCTION lock_campaign(campaign_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.lock_campaign(campaign_id bigint) IS 'The campaign, locked for the rest of the transaction; raises when it does not exist.';

--
-- Name: new_internet_message_id(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.new_internet_message_id(sending_domain text) RETURNS text
    LANGUAGE sql PARALLEL SAFE
    AS $$
  select '<' || app_private.uuid_v7() || '@' || sending_domain || '>'
$$;

--
-- Name: FUNCTION new_internet_message_id(sending_domain text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.new_internet_message_id(sending_domain text) IS 'A new RFC 5322 Message-ID for the sending domain: <uuid@domain>, the UUID a version 7 one (time-ordered).';

--
-- Name: next_send_at(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.next_send_at(campaign_id bigint) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION next_send_at(campaign_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.next_send_at(campaign_id bigint) IS 'When the campaign''s send job has something to do next: a lease of a message in doubt ends, or a sender has capacity for its queued messages (running campaigns only). NULL when there is nothing left to do.';

--
-- Name: normalize_delivery_status(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.normalize_delivery_status(value text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  trimmed text := btrim(value);
begin
  return case lower(trimmed)
    when 'delivered' then 'Delivered'
    when 'expanded' then 'Expanded'
    when 'bounced' then 'Bounced'
    when 'suppressed' then 'Suppressed'
    when 'filteredspam' then 'FilteredSpam'
    when 'quarantined' then 'Quarantined'
    when 'failed' then 'Failed'
    else nullif(trimmed, '')
  end;
end;
$$;

--
-- Name: FUNCTION normalize_delivery_status(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.normalize_delivery_status(value text) IS 'A delivery report status in ACS''s documented spelling whatever its case (delivered -> Delivered); an unknown status is returned as received, trimmed.';

--
-- Name: normalize_internet_message_id(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.normalize_internet_message_id(value text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
declare
  trimmed text := lower(btrim(value));
begin
  if trimmed is null or trimmed = '' then
    return null;
  elsif trimmed like '<%>' then
    return trimmed;
  end if;
  return '<' || trimmed || '>';
end;
$$;

--
-- Name: FUNCTION normalize_internet_message_id(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.normalize_internet_message_id(value text) IS 'The key an RFC Message-ID is matched by: trimmed, lower case, in angle brackets. Mailroom generates its Message-IDs in lower case, so this is exactly the value stored on the message.';

--
-- Name: pause_sender(bigint, bigint, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) RETURNS timestamp with time zone
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  insert into app_private.sender_throttles as t (sender_id, paused_until, reason)
  values (pause_sender.sender_id, now() + interval '1 millisecond' * greatest(pause_ms, 0), pause_sender.reason)
  on conflict (sender_id) do update
    set paused_until = greatest(t.paused_until, excluded.paused_until), reason = excluded.reason
  returning paused_until
$$;

--
-- Name: FUNCTION pause_sender(sender_id bigint, pause_ms bigint, reason text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) IS 'Pauses a sender for pause_ms (ACS''s Retry-After after a 429) unless it is paused longer already; claims give it no messages until then. Run in its own transaction, before the outcomes are recorded.';

--
-- Name: queue_confirmation_job(bigint, timestamp with time zone); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.queue_confirmation_job(sender_id bigint, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  delete from graphile_worker._private_jobs as j
  where j.key = 'send_confirmations:' || queue_confirmation_job.sender_id and j.locked_at is not null;
  perform app_private.add_job('send_confirmations', json_build_object('senderId', queue_confirmation_job.sender_id),
                              run_at => queue_confirmation_job.run_at, job_key => 'send_confirmations:' || queue_confirmation_job.sender_id);
end;
$$;

--
-- Name: FUNCTION queue_confirmation_job(sender_id bigint, run_at timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.queue_confirmation_job(sender_id bigint, run_at timestamp with time zone) IS 'Queues the job that sends the sender''s confirmation emails (key send_confirmations:ID) for run_at (NULL: now), replacing a waiting one; a locked one is removed rather than left to graphile-worker (as app_private.queue_send_job does for campaigns).';

--
-- Name: queue_confirmations(bigint, bigint[], text, boolean); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean DEFAULT false) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  list app_public.lists;
  sender app_public.senders;
  queued integer;
begin
  select * into list from app_public.lists as l where l.id = queue_confirmations.list_id;
  if not found then
    raise exception 'list % does not exist', queue_confirmations.list_id using errcode = 'P0002';
  end if;
  if list.confirmation_sender_id is null then
    raise exception 'list "%" (%) has no confirmation sender: set one first (mailroom lists set-opt-in % --confirmation-sender ID)',
      list.name, list.id, list.id using errcode = '55000';
  end if;
  select * into strict sender from app_public.senders as s where s.id = list.confirmation_sender_id;

  -- ON CONFLICT: a confirmation queued by a concurrent transaction for the same member (confirmations_pending_key).
  insert into app_public.confirmations (list_id, subscriber_id, sender_id, recipient, internet_message_id, requested_by)
  select list.id, s.id, sender.id, s.email, app_private.new_internet_message_id(sender.sending_domain), queue_confirmations.requested_by
  from app_public.list_memberships as lm
  join app_public.subscribers as s on s.id = lm.subscriber_id
  where lm.list_id = list.id
    and lm.subscriber_id = any(queue_confirmations.subscriber_ids)
    and (lm.status = 'unconfirmed' or (queue_confirmations.include_unsubscribed and lm.status = 'unsubscribed'))
    and s.status = 'enabled'
    and not exists (
      select 1 from app_public.confirmations as c
      where c.list_id = list.id and c.subscriber_id = s.id
        and (c.status in ('queued', 'sending') or c.created_at > now() - list.confirmation_resend_interval))
  order by s.id
  on conflict do nothing;
  get diagnostics queued = row_count;
  if queued > 0 then
    perform app_private.queue_confirmation_job(sender.id);
  end if;
  return queued;
end;
$$;

--
-- Name: FUNCTION queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean) IS 'Queues a confirmation email (app_public.confirmations) for each given member of the list who may get one now: unconfirmed (or unsubscribed, with include_unsubscribed), enabled, none waiting or in flight, none requested within the list''s confirmation_resend_interval; then the send job of the list''s confirmation sender. Returns how many were queued. Refuses a list without a confirmation sender (55000).';

--
-- Name: queue_send_job(bigint, timestamp with time zone); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.queue_send_job(campaign_id bigint, run_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  delete from graphile_worker._private_jobs as j
  where j.key = 'send_campaign:' || queue_send_job.campaign_id and j.locked_at is not null;
  perform app_private.add_job('send_campaign', json_build_object('campaignId', queue_send_job.campaign_id),
                              run_at => queue_send_job.run_at, job_key => 'send_campaign:' || queue_send_job.campaign_id);
end;
$$;

--
-- Name: FUNCTION queue_send_job(campaign_id bigint, run_at timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.queue_send_job(campaign_id bigint, run_at timestamp with time zone) IS 'Queues the campaign''s send job (key send_campaign:ID) for run_at (NULL: now), replacing a waiting one. A locked one (running, or held by a worker that died) is removed rather than left to graphile-worker, which would keep it with its attempts exhausted as if it had failed.';

--
-- Name: queue_sending_jobs(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.queue_sending_jobs() RETURNS integer
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select count(app_private.schedule_sending(r.campaign_id))::integer
  from app_public.campaign_rollups as r
  join app_public.campaigns as c on c.id = r.campaign_id
  where r.sending > 0 or (r.queued > 0 and c.status = 'running')
$$;

--
-- Name: FUNCTION queue_sending_jobs(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.queue_sending_jobs() IS 'Queues the send job of every campaign with messages to send or in doubt; run when a worker starts, so that campaigns whose job was held by a worker that died carry on at once.';

--
-- Name: queued_test_send(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.queued_test_send(test_send_id bigint) RETURNS TABLE(test_send_id bigint, campaign_id bigint, sender_id bigint, operation_id uuid, internet_message_id text, recipient text, subscriber_id bigint, subscriber_name text, subscriber_attributes jsonb, list_id bigint, list_name text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION queued_test_send(test_send_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.queued_test_send(test_send_id bigint) IS 'A queued test send with what rendering it needs: the subscriber''s fields when the address is a subscriber''s, and the list (the first of the campaign''s lists the subscriber is on, else its first list). No row once sent.';

--
-- Name: quota_time_scale(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.quota_time_scale() RETURNS double precision
    LANGUAGE sql STABLE
    AS $$
  select coalesce(nullif(current_setting('mailroom.quota_time_scale', true), '')::double precision, 1)
$$;

--
-- Name: FUNCTION quota_time_scale(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.quota_time_scale() IS 'Length of the quota windows relative to real time (setting mailroom.quota_time_scale, default 1); tests and the sandbox shorten the windows with it, as the sandbox''s timeScale shortens its own.';

--
-- Name: record_confirmation_outcomes(jsonb, integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer DEFAULT 5000, max_attempts integer DEFAULT 10) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  changed bigint[];
  looked_up bigint[];
begin
  with o as (
    select (x ->> 'id')::bigint as id, x ->> 'outcome' as outcome, x ->> 'code' as code, x ->> 'error' as error,
           (x ->> 'retryAfterMs')::bigint as retry_after_ms
    from jsonb_array_elements(outcomes) as x
  ),
  updated as (
    update app_public.confirmations as c set
      status = case
        when o.outcome = 'accepted' then 'accepted'
        when o.outcome = 'failed' then 'failed'
        when o.outcome in ('unknown', 'not_looked_up') then 'sending'
        when o.outcome = 'not_found' and c.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_found' and c.send_attempts >= max_attempts then 'still unknown to ACS after ' || c.send_attempts || ' attempts'
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        when o.outcome = 'accepted' then null
        else c.error end,
      lease_expires_at = case
        when o.outcome = 'unknown'
          then now() + least(interval '10 minutes', interval '1 millisecond' * retry_base_ms * power(2, greatest(c.send_attempts - 1, 0)))
        when o.outcome = 'not_looked_up' then now() + interval '1 millisecond' * coalesce(o.retry_after_ms, 0)
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(c.send_attempts - 1, 0) else c.send_attempts end,
      sent_at = case
        when o.outcome in ('accepted', 'failed') or (o.outcome = 'not_found' and c.send_attempts >= max_attempts) then now()
        else c.sent_at end
    from o
    where c.id = o.id and c.status = 'sending'
    returning c.id
  )
  select array_agg(u.id) into changed from updated as u;

  -- The batch sent now: its reservation ends now and counts what may have counted at ACS.
  with sent as (
    select (x ->> 'senderSendId')::bigint as id,
           count(*) filter (where x ->> 'outcome' not in ('throttled', 'not_sent')) as sends
    from jsonb_array_elements(outcomes) as x
    where x ->> 'senderSendId' is not null
    group by 1
  ),
  kept as (
    update app_private.sender_sends as s set sends = sent.sends, ends_at = now(), settled = true
    from sent where s.id = sent.id and not s.settled and sent.sends > 0
  )
  delete from app_private.sender_sends as s using sent where s.id = sent.id and not s.settled and sent.sends = 0;

  -- Look-ups of a claim whose worker died before recording it: what ACS does not know was never sent and gives
  -- its slot back; the reservation is settled once none of its confirmations is in doubt.
  with looked as (
    select c.sender_send_id as id, count(*) filter (where x ->> 'outcome' = 'not_found') as not_found
    from jsonb_array_elements(outcomes) as x
    join app_public.confirmations as c on c.id = (x ->> 'id')::bigint
    where x ->> 'senderSendId' is null and c.id = any(changed) and c.sender_send_id is not null
    group by 1
  ),
  given_back as (
    update app_private.sender_sends as s set sends = s.sends - l.not_found
    from looked as l where s.id = l.id and not s.settled and l.not_found > 0
  )
  select array_agg(l.id) into looked_up from looked as l;
  delete from app_private.sender_sends as s where s.id = any(looked_up) and not s.settled and s.sends <= 0;
  update app_private.sender_sends as s set settled = true
  where s.id = any(looked_up) and not s.settled
    and not exists (select 1 from app_public.confirmations as c where c.sender_send_id = s.id and c.status = 'sending');
end;
$$;

--
-- Name: FUNCTION record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) IS 'Records what happened to claimed confirmation emails (accepted, failed, unknown, not_found, throttled, not_sent, not_looked_up; see the file) and settles their quota reservations in app_private.sender_sends as record_send_outcomes does for messages. Only confirmations still ''sending'' are changed.';

--
-- Name: record_other_email_reports(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_other_email_reports(raw_event_ids bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  matched_ids bigint[];
begin
  with email as (
    select 'test send' as kind, t.id, t.internet_message_id, t.operation_id, t.delivery_status, t.delivery_status_message, t.delivery_status_at
    from app_public.test_sends as t
    union all
    select 'confirmation', c.id, c.internet_message_id, c.operation_id, c.delivery_status, c.delivery_status_message, c.delivery_status_at
    from app_public.confirmations as c
  ),
  event as (
    select e.id, m.kind as email_kind, m.id as email_id, app_private.event_kind(e.event_type) as kind, e.status, e.status_message,
      coalesce(e.occurred_at, e.event_time, e.received_at) as occurred_at
    from app_public.raw_events as e
    join email as m on m.internet_message_id = e.internet_message_id or m.operation_id = e.operation_id
    where e.id = any(raw_event_ids)
  ),
  -- Each email's best new report, kept only when it ranks above the status the email has.
  report as (
    select r.* from (
      select distinct on (r.email_kind, r.email_id) r.email_kind, r.email_id, r.status, r.status_message, r.occurred_at,
        app_private.delivery_report_rank(ds.precedence, r.occurred_at, r.status, r.status_message) as rank
      from event as r left join app_public.delivery_statuses as ds on ds.status = r.status
      where r.kind = 'delivery_report' and r.status is not null
      order by r.email_kind, r.email_id, rank desc
    ) as r
    join email as m on m.kind = r.email_kind and m.id = r.email_id
    where m.delivery_status_at is null
       or r.rank > app_private.delivery_report_rank(
            (select ds.precedence from app_public.delivery_statuses as ds where ds.status = m.delivery_status),
            m.delivery_status_at, m.delivery_status, m.delivery_status_message)
  ),
  test_send as (
    update app_public.test_sends as t
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where r.email_kind = 'test send' and t.id = r.email_id
  ),
  confirmation as (
    update app_public.confirmations as c
    set delivery_status = r.status, delivery_status_message = r.status_message, delivery_status_at = r.occurred_at
    from report as r
    where r.email_kind = 'confirmation' and c.id = r.email_id
  )
  select array_agg(distinct e.id) into matched_ids from event as e;
  return array(select unnest(raw_event_ids) except select unnest(matched_ids));
end;
$$;

--
-- Name: FUNCTION record_other_email_reports(raw_event_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_other_email_reports(raw_event_ids bigint[]) IS 'Step 5 of ingestion: delivery reports of test emails and of confirmation emails set the delivery status of their test send or confirmation (the report of highest delivery_report_rank). Returns the ids, among those given, of events that match neither.';

--
-- Name: record_send_outcomes(jsonb, integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer DEFAULT 5000, max_attempts integer DEFAULT 10) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  -- outcomes: [{"id": message id, "outcome": ..., "code"?, "error"?, "retryAfterMs"?, "senderSendId"?}, ...] where outcome is
  --   accepted   ACS answered 202, or a look-up found the operation
  --   failed     ACS refused the message for good (4xx other than 429): code and error are ACS's
  --   unknown    5xx, timeout or network error: stays 'sending' until its lease ends after a backoff, then is looked up
  --   not_found  a look-up found no such operation: nothing was sent; queued again
  --   throttled  429: queued again (the caller pauses the sender first: app_private.pause_sender)
  --   not_sent   claimed but never handed to ACS (the worker stopped): queued again
  --   not_looked_up  a message in doubt whose look-up was never made (the worker stopped, or the sender has no
  --              connection string): stays 'sending', in doubt, its lease ending after retryAfterMs (at once
  --              without); only a look-up ever queues a message in doubt again
  -- and senderSendId is the claim's reservation for a message sent under it (a look-up has none).
  -- Reservations (app_private.sender_sends) settled:
  --   a batch sent under its reservation: the reservation ends now, counting what may have counted at ACS (all
  --     but 429s and messages never sent);
  --   look-ups of messages whose claim was never recorded (its worker died): that claim's reservation, found by
  --     its list of open messages, gives back each message ACS did not know (it was never sent), keeps each one
  --     found, and is settled (its end unchanged: the end of the lease) once none of its messages is in doubt.
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
        when o.outcome in ('unknown', 'not_looked_up') then 'sending'
        when c.status = 'cancelled' then 'cancelled'
        when o.outcome = 'not_found' and m.send_attempts >= max_attempts then 'failed'
        else 'queued' end,
      send_status_reason = case
        when o.outcome = 'failed' then o.code
        when o.outcome in ('unknown', 'not_looked_up') then null
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
        when o.outcome = 'not_looked_up' then now() + interval '1 millisecond' * coalesce(o.retry_after_ms, 0)
        end,
      send_attempts = case when o.outcome in ('throttled', 'not_sent') then greatest(m.send_attempts - 1, 0) else m.send_attempts end,
      last_error = case
        when o.outcome in ('failed', 'unknown', 'throttled') then left(coalesce(o.code || ': ', '') || coalesce(o.error, ''), 2000)
        when o.outcome = 'not_looked_up' and o.error is not null
          then left(coalesce(o.code || ': ', '') || o.error || '; not looked up yet', 2000)
        when o.outcome = 'not_found' then 'the operation was unknown to ACS when looked up; queued again'
        else m.last_error end
    from o, app_public.campaigns as c
    where m.id = o.id and c.id = m.campaign_id and m.send_status = 'sending'
    returning m.id, m.sender_id
  ),
  concerned as (
    select o.id as message_id, o.outcome, o.sender_send_id as reservation, true as sent
    from o
    where o.sender_send_id is not null
    union all
    select u.id, o.outcome, s.id, false
    from o
    join updated as u on u.id = o.id
    join app_private.sender_sends as s on s.sender_id = u.sender_id and not s.settled and u.id = any(s.message_ids)
    where o.sender_send_id is null
  ),
  locked as (
    -- As they are now, in id order (two callers never deadlock); one settled meanwhile is left alone.
    select s.id, s.sends, s.message_ids
    from app_private.sender_sends as s
    where s.id in (select c.reservation from concerned as c) and not s.settled
    order by s.id
    for update
  ),
  counted as (
    select l.id,
           l.sends - count(*) filter (
             where (case when c.sent then c.outcome in ('throttled', 'not_sent') else c.outcome = 'not_found' end)
               and (l.message_ids is null or c.message_id = any(l.message_ids))) as sends,
           bool_or(c.sent) as closes,
           l.message_ids,
           array_agg(c.message_id) filter (where c.outcome not in ('unknown', 'not_looked_up')) as resolved
    from locked as l
    join concerned as c on c.reservation = l.id
    group by l.id, l.sends, l.message_ids
  ),
  change as (
    select x.id, x.sends, x.closes,
           case when x.closes then null
                else array(select m from unnest(x.message_ids) as m
                           where m <> all(coalesce(x.resolved, '{}'::bigint[])) order by m) end as still_open
    from counted as x
  ),
  kept as (
    update app_private.sender_sends as s set
      sends = ch.sends,
      ends_at = case when ch.closes then now() else s.ends_at end,
      settled = ch.closes or cardinality(ch.still_open) = 0,
      message_ids = case when ch.closes or cardinality(ch.still_open) = 0 then null else ch.still_open end
    from change as ch
    where s.id = ch.id and ch.sends > 0
  )
  delete from app_private.sender_sends as s
  using change as ch
  where s.id = ch.id and ch.sends <= 0;
$$;

--
-- Name: FUNCTION record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) IS 'Records what happened to claimed messages, in one statement (see the outcomes in the body), and settles the quota reservations: a batch''s own when it was sent, and for look-ups the reservation of a claim whose worker died before recording it, which gives back the messages ACS does not know. Only messages still ''sending'' are changed. Takes no sender lock (claims take those before message and rollup locks; this takes message, rollup and reservation locks, the reservations in id order), so the two never deadlock.';

--
-- Name: refresh_messages(bigint[]); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.refresh_messages(message_ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    SET enable_seqscan TO 'off'
    AS $_$
declare
  hourly_delta app_public.campaign_engagement_hourly[];
begin
  -- A consistent lock order keeps concurrent batches from deadlocking on shared messages.
  perform 1 from app_public.messages where id = any(message_ids) order by id for update;

  -- One pass over the events of the touched messages: engagement is classified (counted or not, with the reason;
  -- machine or human, with the reason: the request, the user agent, too soon after acceptance, a burst of clicks or
  -- a honeypot hit near it), changed reasons are written back, and the message's derived columns are computed from
  -- the classified events and the delivery reports. What the changed classifications change per hour is returned
  -- (engagement_hourly_delta_query: the one rule) and added to campaign_engagement_hourly after the statement.
  execute format($statement$
  with settings as materialized (select * from app_public.engagement_settings),
  engagement as materialized (
    select me.raw_event_id, me.message_id, me.campaign_id, me.engagement_type, me.url, me.occurred_at, me.user_agent_reason,
           me.request_reason, me.honeypot, me.engagement_source, me.machine_reason, me.ignored_reason, m.accepted_at,
           c.engagement_tracking,
           app_private.engagement_ignored_reason(c.engagement_tracking, me.engagement_source, me.engagement_type, me.url)
             as own_ignored_reason
    from app_public.message_events as me
    join app_public.messages as m on m.id = me.message_id
    join app_public.campaigns as c on c.id = m.campaign_id
    where me.message_id = any($1) and me.kind = 'engagement'
  ),
  duplicate as materialized (
    -- Campaigns tracking both: an Azure open, or click on a link, within source_overlap_seconds of Mailroom's own of
    -- the same message (and link) is the same open or click, counted once (Mailroom's, which sees more of the request).
    select e.raw_event_id,
      'the same ' || e.engagement_type || ' as Mailroom''s own hit within ' || s.source_overlap_seconds::text || ' s' as reason
    from engagement as e cross join settings as s
    where e.engagement_tracking = 'both' and e.engagement_source = 'azure' and e.own_ignored_reason is null
      and exists (
        select 1 from engagement as own
        where own.message_id = e.message_id and own.engagement_source = 'mailroom' and own.own_ignored_reason is null
          and own.engagement_type = e.engagement_type and not own.honeypot
          and (e.engagement_type = 'view' or own.url = e.url)
          and own.occurred_at between e.occurred_at - make_interval(secs => s.source_overlap_seconds)
                                  and e.occurred_at + make_interval(secs => s.source_overlap_seconds))
  ),
  clicks as (
    select message_id, array_agg(url) as urls, array_agg(occurred_at) as times
    from engagement
    where engagement_type = 'click' and url is not null and own_ignored_reason is null
    group by message_id
  ),
  honeypot_hits as (
    select message_id, array_agg(occurred_at) as times from engagement where honeypot and own_ignored_reason is null group by message_id
  ),
  burst as materialized (
    -- For each click, the distinct links clicked in the same message within burst_seconds of it, and whether the
    -- message's honeypot link was hit that close.
    select e.raw_event_id,
      (select count(distinct other.url)
       from unnest(c.urls, c.times) as other(url, occurred_at)
       where other.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                   and e.occurred_at + make_interval(secs => s.burst_seconds)) as distinct_links,
      not e.honeypot and exists (
        select 1 from unnest(h.times) as hit(occurred_at)
        where hit.occurred_at between e.occurred_at - make_interval(secs => s.burst_seconds)
                                  and e.occurred_at + make_interval(secs => s.burst_seconds)) as honeypot_near
    from engagement as e
    left join clicks as c on c.message_id = e.message_id
    left join honeypot_hits as h on h.message_id = e.message_id
    cross join settings as s
    where e.engagement_type = 'click'
  ),
  report as materialized (
    -- The delivery report of highest rank (delivery_report_rank).
    select distinct on (me.message_id) me.message_id, me.status, me.status_message, me.occurred_at, me.bounce_type
    from app_public.message_events as me
    left join app_public.delivery_statuses as ds on ds.status = me.status
    where me.message_id = any($1) and me.kind = 'delivery_report'
    order by me.message_id, app_private.delivery_report_rank(ds.precedence, me.occurred_at, me.status, me.status_message) desc
  ),
  classified as materialized (
    select e.raw_event_id, e.message_id, e.campaign_id, e.engagement_type, e.engagement_source, e.occurred_at,
      e.machine_reason as old_reason, e.ignored_reason as old_ignored_reason,
      coalesce(e.own_ignored_reason, d.reason) as ignored_reason,
      -- Engagement that counts nowhere has no machine reason either.
      case when e.own_ignored_reason is null and d.reason is null
           then app_private.engagement_machine_reason(coalesce(e.request_reason, e.user_agent_reason), e.occurred_at,
                                                      e.accepted_at, r.status, r.occurred_at, b.distinct_links,
                                                      b.honeypot_near, s) end as machine_reason
    from engagement as e cross join app_public.engagement_settings as s
    left join burst as b on b.raw_event_id = e.raw_event_id
    left join duplicate as d on d.raw_event_id = e.raw_event_id
    left join report as r on r.message_id = e.message_id
  ),
  changed as materialized (
    select c.* from classified as c
    where (c.machine_reason, c.ignored_reason) is distinct from (c.old_reason, c.old_ignored_reason)
  ),
  reclassified as (
    update app_public.message_events as me set machine_reason = c.machine_reason, ignored_reason = c.ignored_reason
    from changed as c
    where me.raw_event_id = c.raw_event_id
  ),
  engagement_counts as (
    select c.message_id,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null) as opens_human,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is not null) as opens_machine,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null) as clicks_human,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is not null) as clicks_machine,
      count(*) filter (where c.engagement_type = 'view' and c.machine_reason is null and c.engagement_source = 'mailroom')
        as opens_human_mailroom,
      count(*) filter (where c.engagement_type = 'click' and c.machine_reason is null and c.engagement_source = 'mailroom')
        as clicks_human_mailroom,
      min(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as first_opened_at,
      max(c.occurred_at) filter (where c.engagement_type = 'view' and c.machine_reason is null) as last_opened_at,
      min(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as first_clicked_at,
      max(c.occurred_at) filter (where c.engagement_type = 'click' and c.machine_reason is null) as last_clicked_at
    from classified as c
    where c.ignored_reason is null
    group by c.message_id
  ),
  derived as (
    select m.id, r.status, r.status_message, r.occurred_at, r.bounce_type,
      coalesce(e.opens_human, 0) as opens_human, coalesce(e.opens_machine, 0) as opens_machine,
      coalesce(e.clicks_human, 0) as clicks_human, coalesce(e.clicks_machine, 0) as clicks_machine,
      coalesce(e.opens_human_mailroom, 0) as opens_human_mailroom, coalesce(e.clicks_human_mailroom, 0) as clicks_human_mailroom,
      e.first_opened_at, e.last_opened_at, e.first_clicked_at, e.last_clicked_at
    from app_public.messages as m
    left join report as r on r.message_id = m.id
    left join engagement_counts as e on e.message_id = m.id
    where m.id = any($1)
  ),
  rederived as (
  update app_public.messages as m set
    delivery_status = d.status, delivery_status_message = d.status_message, delivery_status_at = d.occurred_at,
    bounce_type = d.bounce_type, opens_human = d.opens_human, opens_machine = d.opens_machine,
    clicks_human = d.clicks_human, clicks_machine = d.clicks_machine,
    opens_human_mailroom = d.opens_human_mailroom, clicks_human_mailroom = d.clicks_human_mailroom,
    first_opened_at = d.first_opened_at, last_opened_at = d.last_opened_at,
    first_clicked_at = d.first_clicked_at, last_clicked_at = d.last_clicked_at
  from derived as d
  where m.id = d.id
    and (m.delivery_status, m.delivery_status_message, m.delivery_status_at, m.bounce_type, m.opens_human,
         m.opens_machine, m.clicks_human, m.clicks_machine, m.opens_human_mailroom, m.clicks_human_mailroom,
         m.first_opened_at, m.last_opened_at, m.first_clicked_at, m.last_clicked_at)
        is distinct from
        (d.status, d.status_message, d.occurred_at, d.bounce_type, d.opens_human, d.opens_machine,
         d.clicks_human, d.clicks_machine, d.opens_human_mailroom, d.clicks_human_mailroom, d.first_opened_at, d.last_opened_at, d.first_clicked_at, d.last_clicked_at)
  )
  select array_agg(row(h.*)::app_public.campaign_engagement_hourly order by h.campaign_id, h.hour) from (%s) as h
  $statement$, app_private.engagement_hourly_delta_query(
    'select -1 as sign, campaign_id, occurred_at, ''engagement'' as kind, engagement_type, old_reason as machine_reason,
       old_ignored_reason as ignored_reason from changed
     union all
     select 1, campaign_id, occurred_at, ''engagement'', engagement_type, machine_reason, ignored_reason from changed'))
  into hourly_delta
  using message_ids;

  -- After the statement, whose trigger on messages took the campaigns' rollup rows (add_engagement_hourly locks
  -- them first in any case): the rollup rows before the hourly rows, always.
  perform app_private.add_engagement_hourly(hourly_delta);
end;
$_$;

--
-- Name: FUNCTION refresh_messages(message_ids bigint[]); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.refresh_messages(message_ids bigint[]) IS 'Re-derives the delivery status, bounce type, engagement classification (counted or ignored, machine or human), counts and times of the given messages from their message_events, and adds what changed classifications change per hour to campaign_engagement_hourly. The result depends only on the set of events, never on their order.';

--
-- Name: release_jobs_of_dead_workers(timestamp with time zone); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.release_jobs_of_dead_workers(locked_before timestamp with time zone) RETURNS text[]
    LANGUAGE plpgsql
    SET search_path TO 'app_public', 'app_private', 'app_hidden', 'public'
    AS $$
declare
  dead text[];
begin
  select array_agg(distinct j.locked_by) into dead
  from graphile_worker._private_jobs as j
  where j.locked_by is not null
    and j.locked_at < locked_before
    and not exists (
      select 1 from pg_locks as l
      where l.locktype = 'advisory' and l.granted
        and l.database = (select d.oid from pg_database as d where d.datname = current_database())
        and l.classid = app_hidden.advisory_lock_id('worker liveness')::oid and l.objsubid = 2
        and l.objid::bigint = (hashtext(j.locked_by)::bigint & 4294967295));
  if dead is not null then
    perform graphile_worker.force_unlock_workers(dead);
  end if;
  return coalesce(dead, '{}');
end;
$$;

--
-- Name: FUNCTION release_jobs_of_dead_workers(locked_before timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.release_jobs_of_dead_workers(locked_before timestamp with time zone) IS 'Unlocks, with graphile-worker''s force_unlock_workers, the jobs locked before the given time by worker pools whose liveness lock (hold_worker_lock) nobody holds: their process is gone. Returns the pools'' ids. Run every 10 s by each worker process.';

--
-- Name: release_worker_lock(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.release_worker_lock(pool_id text) RETURNS void
    LANGUAGE sql
    AS $$
  select pg_advisory_unlock(app_hidden.advisory_lock_id('worker liveness')::integer, hashtext(pool_id)) and true
$$;

--
-- Name: FUNCTION release_worker_lock(pool_id text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.release_worker_lock(pool_id text) IS 'Gives up the liveness lock of a worker pool that has stopped.';

--
-- Name: remove_raw_event_payloads(interval, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.remove_raw_event_payloads(older_than interval, max_rows integer DEFAULT 10000) RETURNS integer
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with old as (
    select e.id from app_public.raw_events as e
    where e.event is not null and e.received_at < now() - older_than
    order by e.received_at
    limit max_rows
    for update skip locked
  ),
  removed as (
    update app_public.raw_events as e set event = null from old where e.id = old.id returning 1
  )
  select count(*)::integer from removed
$$;

--
-- Name: FUNCTION remove_raw_event_payloads(older_than interval, max_rows integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.remove_raw_event_payloads(older_than interval, max_rows integer) IS 'Removes the payload (event) of at most max_rows raw events received more than older_than ago, oldest first; returns how many. Call it until it returns less than max_rows. Derived data is untouched.';

--
-- Name: request_machine_reason(text, boolean, inet); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  select case
    when honeypot then 'honeypot link'
    when http_method = 'HEAD' then 'HEAD request'
    else (select 'IP range: ' || r.kind || ' (' || r.range::text || case when r.description <> '' then ', ' || r.description else '' end || ')'
          from app_public.machine_ip_ranges as r
          where r.range >>= ip_address
          order by masklen(r.range) desc, r.id
          limit 1)
  end
$$;

--
-- Name: FUNCTION request_machine_reason(http_method text, honeypot boolean, ip_address inet); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet) IS 'Why a Mailroom tracking hit is a machine''s from the request alone: the honeypot link, a HEAD request, or an address in machine_ip_ranges (the narrowest range). NULL otherwise.';

--
-- Name: rollup_delta_query(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.rollup_delta_query(changes text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select format($query$
    select
      campaign_id,
      sum(sign) as recipients,
      coalesce(sum(sign) filter (where send_status = 'queued'), 0) as queued,
      coalesce(sum(sign) filter (where send_status = 'sending'), 0) as sending,
      coalesce(sum(sign) filter (where send_status = 'accepted'), 0) as accepted,
      coalesce(sum(sign) filter (where send_status = 'failed'), 0) as send_failed,
      coalesce(sum(sign) filter (where send_status = 'cancelled'), 0) as cancelled,
      coalesce(sum(sign) filter (where send_status = 'skipped'), 0) as skipped,
      coalesce(sum(sign) filter (where delivery_status = 'Delivered'), 0) as delivered,
      coalesce(sum(sign) filter (where delivery_status = 'Expanded'), 0) as expanded,
      coalesce(sum(sign) filter (where bounce_type = 'hard'), 0) as bounced_hard,
      coalesce(sum(sign) filter (where bounce_type = 'soft'), 0) as bounced_soft,
      coalesce(sum(sign) filter (where delivery_status = 'Suppressed'), 0) as suppressed,
      coalesce(sum(sign) filter (where delivery_status = 'FilteredSpam'), 0) as filtered_spam,
      coalesce(sum(sign) filter (where delivery_status = 'Quarantined'), 0) as quarantined,
      coalesce(sum(sign) filter (where delivery_status = 'Failed'), 0) as delivery_failed,
      coalesce(sum(sign) filter (where delivery_status is not null and delivery_status not in
        ('Delivered', 'Expanded', 'Bounced', 'Suppressed', 'FilteredSpam', 'Quarantined', 'Failed')), 0) as unknown_status,
      coalesce(sum(sign) filter (where opens_human > 0), 0) as unique_opens_human,
      coalesce(sum(sign) filter (where opens_human + opens_machine > 0), 0) as unique_opens,
      coalesce(sum(sign * opens_human), 0) as opens_human,
      coalesce(sum(sign * (opens_human + opens_machine)), 0) as opens,
      coalesce(sum(sign) filter (where clicks_human > 0), 0) as unique_clicks_human,
      coalesce(sum(sign) filter (where clicks_human + clicks_machine > 0), 0) as unique_clicks,
      coalesce(sum(sign * clicks_human), 0) as clicks_human,
      coalesce(sum(sign * (clicks_human + clicks_machine)), 0) as clicks,
      coalesce(sum(sign) filter (where unsubscribed_at is not null), 0) as unsubscribes,
      coalesce(sum(sign) filter (where complained_at is not null), 0) as complaints,
      coalesce(sum(sign * (opens_human - opens_human_mailroom)), 0) as opens_human_azure,
      coalesce(sum(sign * opens_human_mailroom), 0) as opens_human_mailroom,
      coalesce(sum(sign * (clicks_human - clicks_human_mailroom)), 0) as clicks_human_azure,
      coalesce(sum(sign * clicks_human_mailroom), 0) as clicks_human_mailroom
    from (%s) as changed
    group by campaign_id
  $query$, changes)
$_$;

--
-- Name: FUNCTION rollup_delta_query(changes text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.rollup_delta_query(changes text) IS 'The query of the rollup delta of a set of message changes (given as a query of sign and message columns): per campaign, campaign_rollups'' columns. The one definition of what a message counts for, used by the trigger on messages and by recompute_campaign_rollup.';

--
-- Name: schedule_sending(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.schedule_sending(campaign_id bigint) RETURNS timestamp with time zone
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  at timestamptz := app_private.next_send_at(campaign_id);
begin
  if at is not null then
    perform app_private.queue_send_job(campaign_id, greatest(at, now()));
  end if;
  return at;
end;
$$;

--
-- Name: FUNCTION schedule_sending(campaign_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.schedule_sending(campaign_id bigint) IS 'Queues the campaign''s send job for next_send_at (replacing a pending one); returns that time, NULL if none.';

--
-- Name: senders; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.senders (
    id bigint NOT NULL,
    name text NOT NULL,
    from_address text NOT NULL,
    display_name text DEFAULT ''::text NOT NULL,
    sending_domain text NOT NULL,
    acs_endpoint text,
    per_minute_limit integer DEFAULT 30,
    per_hour_limit integer DEFAULT 100,
    per_day_limit integer,
    send_window_start time without time zone,
    send_window_end time without time zone,
    send_window_time_zone text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    engagement_tracking text DEFAULT 'azure'::text NOT NULL,
    CONSTRAINT senders_check CHECK ((((send_window_start IS NULL) = (send_window_end IS NULL)) AND ((send_window_start IS NULL) = (send_window_time_zone IS NULL)))),
    CONSTRAINT senders_check1 CHECK (((send_window_start IS NULL) OR (send_window_start <> send_window_end))),
    CONSTRAINT senders_engagement_tracking_check CHECK ((engagement_tracking = ANY (ARRAY['azure'::text, 'mailroom'::text, 'both'::text, 'off'::text]))),
    CONSTRAINT senders_from_address_check CHECK ((from_address ~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$'::text)),
    CONSTRAINT senders_per_day_limit_check CHECK ((per_day_limit > 0)),
    CONSTRAINT senders_per_hour_limit_check CHECK ((per_hour_limit > 0)),
    CONSTRAINT senders_per_minute_limit_check CHECK ((per_minute_limit > 0)),
    CONSTRAINT senders_sending_domain_check CHECK ((sending_domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'::text))
);

--
-- Name: TABLE senders; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.senders IS 'An ACS Email resource and from-address. The connection string is a secret kept in app_private.sender_secrets.';

--
-- Name: COLUMN senders.sending_domain; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.sending_domain IS 'The domain of the Message-IDs generated for its messages (<uuid@sending_domain>); defaults to the from-address''s.';

--
-- Name: COLUMN senders.per_minute_limit; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.per_minute_limit IS 'Quota: messages per minute (ACS default 30 for a custom domain); NULL = none.';

--
-- Name: COLUMN senders.per_hour_limit; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.per_hour_limit IS 'Quota: messages per hour (ACS default 100); NULL = none.';

--
-- Name: COLUMN senders.per_day_limit; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.per_day_limit IS 'Quota: messages per day; NULL = none.';

--
-- Name: COLUMN senders.send_window_start; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.send_window_start IS 'Local time (in send_window_time_zone) from which sending is allowed; the window may cross midnight.';

--
-- Name: COLUMN senders.engagement_tracking; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.senders.engagement_tracking IS 'The default engagement source of its campaigns: azure (Azure''s engagement events; needs a custom domain with engagement tracking on), mailroom (Mailroom''s open pixel and click redirect), both (counted once: see docs/sending.md), off.';

--
-- Name: sender_available_at(app_public.senders, timestamp with time zone); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.sender_available_at(sender app_public.senders, at timestamp with time zone DEFAULT now()) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION sender_available_at(sender app_public.senders, at timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.sender_available_at(sender app_public.senders, at timestamp with time zone) IS 'The earliest time (from the given one) the sender may send again: after a 429 pause, in its send window, and once each full quota window has room for one more message.';

--
-- Name: sender_capacity(app_public.senders, timestamp with time zone); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.sender_capacity(sender app_public.senders, at timestamp with time zone DEFAULT now()) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION sender_capacity(sender app_public.senders, at timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.sender_capacity(sender app_public.senders, at timestamp with time zone) IS 'How many more messages the sender may hand to ACS at the given time: 0 outside its send window or while paused after a 429, else what every quota window (sliding minute, hour, day) leaves.';

--
-- Name: signing_secret(text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.signing_secret(name text, candidate text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  stored text;
begin
  select s.secret into stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  if found then
    return stored;
  end if;
  insert into app_private.signing_secrets (name, secret) values (signing_secret.name, candidate)
  on conflict do nothing
  returning secret into stored;
  if found then
    return stored;
  end if;
  select s.secret into strict stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  return stored;
end;
$$;

--
-- Name: FUNCTION signing_secret(name text, candidate text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.signing_secret(name text, candidate text) IS 'The secret of that name, stored as the candidate (a fresh random value) on first use. Never NULL: when another transaction stores it at the same time, that transaction''s secret is returned once it commits (in READ COMMITTED, which every caller uses).';

--
-- Name: start_scheduled_campaign(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.start_scheduled_campaign(campaign_id bigint) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'scheduled' or campaign.scheduled_at > now() then
    return false;
  end if;
  perform app_public.start_campaign(campaign.id);
  return true;
end;
$$;

--
-- Name: FUNCTION start_scheduled_campaign(campaign_id bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.start_scheduled_campaign(campaign_id bigint) IS 'For the start_scheduled_campaign job: starts the campaign if it is still scheduled and due; false otherwise.';

--
-- Name: store_unreadable_event(text, text, text, jsonb, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text) RETURNS TABLE(received integer, inserted integer, duplicates integer)
    LANGUAGE plpgsql
    SET search_path TO 'app_public', 'app_private', 'app_hidden', 'public'
    AS $_$
#variable_conflict use_column
declare
  is_new boolean;
begin
  -- Keys the unique index can hold: an id or source that is missing or too long is replaced by a SHA-256
  -- digest (of itself, or of the event's text), the same for every redelivery of the event.
  insert into app_public.raw_events as r (source, event_id, event_schema, event_text, problem,
                                          subscription_name, delivery_count, received_at, last_received_at)
  select
    case when store_unreadable_event.source is null then ''
         when length(store_unreadable_event.source) <= 512 then store_unreadable_event.source
         else 'sha256:' || encode(sha256(convert_to(store_unreadable_event.source, 'UTF8')), 'hex') end,
    case when length(store_unreadable_event.event_id) between 1 and 512 then store_unreadable_event.event_id
         else 'sha256:' || encode(sha256(convert_to(coalesce(nullif(store_unreadable_event.event_id, ''),
                                                             store_unreadable_event.event_text), 'UTF8')), 'hex') end,
    case when d->>'schema' in ('eventgrid', 'cloudevents') then d->>'schema' else 'eventgrid' end,
    store_unreadable_event.event_text,
    store_unreadable_event.problem,
    nullif(d->>'subscriptionName', ''),
    case when d->>'deliveryCount' ~ '^[0-9]{1,9}$' then (d->>'deliveryCount')::integer end,
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now()),
    coalesce(app_private.to_timestamptz(d->>'receivedAt'), now())
  from (select coalesce(store_unreadable_event.delivery, '{}'::jsonb) as d) as delivery_fields
  on conflict (lower(source), event_id) do update set
    delivery_count = greatest(r.delivery_count, excluded.delivery_count),
    times_received = r.times_received + 1,
    last_received_at = greatest(r.last_received_at, excluded.last_received_at)
  returning (xmax = 0) into is_new;
  return query select 1, is_new::integer, (not is_new)::integer;
end;
$_$;

--
-- Name: FUNCTION store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text) IS 'Keeps one event that cannot be stored as jsonb or under its own keys: its text as received in raw_events.event_text, with the problem and its delivery''s schema, receivedAt, deliveryCount and subscriptionName (read as ingest_events reads them); no effects follow. Idempotent like ingest_events: the id and source when they are short enough for the index, else a SHA-256 digest of them (or of the text).';

--
-- Name: subscribe(bigint, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.subscribe(list_id bigint, email text, name text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  list app_public.lists;
  address text := btrim(email);
  problem text := app_hidden.subscriber_email_problem(btrim(email));
  subscriber app_public.subscribers;
  membership app_public.list_memberships;
  queued integer;
begin
  select * into list from app_public.lists as l where l.id = subscribe.list_id and l.public_subscribe;
  if not found then
    raise exception 'list % does not exist or takes no public subscriptions', subscribe.list_id using errcode = 'P0002';
  end if;
  if problem is not null then
    raise exception '%', problem using errcode = '22023';
  end if;

  insert into app_public.subscribers (email, name) values (address, left(coalesce(btrim(subscribe.name), ''), 200))
  on conflict ((lower(email))) do nothing
  returning * into subscriber;
  if not found then
    select * into strict subscriber from app_public.subscribers as s where lower(s.email) = lower(address);
  end if;
  if subscriber.status <> 'enabled' then
    return 'blocklisted: nothing done';
  end if;

  insert into app_public.list_memberships (list_id, subscriber_id, status)
  values (list.id, subscriber.id, case when list.opt_in = 'single' then 'confirmed' else 'unconfirmed' end)
  on conflict do nothing
  returning * into membership;
  if found then
    if list.opt_in = 'single' then
      return 'subscribed';
    end if;
    queued := app_private.queue_confirmations(list.id, array[subscriber.id], 'subscribe form');
    return 'new member: confirmation queued';
  end if;

  select * into strict membership from app_public.list_memberships as lm
  where lm.list_id = list.id and lm.subscriber_id = subscriber.id;
  if membership.status = 'confirmed' or (membership.status = 'unconfirmed' and list.opt_in = 'single') then
    return 'already a member: nothing done';
  elsif membership.status = 'unsubscribed' and list.confirmation_sender_id is null then
    return 'unsubscribed, and the list has no confirmation sender: nothing done';
  end if;
  queued := app_private.queue_confirmations(list.id, array[subscriber.id], 'subscribe form', include_unsubscribed => true);
  return format('%s member: %s', membership.status,
                case when queued > 0 then 'confirmation queued' else 'a confirmation is waiting or was requested recently' end);
end;
$$;

--
-- Name: FUNCTION subscribe(list_id bigint, email text, name text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.subscribe(list_id bigint, email text, name text) IS 'The public subscribe form: adds the address to the list (a new subscriber if needed) and queues a confirmation email (double opt-in), or confirms at once (single opt-in); leaves confirmed members and blocklisted subscribers alone and sends them nothing; an unsubscribed member gets a confirmation whose link alone brings them back. Returns what it did, for the log: the HTTP answer is the same in every case.';

--
-- Name: take_subscribe_allowance(text[], integer[], integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  window_length interval := make_interval(secs => window_seconds);
  wait_until timestamptz;
begin
  delete from app_private.subscribe_rate_limits as r
  where r.key in (select o.key from app_private.subscribe_rate_limits as o where o.window_start <= now() - window_length limit 100);

  with asked as (
    select k.key, k.maximum from unnest(keys, limits) as k(key, maximum)
  ),
  counted as (
    -- In key order, so that two requests sharing keys never deadlock.
    insert into app_private.subscribe_rate_limits as r (key, window_start, hits)
    select a.key, now(), 1 from asked as a order by a.key
    on conflict (key) do update
      set hits = case when r.window_start > now() - window_length then r.hits + 1 else 1 end,
          window_start = case when r.window_start > now() - window_length then r.window_start else now() end
    returning r.key, r.hits, r.window_start
  )
  select max(c.window_start + window_length) into wait_until
  from counted as c join asked as a on a.key = c.key
  where c.hits > a.maximum;
  if wait_until is null then
    return 0;
  end if;
  return greatest(1, ceil(extract(epoch from wait_until - now())))::integer;
end;
$$;

--
-- Name: FUNCTION take_subscribe_allowance(keys text[], limits integer[], window_seconds integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) IS 'Counts one request of the public subscribe form against each key: at most limits[i] per window of window_seconds, opened by the key''s first request. Returns 0 when every key is within its limit, else the seconds until the window of the exceeded key ends (Retry-After).';

--
-- Name: tg__add_job(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__add_job() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform app_private.add_job(tg_argv[0], json_build_object('id', new.id));
  return new;
end;
$$;

--
-- Name: FUNCTION tg__add_job(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__add_job() IS 'Trigger function: queues the graphile-worker job named by the first trigger argument for NEW.id.';

--
-- Name: tg__referred_to_by_messages(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__referred_to_by_messages() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if tg_table_name = 'subscribers' then
    perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('subscriber deletion'));
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
$$;

--
-- Name: FUNCTION tg__referred_to_by_messages(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__referred_to_by_messages() IS 'Refuses to delete a campaign, subscriber or sender that messages refer to (in place of foreign keys on messages).';

--
-- Name: tg__timestamps(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__timestamps() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  new.created_at = (case when tg_op = 'INSERT' then pg_catalog.now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= pg_catalog.now()
                         then old.updated_at + interval '1 millisecond' else pg_catalog.now() end);
  return new;
end;
$$;

--
-- Name: FUNCTION tg__timestamps(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__timestamps() IS 'Trigger function: sets created_at on insert and a strictly increasing updated_at on every write.';

--
-- Name: tg_api_keys__notify(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_api_keys__notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform pg_notify('mailroom:api_keys', '');
  return null;
end;
$$;

--
-- Name: FUNCTION tg_api_keys__notify(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_api_keys__notify() IS 'Trigger function: NOTIFY mailroom:api_keys when keys are changed or removed (a revocation), so that GraphQL servers forget the key checks they cached.';

--
-- Name: tg_bounces__policy(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_bounces__policy() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  with counted as (
    select b.subscriber_id, b.bounce_type, count(*) as bounces
    from app_public.bounces as b
    where b.subscriber_id in (select subscriber_id from new_bounces)
    group by b.subscriber_id, b.bounce_type
  ),
  acting as (
    select c.subscriber_id, p.action
    from counted as c join app_public.bounce_policies as p on p.bounce_type = c.bounce_type
    where c.bounces >= p.threshold and p.action <> 'none'
  ),
  unsubscribed as (
    -- Rows are locked in key order (subscriber, list), so that concurrent ingestion never deadlocks on them.
    update app_public.list_memberships as lm set status = 'unsubscribed'
    from (select l.list_id, l.subscriber_id from app_public.list_memberships as l
          where l.subscriber_id in (select subscriber_id from acting where action = 'unsubscribe')
            and l.status <> 'unsubscribed'
          order by l.subscriber_id, l.list_id
          for no key update) as l
    where lm.list_id = l.list_id and lm.subscriber_id = l.subscriber_id
  )
  update app_public.subscribers as s set status = 'blocklisted'
  from (select l.id from app_public.subscribers as l
        where l.id in (select subscriber_id from acting where action = 'blocklist') and l.status <> 'blocklisted'
        order by l.id
        for no key update) as l
  where s.id = l.id;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_bounces__policy(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_bounces__policy() IS 'Statement trigger: applies bounce_policies to the subscribers who just bounced (by subscriber id).';

--
-- Name: tg_campaign_lists__editable(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_campaign_lists__editable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if exists (select 1 from app_public.campaigns
             where id = coalesce(new.campaign_id, old.campaign_id) and status not in ('draft', 'scheduled')) then
    raise exception 'the lists of campaign % can no longer be changed', coalesce(new.campaign_id, old.campaign_id)
      using errcode = '55000';
  end if;
  return coalesce(new, old);
end;
$$;

--
-- Name: tg_campaign_rollups__notify(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_campaign_rollups__notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform pg_notify('mailroom:campaign_rollup:' || new.campaign_id, json_build_object('campaignId', new.campaign_id)::text);
  return null;
end;
$$;

--
-- Name: FUNCTION tg_campaign_rollups__notify(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_campaign_rollups__notify() IS 'Trigger function: NOTIFY mailroom:campaign_rollup:<campaign id> with {"campaignId": id}, for GraphQL subscriptions.';

--
-- Name: tg_campaigns__check_content(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_campaigns__check_content() RETURNS trigger
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform app_private.check_campaign_content(new);
  return new;
end;
$$;

--
-- Name: FUNCTION tg_campaigns__check_content(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_campaigns__check_content() IS 'Refuses to schedule or start a campaign whose subject (its own, else its template''s) or bodies (its own if it has any, else its template''s) have template errors.';

--
-- Name: tg_campaigns__status(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_campaigns__status() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if new.status is distinct from old.status then
    if not exists (select 1 from app_public.campaign_status_transitions
                   where from_status = old.status and to_status = new.status) then
      raise exception 'campaign % cannot go from % to %', old.id, old.status, new.status using errcode = '55000';
    end if;
    new.status_changed_at = now();
  end if;
  -- What the messages are rendered from (engagement_tracking decides the links and the pixel) is fixed at start.
  if (new.subject, new.html_body, new.text_body, new.sender_id, new.template_id, new.engagement_tracking)
     is distinct from (old.subject, old.html_body, old.text_body, old.sender_id, old.template_id, old.engagement_tracking)
     and old.status not in ('draft', 'scheduled') then
    raise exception 'campaign % is % and can no longer be edited', old.id, old.status using errcode = '55000';
  end if;
  return new;
end;
$$;

--
-- Name: tg_list_memberships__status_changed(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_list_memberships__status_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    new.status_changed_at = pg_catalog.now();
    if new.status = 'confirmed' then new.confirmed_at = pg_catalog.now(); end if;
    if new.status = 'unsubscribed' then new.unsubscribed_at = pg_catalog.now(); end if;
  end if;
  return new;
end;
$$;

--
-- Name: tg_lists__check_confirmation(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_lists__check_confirmation() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  part record;
  errors text[];
begin
  for part in
    select * from (values ('subject', new.confirmation_subject), ('HTML part', new.confirmation_html), ('text part', new.confirmation_text)) as p(name, content)
    where p.content is not null
  loop
    if btrim(part.content) = '' then
      raise exception 'the confirmation % of list "%" is empty (NULL gives the built-in one)', part.name, new.name using errcode = '22023';
    end if;
    errors := app_hidden.confirmation_template_errors(part.content);
    if cardinality(errors) > 0 then
      raise exception 'the confirmation % of list "%" has errors: %', part.name, new.name, array_to_string(errors, '; ')
        using errcode = '22023';
    end if;
    if part.name <> 'subject' and part.content !~ '\{\{\{?\s*confirm_url\s*\}?\}\}' then
      raise exception 'the confirmation % of list "%" has no {{ confirm_url }}: the person could not confirm', part.name, new.name
        using errcode = '22023';
    end if;
  end loop;
  return new;
end;
$$;

--
-- Name: FUNCTION tg_lists__check_confirmation(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_lists__check_confirmation() IS 'Trigger: refuses a list whose confirmation subject, HTML or text has template errors, or whose HTML or text part lacks {{ confirm_url }}.';

--
-- Name: tg_messages__attribute_pending(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_messages__attribute_pending() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  candidate_ids bigint[];
begin
  perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('pending events'));
  if not exists (select 1 from app_private.pending_events) then
    return null;
  end if;
  -- The pending events that name one of the new messages; attribute_pending applies the rule to them.
  select array_agg(c.raw_event_id order by c.raw_event_id) into candidate_ids
  from (
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.internet_message_id = p.internet_message_id
    union
    select p.raw_event_id from app_private.pending_events as p join new_messages as m on m.operation_id = p.operation_id
  ) as c;
  if candidate_ids is not null then
    perform app_private.attribute_pending(candidate_ids);
  end if;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_messages__attribute_pending(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_messages__attribute_pending() IS 'Statement trigger, last after an insert into messages: attributes the pending events that match the new messages, holding advisory lock ''pending events'' exclusively until commit.';

--
-- Name: tg_messages__internet_message_id(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_messages__internet_message_id() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if new.internet_message_id is null then
    new.internet_message_id = app_private.new_internet_message_id(
      (select sending_domain from app_public.senders where id = new.sender_id));
  end if;
  if not coalesce(app_private.is_internet_message_id(new.internet_message_id), false) then
    raise exception 'message Message-ID % is not <uuid@sending-domain> in lower case', new.internet_message_id
      using errcode = '23514', table = 'messages', column = 'internet_message_id';
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION tg_messages__internet_message_id(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_messages__internet_message_id() IS 'Generates the Message-ID of a message inserted without one (start_campaign generates them in its INSERT), and refuses a malformed one (23514).';

--
-- Name: tg_messages__keys_immutable(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_messages__keys_immutable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  raise exception 'the keys of message % (campaign, subscriber, recipient, Message-ID, operation id) never change', old.id
    using errcode = '55000';
end;
$$;

--
-- Name: tg_messages__rollup(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_messages__rollup() RETURNS trigger
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

--
-- Name: FUNCTION tg_messages__rollup(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_messages__rollup() IS 'Statement trigger (step 4 of ingestion, and the invariant that campaign_rollups add up the messages whoever changes them): creates the rollup rows of new campaigns and adds the difference the statement made to its campaigns'' rollups (one UPDATE per statement); re-derives engaged messages whose acceptance or delivery time changed.';

--
-- Name: tg_raw_events__attribute(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_raw_events__attribute() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform app_private.attribute_new_events(array(select e.id from new_events as e order by e.id));
  return null;
end;
$$;

--
-- Name: FUNCTION tg_raw_events__attribute(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_raw_events__attribute() IS 'Statement trigger on raw_events: passes the events the statement stored to attribute_new_events.';

--
-- Name: tg_senders__defaults(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_senders__defaults() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  new.from_address = btrim(new.from_address);
  new.sending_domain = lower(coalesce(nullif(btrim(new.sending_domain), ''), split_part(new.from_address, '@', 2)));
  if new.send_window_time_zone is not null
     and not exists (select 1 from pg_catalog.pg_timezone_names where name = new.send_window_time_zone) then
    raise exception 'unknown time zone "%"', new.send_window_time_zone using errcode = '22023',
      hint = 'Use an IANA time zone name such as Europe/Paris.';
  end if;
  return new;
end;
$$;

--
-- Name: tg_subscribers__normalize(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_subscribers__normalize() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  new.email = pg_catalog.btrim(new.email);
  return new;
end;
$$;

--
-- Name: to_inet(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.to_inet(value text) RETURNS inet
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
begin
  if value is null or value !~ '^[0-9A-Fa-f:.]{2,45}$' then
    return null;
  end if;
  -- An IPv4 address casts without a doubt, and without the subtransaction of the handler below.
  if value ~ '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$' then
    return value::inet;
  end if;
  begin
    return value::inet;
  exception when invalid_text_representation then
    return null;
  end;
end;
$_$;

--
-- Name: FUNCTION to_inet(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.to_inet(value text) IS 'The address in a text, or NULL when it is not one (no error).';

--
-- Name: to_timestamptz(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.to_timestamptz(value text) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $_$
declare
  digits text;
begin
  -- The common form, checked field by field (day of month up to 28: later days go the full way).
  if octet_length(value) between 20 and 38 and value like '____-__-__T__:__:__%' then
    digits := replace(replace(replace(left(value, 19), '-', ''), 'T', ''), ':', '');
    if octet_length(digits) = 14 and digits ~ '^[0-9]+$'
       and substr(digits, 1, 4) <> '0000' and substr(digits, 5, 2) between '01' and '12'
       and substr(digits, 7, 2) between '01' and '28' and substr(digits, 9, 2) <= '23'
       and substr(digits, 11, 2) <= '59' and substr(digits, 13, 2) <= '59'
       and substr(value, 20) ~ '^(\.[0-9]+)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$' then
      return value::timestamptz;
    end if;
  end if;
  -- ISO 8601 (fraction and offset optional), with valid ranges and day of month; at most 38 characters, the
  -- longest such time with 12 digits of fraction (PostgreSQL refuses far longer input with an error).
  if length(value) > 38
     or value !~ '^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]+)?)?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$'
     or substr(value, 1, 4) = '0000'
     or substr(value, 9, 2)::integer > extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                                                       + interval '1 month - 1 day') then
    return null;
  end if;
  -- With its offset (Z, or a sign after the hour and minute) as given; without one, UTC.
  if upper(right(value, 1)) = 'Z' or strpos(substr(value, 17), '+') > 0 or strpos(substr(value, 17), '-') > 0 then
    return value::timestamptz;
  end if;
  return value::timestamp at time zone 'UTC';
end;
$_$;

--
-- Name: FUNCTION to_timestamptz(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.to_timestamptz(value text) IS 'An ISO 8601 time as timestamptz (UTC when it has no offset), or NULL when it is not a valid ISO 8601 time or its offset is beyond 15:59. Never raises.';

--
-- Name: to_uuid(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.to_uuid(value text) RETURNS uuid
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
declare
  digits text := value;
begin
  -- 32 hexadecimal digits, with the four hyphens of the standard form or none, in braces or not.
  if digits like '{%}' then
    digits := substr(digits, 2, length(digits) - 2);
  end if;
  if (digits like '________-____-____-____-____________' or octet_length(digits) = 32)
     and octet_length(replace(digits, '-', '')) = 32 and digits ~ '^[-0-9A-Fa-f]+$' then
    return digits::uuid;
  end if;
  return null;
end;
$_$;

--
-- Name: FUNCTION to_uuid(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.to_uuid(value text) IS 'The text as a UUID (32 hexadecimal digits in either case, with the four hyphens or none, in braces or not), or NULL. Never raises.';

--
-- Name: tracked_link(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tracked_link(url text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $_$
declare
  token text;
  payload bytea;
begin
  -- Most URLs are no tracking URL: answered before the block below, whose exception handler costs a subtransaction.
  token := substring(url from '/t/c/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+(?:[?#].*)?$');
  if token is null then
    return url;
  end if;
  begin
    payload := decode(rpad(translate(token, '-_', '+/'), (length(token) + 3) / 4 * 4, '='), 'base64');
    if length(payload) <= 24 or get_byte(payload, 0) <> 1 or get_byte(payload, 1) <> ascii('c') then
      return url;
    end if;
    return convert_from(substring(payload from 25), 'UTF8');
  exception when others then
    return url;
  end;
end;
$_$;

--
-- Name: FUNCTION tracked_link(url text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tracked_link(url text) IS 'The original URL inside a Mailroom click-tracking URL (.../t/c/TOKEN), or the URL itself.';

--
-- Name: truncate_tracking_ip_addresses(interval, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer DEFAULT 10000) RETURNS integer
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  -- A hit's address is kept whole for older_than, then only its network: the /24 of an IPv4 address, the /48 of an
  -- IPv6 one (in the column and in the payload as received). The machine classification made with the whole
  -- address stays.
  with old as (
    select e.id, network(set_masklen(e.ip_address, case family(e.ip_address) when 4 then 24 else 48 end))::inet as truncated
    from app_public.raw_events as e
    where e.ip_address is not null and masklen(e.ip_address) in (32, 128) and e.received_at < now() - older_than
    order by e.received_at
    limit max_rows
    for update skip locked
  ),
  truncated as (
    update app_public.raw_events as e set
      ip_address = old.truncated,
      event = case when e.event is null then null
                   else jsonb_set(e.event, '{data,ipAddress}', to_jsonb(old.truncated::text)) end
    from old where e.id = old.id
    returning 1
  )
  select count(*)::integer from truncated
$$;

--
-- Name: FUNCTION truncate_tracking_ip_addresses(older_than interval, max_rows integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer) IS 'Truncates the client address of at most max_rows Mailroom tracking hits received more than older_than ago (to the /24 of IPv4, the /48 of IPv6; in ip_address and in the payload), oldest first; returns how many. Call it until it returns less than max_rows.';

--
-- Name: unsubscribe(uuid, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.unsubscribe(operation_id uuid, source text DEFAULT 'one_click'::text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  message app_public.messages;
begin
  select * into message from app_public.messages as m where m.operation_id = unsubscribe.operation_id;
  if not found then
    return false;
  end if;
  update app_public.list_memberships set status = 'unsubscribed'
  where subscriber_id = message.subscriber_id and status <> 'unsubscribed'
    and list_id in (select list_id from app_public.campaign_lists where campaign_id = message.campaign_id);
  insert into app_public.unsubscribes (subscriber_id, message_id, campaign_id, source)
  values (message.subscriber_id, message.id, message.campaign_id, unsubscribe.source)
  on conflict (message_id) do nothing;
  update app_public.messages set unsubscribed_at = now() where id = message.id and unsubscribed_at is null;
  return true;
end;
$$;

--
-- Name: FUNCTION unsubscribe(operation_id uuid, source text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.unsubscribe(operation_id uuid, source text) IS 'Unsubscribes the recipient of the message with this operation id from the campaign''s lists (RFC 8058 one-click or a link); counted once per message. False when no message has this operation id.';

--
-- Name: user_agent_machine_reason(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.user_agent_machine_reason(user_agent text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
  select 'user agent: ' || a.kind || ' (' || a.pattern || ')'
  from app_public.machine_user_agents as a
  where user_agent ~* a.pattern
  order by a.id
  limit 1
$$;

--
-- Name: FUNCTION user_agent_machine_reason(user_agent text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.user_agent_machine_reason(user_agent text) IS 'Why a user agent is a machine (the first matching machine_user_agents row), or NULL.';

--
-- Name: uuid_v7(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.uuid_v7() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    AS $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
    52, 1), 53, 1), 'hex')::uuid
$$;

--
-- Name: FUNCTION uuid_v7(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.uuid_v7() IS 'A version 7 UUID (RFC 9562): Unix time in milliseconds, then 74 random bits (of gen_random_uuid). Ordered by creation time, so that the unique indexes on messages grow at their right edge instead of at random pages.';

--
-- Name: attribution_lag_recent(integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.attribution_lag_recent(events integer DEFAULT 10000) RETURNS TABLE(attributed_by text, events bigint, p50_seconds double precision, p95_seconds double precision, p99_seconds double precision, max_seconds double precision, is_total boolean, since timestamp with time zone)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with recent as materialized (
    select e.id, e.received_at from app_public.raw_events as e
    where e.received_at > now() - interval '1 day'
    order by e.received_at desc
    limit attribution_lag_recent.events
  ),
  lag as (
    -- Each event's message_events row by primary key (a lateral lookup: a hash join would read the whole table).
    select me.attributed_by, r.received_at, extract(epoch from me.attributed_at - r.received_at)::double precision as seconds
    from recent as r
    cross join lateral (
      select x.attributed_by, x.attributed_at from app_public.message_events as x where x.raw_event_id = r.id limit 1
    ) as me
  )
  select l.attributed_by, count(*),
    percentile_cont(0.5) within group (order by l.seconds),
    percentile_cont(0.95) within group (order by l.seconds),
    percentile_cont(0.99) within group (order by l.seconds),
    max(l.seconds),
    grouping(l.attributed_by) = 1,
    min(l.received_at)
  from lag as l
  group by rollup (l.attributed_by)
  order by grouping(l.attributed_by), l.attributed_by
$$;

--
-- Name: FUNCTION attribution_lag_recent(events integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.attribution_lag_recent(events integer) IS 'Seconds from receiving an event to attributing it, as monitor_attribution_lag, over the most recently received `events` events of the last day (default 10,000): per key (attributed_by) and for all keys (is_total), with the oldest receipt in the sample (since). Reads the newest events by index, so it costs milliseconds whatever the day''s volume; for the dashboard''s health page.';

--
-- Name: subscribers; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.subscribers (
    id bigint NOT NULL,
    email text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    status text DEFAULT 'enabled'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT subscribers_attributes_check CHECK ((jsonb_typeof(attributes) = 'object'::text)),
    CONSTRAINT subscribers_email_check CHECK ((app_hidden.subscriber_email_problem(email) IS NULL)),
    CONSTRAINT subscribers_status_check CHECK ((status = ANY (ARRAY['enabled'::text, 'blocklisted'::text])))
);

--
-- Name: TABLE subscribers; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.subscribers IS 'People who may receive campaigns. Email is unique case-insensitively.';

--
-- Name: COLUMN subscribers.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.subscribers.status IS 'enabled, or blocklisted (never sent to; set by hand or by the bounce policy).';

--
-- Name: blocklist_subscriber(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.blocklist_subscriber(subscriber_id bigint) RETURNS app_public.subscribers
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'blocklisted'
  where s.id = blocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', blocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$;

--
-- Name: FUNCTION blocklist_subscriber(subscriber_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.blocklist_subscriber(subscriber_id bigint) IS 'Blocklists a subscriber: no campaign will send to them (messages still queued are skipped by the sender).';

--
-- Name: campaign_bounce_reasons(bigint, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer DEFAULT 20) RETURNS TABLE(kind text, status text, reason text, events bigint, last_at timestamp with time zone)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with reason as (
    select b.bounce_type as kind, b.status, b.detail as reason, count(*) as events, max(b.occurred_at) as last_at
    from app_public.bounces as b
    where b.campaign_id = campaign_bounce_reasons.campaign_id
    group by b.bounce_type, b.status, b.detail
    union all
    select case m.send_status when 'failed' then 'send failed' else 'skipped' end, null,
      case m.send_status when 'failed' then m.last_error else m.send_status_reason end,
      count(*), max(m.updated_at)
    from app_public.messages as m
    where m.campaign_id = campaign_bounce_reasons.campaign_id and m.send_status in ('failed', 'skipped')
    group by 1, 3
  ),
  ranked as (
    select r.*, row_number() over (partition by r.kind order by r.events desc, r.status, r.reason) as position
    from reason as r
  )
  select r.kind, case when r.position <= max_reasons then r.status end,
    case when r.position <= max_reasons then r.reason end, sum(r.events)::bigint, max(r.last_at)
  from ranked as r
  group by r.kind, case when r.position <= max_reasons then r.position end,
    case when r.position <= max_reasons then r.status end, case when r.position <= max_reasons then r.reason end
  order by array_position(array['hard', 'soft', 'complaint', 'send failed', 'skipped'], r.kind),
    case when r.position <= max_reasons then r.position end nulls last
$$;

--
-- Name: FUNCTION campaign_bounce_reasons(campaign_id bigint, max_reasons integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) IS 'A campaign''s bounces (hard, soft), complaints and messages not sent (send failed, skipped) by reason: status and status message, error, or why skipped; how many and the latest. The first max_reasons reasons of each kind, the rest in one row with reason NULL. Reads bounces by campaign and only the failed and skipped messages (partial index), never the whole ledger.';

--
-- Name: campaign_engagement_hourly_from_events(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.campaign_engagement_hourly_from_events(campaign_id bigint) RETURNS SETOF app_public.campaign_engagement_hourly
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select campaign_engagement_hourly_from_events.campaign_id,
    date_bin('1 hour', e.occurred_at, timestamptz '2000-01-01 00:00+00') as hour,
    count(*) filter (where e.engagement_type = 'view') as opens,
    count(*) filter (where e.engagement_type = 'view' and not e.is_machine) as opens_human,
    count(*) filter (where e.engagement_type = 'click') as clicks,
    count(*) filter (where e.engagement_type = 'click' and not e.is_machine) as clicks_human
  from app_private.campaign_events_from_raw(campaign_engagement_hourly_from_events.campaign_id) as e
  where e.kind = 'engagement'
  group by 2
  order by 2
$$;

--
-- Name: FUNCTION campaign_engagement_hourly_from_events(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.campaign_engagement_hourly_from_events(campaign_id bigint) IS 'A campaign''s opens and clicks per UTC hour computed from scratch from the raw events (the rules alone, as campaign_rollup_from_events), without reading message_events or campaign_engagement_hourly: the oracle the maintained table is checked against. Hours with nothing that counts are left out. Slow (reads the raw events); for checks and repair.';

--
-- Name: campaign_rollups; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaign_rollups (
    campaign_id bigint NOT NULL,
    recipients bigint DEFAULT 0 NOT NULL,
    queued bigint DEFAULT 0 NOT NULL,
    sending bigint DEFAULT 0 NOT NULL,
    accepted bigint DEFAULT 0 NOT NULL,
    send_failed bigint DEFAULT 0 NOT NULL,
    cancelled bigint DEFAULT 0 NOT NULL,
    skipped bigint DEFAULT 0 NOT NULL,
    delivered bigint DEFAULT 0 NOT NULL,
    expanded bigint DEFAULT 0 NOT NULL,
    bounced_hard bigint DEFAULT 0 NOT NULL,
    bounced_soft bigint DEFAULT 0 NOT NULL,
    suppressed bigint DEFAULT 0 NOT NULL,
    filtered_spam bigint DEFAULT 0 NOT NULL,
    quarantined bigint DEFAULT 0 NOT NULL,
    delivery_failed bigint DEFAULT 0 NOT NULL,
    unknown_status bigint DEFAULT 0 NOT NULL,
    unique_opens_human bigint DEFAULT 0 NOT NULL,
    unique_opens bigint DEFAULT 0 NOT NULL,
    opens_human bigint DEFAULT 0 NOT NULL,
    opens bigint DEFAULT 0 NOT NULL,
    unique_clicks_human bigint DEFAULT 0 NOT NULL,
    unique_clicks bigint DEFAULT 0 NOT NULL,
    clicks_human bigint DEFAULT 0 NOT NULL,
    clicks bigint DEFAULT 0 NOT NULL,
    unsubscribes bigint DEFAULT 0 NOT NULL,
    complaints bigint DEFAULT 0 NOT NULL,
    opens_human_azure bigint DEFAULT 0 NOT NULL,
    opens_human_mailroom bigint DEFAULT 0 NOT NULL,
    clicks_human_azure bigint DEFAULT 0 NOT NULL,
    clicks_human_mailroom bigint DEFAULT 0 NOT NULL
)
WITH (fillfactor='50');

--
-- Name: TABLE campaign_rollups; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaign_rollups IS 'A campaign''s numbers in one row, kept current by statement-level triggers on messages (one update per campaign per statement). Counts are of messages: by send status, by delivery status (delivered = Delivered; bounced_soft includes soft Failed, Quarantined and FilteredSpam), unique_* = messages with at least one view/click, opens and clicks = totals; *_human exclude machine engagement; *_human_azure and *_human_mailroom split the human opens and clicks by the source that counted them. app_public.recompute_campaign_rollup rebuilds it.';

--
-- Name: campaign_rollup_from_events(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.campaign_rollup_from_events(campaign_id bigint) RETURNS app_public.campaign_rollups
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET work_mem TO '256MB'
    SET enable_nestloop TO 'off'
    AS $$
  with msg as (
    select * from app_public.messages as m where m.campaign_id = campaign_rollup_from_events.campaign_id
  ),
  event as (select * from app_private.campaign_events_from_raw(campaign_rollup_from_events.campaign_id)),
  report as (select * from event as e where e.kind = 'delivery_report'),
  classified as (select * from event as e where e.kind = 'engagement'),
  per_message as (
    select m.id, m.send_status, r.status as delivery_status, r.bounce_type,
      count(*) filter (where c.engagement_type = 'view' and not c.is_machine) as opens_human,
      count(*) filter (where c.engagement_type = 'view') as opens,
      count(*) filter (where c.engagement_type = 'click' and not c.is_machine) as clicks_human,
      count(*) filter (where c.engagement_type = 'click') as clicks,
      count(*) filter (where c.engagement_type = 'view' and not c.is_machine and c.source = 'mailroom') as opens_human_mailroom,
      count(*) filter (where c.engagement_type = 'click' and not c.is_machine and c.source = 'mailroom') as clicks_human_mailroom,
      bool_or(u.message_id is not null) as unsubscribed,
      bool_or(complaint.message_id is not null) as complained
    from msg as m
    left join report as r on r.message_id = m.id
    left join classified as c on c.message_id = m.id
    left join (select distinct message_id from app_public.unsubscribes) as u on u.message_id = m.id
    left join (select distinct message_id from app_public.bounces where bounce_type = 'complaint') as complaint
      on complaint.message_id = m.id
    group by m.id, m.send_status, r.status, r.bounce_type
  )
  select
    campaign_rollup_from_events.campaign_id,
    count(*),
    count(*) filter (where send_status = 'queued'),
    count(*) filter (where send_status = 'sending'),
    count(*) filter (where send_status = 'accepted'),
    count(*) filter (where send_status = 'failed'),
    count(*) filter (where send_status = 'cancelled'),
    count(*) filter (where send_status = 'skipped'),
    count(*) filter (where delivery_status = 'Delivered'),
    count(*) filter (where delivery_status = 'Expanded'),
    count(*) filter (where bounce_type = 'hard'),
    count(*) filter (where bounce_type = 'soft'),
    count(*) filter (where delivery_status = 'Suppressed'),
    count(*) filter (where delivery_status = 'FilteredSpam'),
    count(*) filter (where delivery_status = 'Quarantined'),
    count(*) filter (where delivery_status = 'Failed'),
    count(*) filter (where delivery_status not in
      ('Delivered', 'Expanded', 'Bounced', 'Suppressed', 'FilteredSpam', 'Quarantined', 'Failed')),
    count(*) filter (where opens_human > 0),
    count(*) filter (where opens > 0),
    coalesce(sum(opens_human), 0),
    coalesce(sum(opens), 0),
    count(*) filter (where clicks_human > 0),
    count(*) filter (where clicks > 0),
    coalesce(sum(clicks_human), 0),
    coalesce(sum(clicks), 0),
    count(*) filter (where unsubscribed),
    count(*) filter (where complained),
    coalesce(sum(opens_human - opens_human_mailroom), 0),
    coalesce(sum(opens_human_mailroom), 0),
    coalesce(sum(clicks_human - clicks_human_mailroom), 0),
    coalesce(sum(clicks_human_mailroom), 0)
  from per_message
$$;

--
-- Name: FUNCTION campaign_rollup_from_events(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.campaign_rollup_from_events(campaign_id bigint) IS 'A campaign''s numbers computed from scratch from the raw events (attribution rule, delivery status precedence, bounce rules, which engagement counts, machine classification), the ledger''s send status, unsubscribes and complaints, without reading the maintained rollup or the derived message columns. Slow (reads the raw events); for checks and repair.';

--
-- Name: cancel_campaign(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.cancel_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status in ('cancelled', 'finished') then
    raise exception 'campaign % is already %', campaign.id, campaign.status using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'cancelled', cancelled_at = now() where id = campaign.id returning * into campaign;
  update app_public.messages set send_status = 'cancelled', send_status_reason = 'campaign cancelled'
  where messages.campaign_id = campaign.id and send_status = 'queued';
  return campaign;
end;
$$;

--
-- Name: FUNCTION cancel_campaign(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.cancel_campaign(campaign_id bigint) IS 'Cancels a campaign: its queued messages become cancelled. Messages already handed to ACS stay as they are, and their events keep being attributed to the campaign.';

--
-- Name: check_template(text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.check_template(part text, content text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
declare
  errors text[] := array(select part || ' ' || e.error
                         from unnest(app_public.template_errors(content)) with ordinality as e(error, n)
                         order by e.n);
begin
  if cardinality(errors) > 0 then
    raise exception 'template errors: %', array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$;

--
-- Name: FUNCTION check_template(part text, content text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.check_template(part text, content text) IS 'Raises (22023) "template errors: PART line N: ..." with every error of the text (app_public.template_errors), each prefixed with the part given ("subject", "html", "text").';

--
-- Name: confirm_all_list_members(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.confirm_all_list_members(list_id bigint) RETURNS app_public.bulk_confirm_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  return app_public.confirm_list_members(confirm_all_list_members.list_id, null);
end;
$$;

--
-- Name: FUNCTION confirm_all_list_members(list_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.confirm_all_list_members(list_id bigint) IS 'Confirms every unconfirmed member of the list whose subscriber is enabled (consent obtained elsewhere); unsubscribed members and blocklisted subscribers are left as they are. Returns the counts as confirm_list_members does (not_members is 0).';

--
-- Name: confirm_list_members(bigint, text[]); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.confirm_list_members(list_id bigint, emails text[]) RETURNS app_public.bulk_confirm_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  result app_public.bulk_confirm_result;
begin
  perform 1 from app_public.lists as l where l.id = confirm_list_members.list_id;
  if not found then
    raise exception 'list % does not exist', confirm_list_members.list_id using errcode = 'P0002';
  end if;
  with given as (
    select distinct lower(btrim(e)) as email from unnest(confirm_list_members.emails) as e where btrim(e) <> ''
  ),
  -- The addresses given, each with its membership if any; without addresses (NULL), every member of the list.
  member as (
    select g.email, s.id as subscriber_id, s.status as subscriber_status, lm.status
    from given as g
    left join app_public.subscribers as s on lower(s.email) = g.email
    left join app_public.list_memberships as lm on lm.list_id = confirm_list_members.list_id and lm.subscriber_id = s.id
    union all
    select s.email, s.id, s.status, lm.status
    from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
    where confirm_list_members.emails is null and lm.list_id = confirm_list_members.list_id
  ),
  confirmed as (
    update app_public.list_memberships as lm set status = 'confirmed'
    from member as m
    where lm.list_id = confirm_list_members.list_id and lm.subscriber_id = m.subscriber_id
      and m.status = 'unconfirmed' and m.subscriber_status = 'enabled'
    returning 1
  )
  select (select count(*) from confirmed),
         count(*) filter (where m.status = 'confirmed'),
         count(*) filter (where m.status is null),
         count(*) filter (where m.status = 'unsubscribed' or (m.status = 'unconfirmed' and m.subscriber_status <> 'enabled'))
  into result.confirmed, result.already_confirmed, result.not_members, result.left_alone
  from member as m;
  return result;
end;
$$;

--
-- Name: FUNCTION confirm_list_members(list_id bigint, emails text[]); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.confirm_list_members(list_id bigint, emails text[]) IS 'Confirms the unconfirmed members of the list with these addresses (case-insensitive; duplicates count once; NULL: every member), for consent obtained elsewhere. Unsubscribed members and blocklisted subscribers are left as they are. Returns how many were confirmed, were confirmed already, are no member of the list, were left alone.';

--
-- Name: duplicate_campaign(bigint, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.duplicate_campaign(campaign_id bigint, name text DEFAULT NULL::text) RETURNS app_public.campaigns
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  original app_public.campaigns;
  new_campaign app_public.campaigns;
begin
  select * into original from app_public.campaigns as c where c.id = duplicate_campaign.campaign_id;
  if not found then
    raise exception 'campaign % does not exist', duplicate_campaign.campaign_id using errcode = 'P0002';
  end if;
  if duplicate_campaign.name is not null and btrim(duplicate_campaign.name) = '' then
    raise exception 'the name of a campaign cannot be empty' using errcode = '22023';
  end if;

  insert into app_public.campaigns (name, template_id, sender_id, subject, html_body, text_body, engagement_tracking)
  values (coalesce(btrim(duplicate_campaign.name), original.name || ' (copy)'), original.template_id, original.sender_id,
          original.subject, original.html_body, original.text_body, original.engagement_tracking)
  returning * into new_campaign;

  insert into app_public.campaign_lists (campaign_id, list_id)
  select new_campaign.id, cl.list_id from app_public.campaign_lists as cl where cl.campaign_id = original.id;
  insert into app_public.campaign_senders (campaign_id, sender_id)
  select new_campaign.id, cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = original.id;
  return new_campaign;
end;
$$;

--
-- Name: FUNCTION duplicate_campaign(campaign_id bigint, name text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.duplicate_campaign(campaign_id bigint, name text) IS 'Creates a draft campaign like the given one (any status): the same template, subject, bodies, sender, additional senders (campaign_senders), lists and engagement_tracking; named name, else "<name> (copy)". Nothing of the original''s sending is copied (schedule, times, messages, numbers, test sends). Returns the new campaign.';

--
-- Name: import_subscribers(app_public.subscriber_import_row[], bigint, text, boolean); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint DEFAULT NULL::bigint, membership_status text DEFAULT 'unconfirmed'::text, update_existing boolean DEFAULT false) RETURNS SETOF app_public.subscriber_import_result
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  row_count integer := coalesce(cardinality(subscribers), 0);
begin
  if row_count > 10000 then
    raise exception 'at most 10000 subscribers can be imported at once (got %)', row_count using errcode = '22023',
      hint = 'Split the import into batches of at most 10,000 rows.';
  end if;
  if import_subscribers.list_id is not null
     and not exists (select 1 from app_public.lists as l where l.id = import_subscribers.list_id) then
    raise exception 'list % does not exist', import_subscribers.list_id using errcode = 'P0002';
  end if;
  if membership_status is null or membership_status not in ('unconfirmed', 'confirmed') then
    raise exception 'membership_status must be unconfirmed or confirmed (got %)', membership_status using errcode = '22023';
  end if;

  return query
  with input as (
    select r.ordinality::integer as row_number, btrim(r.email) as email, coalesce(r.name, '') as name,
      coalesce(r.attributes, '{}'::jsonb) as attributes
    from unnest(import_subscribers.subscribers) with ordinality as r(email, name, attributes, ordinality)
  ),
  validated as (
    select i.*, lower(i.email) as key,
      coalesce(app_hidden.subscriber_email_problem(i.email),
               case when jsonb_typeof(i.attributes) <> 'object' then 'attributes must be a JSON object' end) as invalid
    from input as i
  ),
  checked as (
    -- The same address twice: the first valid row counts, later ones are rejected.
    select v.row_number, v.email, v.name, v.attributes, v.key,
      coalesce(v.invalid, case when v.first_row <> v.row_number then 'the same email as row ' || v.first_row end) as error
    from (
      select validated.*,
        min(validated.row_number) filter (where validated.invalid is null) over (partition by validated.key) as first_row
      from validated
    ) as v
  ),
  existing as (
    select s.id, lower(s.email) as key, s.name, s.attributes
    from app_public.subscribers as s
    where lower(s.email) in (select c.key from checked as c where c.error is null)
  ),
  inserted as (
    insert into app_public.subscribers as s (email, name, attributes)
    select c.email, c.name, c.attributes from checked as c
    where c.error is null and c.key not in (select e.key from existing as e)
    on conflict ((lower(email))) do nothing
    returning s.id, lower(s.email) as key
  ),
  updated as (
    update app_public.subscribers as s set name = c.name, attributes = c.attributes
    from checked as c join existing as e on e.key = c.key
    where import_subscribers.update_existing and s.id = e.id and c.error is null
      and (e.name, e.attributes) is distinct from (c.name, c.attributes)
    returning s.id
  ),
  resolved as (
    select c.*, coalesce(ins.id, e.id) as subscriber_id, ins.id is not null as created
    from checked as c
    left join inserted as ins on ins.key = c.key and c.error is null
    left join existing as e on e.key = c.key and c.error is null
  ),
  joined as (
    insert into app_public.list_memberships as lm (list_id, subscriber_id, status)
    select import_subscribers.list_id, r.subscriber_id, import_subscribers.membership_status
    from resolved as r
    where import_subscribers.list_id is not null and r.subscriber_id is not null
    on conflict do nothing
    returning lm.subscriber_id
  )
  select r.row_number, r.email, r.subscriber_id,
    case when r.error is not null or r.subscriber_id is null then 'rejected'
         when r.created then 'created'
         when u.id is not null then 'updated'
         else 'existing' end,
    coalesce(r.error, case when r.subscriber_id is null then 'added by another import at the same moment; import it again' end),
    j.subscriber_id is not null
  from resolved as r
  left join updated as u on u.id = r.subscriber_id
  left join joined as j on j.subscriber_id = r.subscriber_id
  order by r.row_number;
end;
$$;

--
-- Name: FUNCTION import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) IS 'Imports up to 10,000 subscribers in one statement and reports every row: invalid rows (no or an invalid email, attributes not an object, the same email twice) are rejected with the reason and the others imported. Existing subscribers (by email, case-insensitively) are left as they are unless update_existing (then name and attributes are replaced). With list_id, every imported or existing subscriber becomes a member of the list with membership_status (unconfirmed or confirmed) unless already a member. Runs with the caller''s privileges.';

--
-- Name: lists; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.lists (
    id bigint NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    opt_in text DEFAULT 'double'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmation_sender_id bigint,
    confirmation_subject text,
    confirmation_html text,
    confirmation_text text,
    confirmation_resend_interval interval DEFAULT '01:00:00'::interval NOT NULL,
    public_subscribe boolean DEFAULT false NOT NULL,
    CONSTRAINT lists_confirmation_resend_interval_check CHECK ((confirmation_resend_interval >= '00:01:00'::interval)),
    CONSTRAINT lists_opt_in_check CHECK ((opt_in = ANY (ARRAY['single'::text, 'double'::text]))),
    CONSTRAINT lists_public_subscribe_check CHECK (((NOT public_subscribe) OR (opt_in = 'single'::text) OR (confirmation_sender_id IS NOT NULL)))
);

--
-- Name: TABLE lists; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.lists IS 'Mailing lists. Double opt-in lists send to confirmed members only; single opt-in lists to every member not unsubscribed.';

--
-- Name: COLUMN lists.confirmation_sender_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.confirmation_sender_id IS 'The sender of the list''s confirmation emails (double opt-in). Without one, no confirmation can be sent.';

--
-- Name: COLUMN lists.confirmation_subject; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.confirmation_subject IS 'Subject of the confirmation email; NULL: "Please confirm your subscription to {{ list.name }}". Fields: subscriber.email, subscriber.name, list.id, list.name, confirm_url.';

--
-- Name: COLUMN lists.confirmation_html; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.confirmation_html IS 'HTML part of the confirmation email; NULL: the built-in one (unless only confirmation_text is set). Must contain {{ confirm_url }} when set.';

--
-- Name: COLUMN lists.confirmation_text; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.confirmation_text IS 'Text part of the confirmation email; NULL: derived from the HTML part. Must contain {{ confirm_url }} when set.';

--
-- Name: COLUMN lists.confirmation_resend_interval; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.confirmation_resend_interval IS 'A member is sent another confirmation email only this long after the previous one was requested (at least a minute).';

--
-- Name: COLUMN lists.public_subscribe; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.lists.public_subscribe IS 'Whether anyone may subscribe through the public form GET/POST /subscribe/LIST_ID (off by default). A double opt-in list needs a confirmation sender for it.';

--
-- Name: lists_member_counts(app_public.lists); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.lists_member_counts(list app_public.lists) RETURNS app_public.list_member_counts
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select count(*) filter (where lm.status <> 'unsubscribed'),
    count(*) filter (where lm.status = 'unconfirmed'),
    count(*) filter (where lm.status = 'confirmed'),
    count(*) filter (where lm.status = 'unsubscribed')
  from app_public.list_memberships as lm where lm.list_id = list.id
$$;

--
-- Name: FUNCTION lists_member_counts(list app_public.lists); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.lists_member_counts(list app_public.lists) IS 'How many members the list has, by status.';

--
-- Name: pause_campaign(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.pause_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'running' then
    raise exception 'campaign % is %; only a running campaign can be paused', campaign.id, campaign.status
      using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'paused', paused_at = now() where id = campaign.id returning * into campaign;
  return campaign;
end;
$$;

--
-- Name: FUNCTION pause_campaign(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.pause_campaign(campaign_id bigint) IS 'Pauses a running campaign: the sending worker claims no more of its messages until it is resumed.';

--
-- Name: recompute_campaign_rollup(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.recompute_campaign_rollup(campaign_id bigint) RETURNS app_public.campaign_rollups
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $_$
declare
  rollup app_public.campaign_rollups;
  message_ids bigint[];
begin
  -- In chunks of 1,000 messages, the size of an ingest batch, so that a campaign of millions never makes one huge statement.
  for message_ids in
    select array_agg(id) from (
      select m.id, (row_number() over (order by m.id) - 1) / 1000 as chunk
      from app_public.messages as m where m.campaign_id = recompute_campaign_rollup.campaign_id
    ) as numbered
    group by chunk
  loop
    perform app_private.refresh_messages(message_ids);
  end loop;
  -- Every message of the campaign is now locked (refresh_messages, until commit), so no other transaction can be
  -- waiting to add to this rollup: rewrite it from the messages, by the rule of the incremental path.
  delete from app_public.campaign_rollups as r where r.campaign_id = recompute_campaign_rollup.campaign_id;
  execute 'insert into app_public.campaign_rollups select * from ('
    || app_private.rollup_delta_query('select 1 as sign, m.* from app_public.messages as m where m.campaign_id = $1')
    || ') as delta returning *'
  into rollup using campaign_id;
  if rollup.campaign_id is null then
    insert into app_public.campaign_rollups (campaign_id) values (recompute_campaign_rollup.campaign_id) returning * into rollup;
  end if;
  -- The opens and clicks per hour, rewritten from the events by the rule of the incremental path
  -- (engagement_hourly_delta_query), after the rollup row (the lock order of add_engagement_hourly).
  delete from app_public.campaign_engagement_hourly as h where h.campaign_id = recompute_campaign_rollup.campaign_id;
  execute 'insert into app_public.campaign_engagement_hourly select * from ('
    || app_private.engagement_hourly_delta_query(
         'select 1 as sign, me.campaign_id, me.occurred_at, me.kind, me.engagement_type, me.machine_reason, me.ignored_reason
          from app_public.message_events as me where me.campaign_id = $1')
    || ') as delta order by hour'
  using campaign_id;
  return rollup;
end;
$_$;

--
-- Name: FUNCTION recompute_campaign_rollup(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.recompute_campaign_rollup(campaign_id bigint) IS 'Repairs a campaign: re-derives its messages'' state from their events (refresh_messages) and rewrites its rollup from its messages (rollup_delta_query, the rule of the incremental path) and its opens and clicks per hour from its events (engagement_hourly_delta_query). Returns the new rollup. campaign_rollup_from_events computes the same numbers independently, from the raw events.';

--
-- Name: record_complaint(bigint, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.record_complaint(message_id bigint, detail text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  message app_public.messages;
begin
  select * into message from app_public.messages where id = record_complaint.message_id for update;
  if not found then
    raise exception 'message % does not exist', record_complaint.message_id using errcode = 'P0002';
  end if;
  if message.complained_at is not null then
    return false;
  end if;
  insert into app_public.bounces (subscriber_id, message_id, campaign_id, bounce_type, detail)
  values (message.subscriber_id, message.id, message.campaign_id, 'complaint', detail);
  update app_public.messages set complained_at = now() where id = message.id;
  return true;
end;
$$;

--
-- Name: FUNCTION record_complaint(message_id bigint, detail text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.record_complaint(message_id bigint, detail text) IS 'Records a spam complaint about a message (once per message); the complaint policy then applies.';

--
-- Name: resume_campaign(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.resume_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'paused' then
    raise exception 'campaign % is %; only a paused campaign can be resumed', campaign.id, campaign.status
      using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'running', paused_at = null where id = campaign.id;
  perform app_private.finish_campaigns_if_done(array[campaign.id]);
  select * into campaign from app_public.campaigns where id = campaign.id;
  if campaign.status = 'running' then
    perform app_private.queue_send_job(campaign.id);
  end if;
  return campaign;
end;
$$;

--
-- Name: FUNCTION resume_campaign(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.resume_campaign(campaign_id bigint) IS 'Resumes a paused campaign and queues send_campaign again.';

--
-- Name: schedule_campaign(bigint, timestamp with time zone); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  perform app_private.check_campaign_ready(campaign);
  if start_at is null or start_at <= now() then
    raise exception 'a campaign must be scheduled in the future (got %)', start_at using errcode = '22023';
  end if;
  update app_public.campaigns set status = 'scheduled', scheduled_at = start_at
  where id = campaign.id returning * into campaign;
  perform app_private.add_job('start_scheduled_campaign', json_build_object('campaignId', campaign.id),
                              run_at => start_at, job_key => 'start_scheduled_campaign:' || campaign.id);
  return campaign;
end;
$$;

--
-- Name: FUNCTION schedule_campaign(campaign_id bigint, start_at timestamp with time zone); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) IS 'Schedules a draft (or reschedules a scheduled) campaign; queues start_scheduled_campaign {"campaignId": id} to run then.';

--
-- Name: send_confirmations(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.send_confirmations(list_id bigint) RETURNS app_public.confirmation_request_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  list app_public.lists;
  result app_public.confirmation_request_result;
  eligible bigint[];
begin
  select * into list from app_public.lists as l where l.id = send_confirmations.list_id;
  if not found then
    raise exception 'list % does not exist', send_confirmations.list_id using errcode = 'P0002';
  end if;
  if list.opt_in <> 'double' then
    raise exception 'list "%" (%) is single opt-in: its members need no confirmation', list.name, list.id using errcode = '55000';
  end if;
  if list.confirmation_sender_id is null then
    raise exception 'list "%" (%) has no confirmation sender: set one first (mailroom lists set-opt-in % --confirmation-sender ID)',
      list.name, list.id, list.id using errcode = '55000';
  end if;
  with member as (
    select lm.subscriber_id, s.status <> 'enabled' as blocklisted,
      exists (select 1 from app_public.confirmations as c
              where c.list_id = list.id and c.subscriber_id = lm.subscriber_id and c.status in ('queued', 'sending')) as pending,
      exists (select 1 from app_public.confirmations as c
              where c.list_id = list.id and c.subscriber_id = lm.subscriber_id
                and c.created_at > now() - list.confirmation_resend_interval) as recent
    from app_public.list_memberships as lm
    join app_public.subscribers as s on s.id = lm.subscriber_id
    where lm.list_id = list.id and lm.status = 'unconfirmed'
  )
  select count(*) filter (where not m.blocklisted and m.pending),
         count(*) filter (where not m.blocklisted and not m.pending and m.recent),
         count(*) filter (where m.blocklisted),
         array_agg(m.subscriber_id order by m.subscriber_id) filter (where not m.blocklisted and not m.pending and not m.recent)
  into result.already_pending, result.sent_recently, result.blocklisted, eligible
  from member as m;
  result.queued := case when eligible is null then 0
                        else app_private.queue_confirmations(list.id, eligible, 'admin') end;
  return result;
end;
$$;

--
-- Name: FUNCTION send_confirmations(list_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.send_confirmations(list_id bigint) IS 'Queues a confirmation email, through the list''s confirmation sender and its quotas, to each unconfirmed member of a double opt-in list who has none waiting or in flight and none requested within the list''s confirmation_resend_interval (blocklisted subscribers never get one). Returns how many were queued and why the others were not.';

--
-- Name: test_sends; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.test_sends (
    id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    recipient text NOT NULL,
    subscriber_id bigint,
    internet_message_id text NOT NULL,
    operation_id uuid DEFAULT gen_random_uuid() NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    error text,
    delivery_status text,
    delivery_status_message text,
    delivery_status_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT test_sends_internet_message_id_check CHECK ((internet_message_id ~ '^<[0-9a-f-]{36}@[a-z0-9.-]+>$'::text)),
    CONSTRAINT test_sends_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'accepted'::text, 'failed'::text])))
);

--
-- Name: TABLE test_sends; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.test_sends IS 'Test emails: a campaign rendered and sent to one address through its sender (send_test_email), with its own Message-ID and operation id. Not messages: not in the rollups, and their events are never attributed to the campaign.';

--
-- Name: COLUMN test_sends.subscriber_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.test_sends.subscriber_id IS 'The subscriber with this address, when there is one: the email is rendered with their fields.';

--
-- Name: COLUMN test_sends.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.test_sends.status IS 'queued (the send_test_email job has not run yet), accepted (ACS answered 202) or failed (see error).';

--
-- Name: COLUMN test_sends.error; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.test_sends.error IS 'Why the test email failed: a template error, ACS''s error code and message, or no answer from ACS.';

--
-- Name: COLUMN test_sends.delivery_status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.test_sends.delivery_status IS 'The status of the latest delivery report Event Grid sent for it (Delivered, Bounced, ...).';

--
-- Name: COLUMN test_sends.sent_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.test_sends.sent_at IS 'When the outcome (accepted or failed) was recorded.';

--
-- Name: send_test_email(bigint, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.send_test_email(campaign_id bigint, email text) RETURNS app_public.test_sends
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
  select c.subject, c.html_body || c.text_body as bodies into content from app_private.campaign_content(campaign) as c;
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
$$;

--
-- Name: FUNCTION send_test_email(campaign_id bigint, email text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.send_test_email(campaign_id bigint, email text) IS 'Sends the campaign to one address as a test (subject prefixed "[Test] "), in any status of the campaign: checks the campaign (it exists, has a sender, its subject and bodies render) and the address (the subscribers'' email rule), records a test send with its own Message-ID and operation id, and queues the graphile-worker job send_test_email {"testSendId": id}. Returns the test send; its status becomes accepted or failed.';

--
-- Name: sender_window_open(app_public.senders, timestamp with time zone); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.sender_window_open(sender app_public.senders, at timestamp with time zone DEFAULT now()) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select case
    when sender.send_window_start is null then true
    when sender.send_window_start < sender.send_window_end
      then (at at time zone sender.send_window_time_zone)::time >= sender.send_window_start
       and (at at time zone sender.send_window_time_zone)::time < sender.send_window_end
    else (at at time zone sender.send_window_time_zone)::time >= sender.send_window_start
      or (at at time zone sender.send_window_time_zone)::time < sender.send_window_end
  end
$$;

--
-- Name: FUNCTION sender_window_open(sender app_public.senders, at timestamp with time zone); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) IS 'Whether the sender may send at the given time (default now) according to its send window, which may cross midnight.';

--
-- Name: senders_quota_use(app_public.senders); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.senders_quota_use(sender app_public.senders) RETURNS app_public.sender_quota_use
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select u.minute_sent, u.hour_sent, u.day_sent,
    -- greatest() ignores NULL: without the case, no quota (NULL) would read as nothing left (0).
    case when sender.per_minute_limit is not null then greatest(0, sender.per_minute_limit - u.minute_sent) end,
    case when sender.per_hour_limit is not null then greatest(0, sender.per_hour_limit - u.hour_sent) end,
    case when sender.per_day_limit is not null then greatest(0, sender.per_day_limit - u.day_sent) end,
    app_private.sender_capacity(sender),
    (select t.paused_until from app_private.sender_throttles as t where t.sender_id = sender.id and t.paused_until > now()),
    app_public.sender_window_open(sender)
  from (
    select coalesce(sum(s.sends) filter (where s.ends_at > now() - w.minute), 0)::integer as minute_sent,
      coalesce(sum(s.sends) filter (where s.ends_at > now() - 60 * w.minute), 0)::integer as hour_sent,
      coalesce(sum(s.sends), 0)::integer as day_sent
    from (select interval '1 minute' * app_private.quota_time_scale() as minute) as w
    left join app_private.sender_sends as s on s.sender_id = sender.id and s.ends_at > now() - 1440 * w.minute
    group by w.minute
  ) as u
$$;

--
-- Name: FUNCTION senders_quota_use(sender app_public.senders); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.senders_quota_use(sender app_public.senders) IS 'The sender''s quota use right now, in the windows the sending worker applies (app_private.sender_capacity).';

--
-- Name: set_sender_connection_string(bigint, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_sender_connection_string(sender_id bigint, connection_string text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  insert into app_private.sender_secrets (sender_id, connection_string)
  values (set_sender_connection_string.sender_id, set_sender_connection_string.connection_string)
  on conflict (sender_id) do update set connection_string = excluded.connection_string;
$$;

--
-- Name: FUNCTION set_sender_connection_string(sender_id bigint, connection_string text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_sender_connection_string(sender_id bigint, connection_string text) IS 'Stores the ACS connection string of a sender; it can be written but never read back through the API.';

--
-- Name: start_campaign(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.start_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
$$;

--
-- Name: FUNCTION start_campaign(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.start_campaign(campaign_id bigint) IS 'Starts a draft or scheduled campaign: fixes its engagement_tracking (its own, else its sender''s), creates one message per recipient (with its Message-ID and operation id) and queues the graphile-worker job send_campaign {"campaignId": id}, in one transaction. Fails when the campaign is already started, cancelled, has no sender, no lists or no recipients.';

--
-- Name: subscriber_timeline(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.subscriber_timeline(subscriber_id bigint) RETURNS TABLE(at timestamp with time zone, kind text, campaign_id bigint, campaign_name text, message_id bigint, list_id bigint, list_name text, status text, detail text, bounce_type text, url text, machine boolean, machine_reason text, source text, ignored_reason text, raw_event_id bigint)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select t.at, t.kind, t.campaign_id, c.name, t.message_id, t.list_id, l.name, t.status, t.detail, t.bounce_type,
    t.url, t.machine, t.machine_reason, t.source, t.ignored_reason, t.raw_event_id
  from (
    select coalesce(m.accepted_at, m.created_at) as at, 'message' as kind, 1 as rank, m.campaign_id, m.id as message_id,
      null::bigint as list_id, m.send_status as status, coalesce(m.send_status_reason, m.last_error) as detail,
      null::text as bounce_type, null::text as url, null::boolean as machine, null::text as machine_reason,
      null::text as source, null::text as ignored_reason, null::bigint as raw_event_id, null::bigint as row_id
    from app_public.messages as m
    where m.subscriber_id = subscriber_timeline.subscriber_id

    union all
    select me.occurred_at,
      case when me.kind = 'delivery_report' then 'delivery_report' when me.engagement_type = 'view' then 'open'
           else coalesce(me.engagement_type, 'engagement') end,
      case when me.kind = 'delivery_report' then 2 when me.engagement_type = 'view' then 3 else 4 end,
      me.campaign_id, me.message_id, null, me.status, me.status_message, me.bounce_type, me.url,
      case when me.kind = 'engagement' then me.machine_reason is not null end, me.machine_reason,
      me.engagement_source, me.ignored_reason, me.raw_event_id, null
    from app_public.messages as m
    join app_public.message_events as me on me.message_id = m.id
    where m.subscriber_id = subscriber_timeline.subscriber_id

    union all
    select u.created_at, 'unsubscribe', 5, u.campaign_id, u.message_id, null, null, null, null, null, null, null,
      u.source, null, null, u.id
    from app_public.unsubscribes as u
    where u.subscriber_id = subscriber_timeline.subscriber_id

    union all
    select b.occurred_at, case when b.bounce_type = 'complaint' then 'complaint' else 'bounce' end,
      case when b.bounce_type = 'complaint' then 6 else 7 end,
      b.campaign_id, b.message_id, null, b.status, b.detail, nullif(b.bounce_type, 'complaint'), null, null, null,
      null, null, null, b.id
    from app_public.bounces as b
    where b.subscriber_id = subscriber_timeline.subscriber_id
      and b.raw_event_id is null

    union all
    select x.at, x.kind, x.rank, null, null, lm.list_id, lm.status, null, null, null, null, null, null, null, null, null
    from app_public.list_memberships as lm
    cross join lateral (values
      (lm.created_at, 'list_joined', 8),
      (lm.confirmed_at, 'list_confirmed', 9),
      (lm.unsubscribed_at, 'list_unsubscribed', 10)
    ) as x(at, kind, rank)
    where lm.subscriber_id = subscriber_timeline.subscriber_id
      and x.at is not null
  ) as t
  left join app_public.campaigns as c on c.id = t.campaign_id
  left join app_public.lists as l on l.id = t.list_id
  order by t.at, t.rank, t.message_id nulls first, t.list_id nulls first, t.raw_event_id nulls first, t.row_id nulls first
$$;

--
-- Name: FUNCTION subscriber_timeline(subscriber_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.subscriber_timeline(subscriber_id bigint) IS 'Everything that happened to one subscriber, in time order, one row per fact: messages sent (kind message, with the send status), delivery reports, opens and clicks (url; machine and machine_reason, NULL reason = human; source azure or mailroom; ignored_reason when it counts nowhere), unsubscribes (source), complaints, bounces recorded without a delivery report, and list membership changes (list_joined, list_confirmed, list_unsubscribed). campaign_id and message_id say which campaign and message a row belongs to. Security invoker: the caller''s privileges and row level security apply.';

--
-- Name: template_errors(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.template_errors(content text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
declare
  -- {{{ field }}} (inserted as is) or {{ field }} (HTML-escaped in the HTML part); group 1 or 2 is the field.
  tag constant text := '\{\{\{\s*([^{}]*?)\s*\}\}\}|\{\{(?!\{)\s*([^{}]*?)\s*\}\}';
  fields constant text := '^(subscriber\.(email|name|id|attributes\.[A-Za-z0-9_-]+)|list\.(id|name)|campaign\.(id|name)|unsubscribe_url)$';
  source constant text := coalesce(content, '');
  errors text[] := '{}';
  at integer := 1;      -- the first character not read yet
  found integer;        -- where the next placeholder starts; 0 when there is none
  between text;         -- the literal text from `at` to the next placeholder (or the end)
  stray integer;
  placeholder text;
  field text;
  before text;
begin
  loop
    found := regexp_instr(source, tag, at);
    between := substr(source, at, case when found = 0 then length(source) + 1 - at else found - at end);
    stray := regexp_instr(between, '\{\{|\}\}');
    if stray > 0 then
      before := left(source, at + stray - 2);
      errors := errors || format('line %s: unbalanced braces: "%s" outside a {{ field }}',
                                 1 + length(before) - length(replace(before, E'\n', '')), substr(between, stray, 2));
    end if;
    exit when found = 0;
    placeholder := regexp_substr(source, tag, at);
    field := coalesce(regexp_substr(source, tag, at, 1, '', 1), regexp_substr(source, tag, at, 1, '', 2));
    if field !~ fields then
      before := left(source, found - 1);
      errors := errors || format('line %s: unknown field "%s" in %s',
                                 1 + length(before) - length(replace(before, E'\n', '')), field,
                                 regexp_replace(placeholder, '\s+', ' ', 'g'));
    end if;
    at := found + length(placeholder);
  end loop;
  return errors;
end;
$_$;

--
-- Name: FUNCTION template_errors(content text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.template_errors(content text) IS 'The errors of a template text (subject, HTML or text part), each "line N: ...": unknown fields with the placeholder as written, and unbalanced braces; empty when valid. The same list as the renderer''s (src/sending/template.ts).';

--
-- Name: unblocklist_subscriber(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.unblocklist_subscriber(subscriber_id bigint) RETURNS app_public.subscribers
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'enabled'
  where s.id = unblocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', unblocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$;

--
-- Name: FUNCTION unblocklist_subscriber(subscriber_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.unblocklist_subscriber(subscriber_id bigint) IS 'Takes a subscriber off the blocklist. Their bounces stay counted: the bounce policy may still stop sends to them.';

--
-- Name: unschedule_campaign(bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.unschedule_campaign(campaign_id bigint) RETURNS app_public.campaigns
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'scheduled' then
    raise exception 'campaign % is %, not scheduled', campaign.id, campaign.status using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'draft', scheduled_at = null where id = campaign.id returning * into campaign;
  return campaign;
end;
$$;

--
-- Name: FUNCTION unschedule_campaign(campaign_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.unschedule_campaign(campaign_id bigint) IS 'Turns a scheduled campaign back into a draft.';

--
-- Name: sender_failure_rates; Type: VIEW; Schema: app_hidden; Owner: -
--

CREATE VIEW app_hidden.sender_failure_rates WITH (security_invoker='true') AS
 SELECT s.id AS sender_id,
    w.name AS window_name,
    w.since,
    count(c.id) AS campaigns,
    (COALESCE(sum(r.accepted), (0)::numeric))::bigint AS accepted,
    (COALESCE(sum(((r.bounced_hard + r.bounced_soft) + r.suppressed)), (0)::numeric))::bigint AS failed,
    round((sum(((r.bounced_hard + r.bounced_soft) + r.suppressed)) / NULLIF(sum(r.accepted), (0)::numeric)), 4) AS failure_rate,
    COALESCE(((sum(((r.bounced_hard + r.bounced_soft) + r.suppressed)) / NULLIF(sum(r.accepted), (0)::numeric)) >= 0.02), false) AS above_threshold
   FROM (((app_public.senders s
     CROSS JOIN ( VALUES ('24 hours'::text,(now() - '24:00:00'::interval)), ('7 days'::text,(now() - '7 days'::interval))) w(name, since))
     LEFT JOIN app_public.campaigns c ON (((c.sender_id = s.id) AND (c.started_at IS NOT NULL) AND (COALESCE(c.finished_at, c.cancelled_at, 'infinity'::timestamp with time zone) >= w.since))))
     LEFT JOIN app_public.campaign_rollups r ON ((r.campaign_id = c.id)))
  GROUP BY s.id, w.name, w.since;

--
-- Name: VIEW sender_failure_rates; Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON VIEW app_hidden.sender_failure_rates IS 'Per sender and window (24 hours, 7 days): the campaigns sending in the window, their accepted messages, those that bounced or were suppressed (failed), failed / accepted (failure_rate) and whether it is 2% or more (above_threshold: Azure asks for less before raising sending limits). From campaign_rollups; a window counts whole campaigns.';

--
-- Name: api_keys; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.api_keys (
    id bigint NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    key_hash text NOT NULL,
    key_prefix text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_key_hash_check CHECK ((key_hash ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT api_keys_name_check CHECK ((name <> ''::text)),
    CONSTRAINT api_keys_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'analyst'::text])))
);

--
-- Name: TABLE api_keys; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.api_keys IS 'GraphQL API keys: the SHA-256 of each key (never the key), its role (admin: read and write; analyst: read only), an optional expiry and the time it was revoked. key_prefix is the start of the key, to recognise it.';

--
-- Name: api_keys_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: applied_sql_sources; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.applied_sql_sources (
    sha256 text NOT NULL,
    migration text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE applied_sql_sources; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.applied_sql_sources IS 'Each application of the files under migrations/sql (functions, views, triggers): their SHA-256 and the last migration applied before them. Mailroom applies them again at start when either differs.';

--
-- Name: dashboard_sessions; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.dashboard_sessions (
    token_hash text NOT NULL,
    api_key_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    CONSTRAINT dashboard_sessions_check CHECK ((expires_at > created_at)),
    CONSTRAINT dashboard_sessions_token_hash_check CHECK ((token_hash ~ '^[0-9a-f]{64}$'::text))
);

--
-- Name: TABLE dashboard_sessions; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.dashboard_sessions IS 'Dashboard sign-ins: the SHA-256 (hex) of the session cookie''s token, the API key signed in with (its role decides what the pages show and allow, through the same roles and row-level security as GraphQL), when it expires and when it was ended by signing out.';

--
-- Name: pending_events; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.pending_events (
    raw_event_id bigint NOT NULL,
    internet_message_id text,
    operation_id uuid,
    recipient text
);

--
-- Name: TABLE pending_events; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.pending_events IS 'Delivery and engagement events that matched no message yet, with their keys; attributed (and removed) the moment a matching message is inserted.';

--
-- Name: sender_secrets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.sender_secrets (
    sender_id bigint NOT NULL,
    connection_string text NOT NULL
);

--
-- Name: TABLE sender_secrets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.sender_secrets IS 'ACS connection strings (endpoint=...;accesskey=...). Never exposed.';

--
-- Name: sender_sends; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.sender_sends (
    id bigint NOT NULL,
    sender_id bigint NOT NULL,
    sends integer NOT NULL,
    reserved_at timestamp with time zone DEFAULT now() NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    settled boolean DEFAULT false NOT NULL,
    message_ids bigint[],
    CONSTRAINT sender_sends_sends_check CHECK ((sends > 0))
);

--
-- Name: TABLE sender_sends; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.sender_sends IS 'Batches of messages handed to a sender. While unsettled, ends_at is the end of the claim''s lease (the latest a request can reach ACS); once settled, when the last request ended, and sends is the number that may have counted at ACS (accepted, refused or unknown; not 429s or messages never sent). A claim whose worker died before recording it is settled by the look-ups of its messages: those ACS does not know are given back, and ends_at stays the end of the lease. A batch counts in a window while ends_at is inside it.';

--
-- Name: COLUMN sender_sends.message_ids; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.sender_sends.message_ids IS 'While unsettled: the claimed messages whose outcome is not known yet (ids of app_public.messages). NULL once settled, and for batches of confirmation emails (app_public.confirmations.sender_send_id names their batch).';

--
-- Name: sender_sends_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.sender_sends ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.sender_sends_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: sender_throttles; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.sender_throttles (
    sender_id bigint NOT NULL,
    paused_until timestamp with time zone NOT NULL,
    reason text NOT NULL
);

--
-- Name: TABLE sender_throttles; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.sender_throttles IS 'A sender paused until a time, after ACS answered 429 with Retry-After.';

--
-- Name: signing_secrets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.signing_secrets (
    name text NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT signing_secrets_secret_check CHECK ((length(secret) >= 32))
);

--
-- Name: TABLE signing_secrets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.signing_secrets IS 'Secrets generated on first use and shared by every process (unsubscribe: HMAC key of the List-Unsubscribe tokens). UNSUBSCRIBE_SECRET, when set, is used instead.';

--
-- Name: subscribe_rate_limits; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.subscribe_rate_limits (
    key text NOT NULL,
    window_start timestamp with time zone NOT NULL,
    hits integer NOT NULL
);

--
-- Name: TABLE subscribe_rate_limits; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.subscribe_rate_limits IS 'Requests to the public subscribe form per key (ip:ADDRESS, or email:SHA-256 of the lower-case address) in the window opened by the key''s first request (window_start); rows of ended windows are removed as new requests come (app_private.take_subscribe_allowance).';

--
-- Name: bounce_policies; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.bounce_policies (
    bounce_type text NOT NULL,
    threshold integer NOT NULL,
    action text NOT NULL,
    CONSTRAINT bounce_policies_action_check CHECK ((action = ANY (ARRAY['none'::text, 'unsubscribe'::text, 'blocklist'::text]))),
    CONSTRAINT bounce_policies_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text, 'complaint'::text]))),
    CONSTRAINT bounce_policies_threshold_check CHECK ((threshold >= 1))
);

--
-- Name: TABLE bounce_policies; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.bounce_policies IS 'What happens to a subscriber who has threshold or more bounces of a type: nothing, unsubscribe from every list, or blocklist. Subscribers the policy acts on are also skipped when a campaign starts.';

--
-- Name: bounce_rules; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.bounce_rules (
    id integer NOT NULL,
    "position" integer NOT NULL,
    status text NOT NULL,
    status_message_pattern text,
    bounce_type text,
    blocklist_subscriber boolean DEFAULT false NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    CONSTRAINT bounce_rules_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text])))
);

--
-- Name: TABLE bounce_rules; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.bounce_rules IS 'How a delivery report becomes a bounce: for a report''s status, the rule with the lowest position whose status_message_pattern (a case-insensitive regular expression, NULL = any) matches the status message. bounce_type NULL: not a bounce. blocklist_subscriber: blocklist the subscriber at once, counting no bounce.';

--
-- Name: bounce_rules_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.bounce_rules ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.bounce_rules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: bounces; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.bounces (
    id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    message_id bigint,
    campaign_id bigint,
    raw_event_id bigint,
    bounce_type text NOT NULL,
    status text,
    detail text,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bounces_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text, 'complaint'::text])))
);

--
-- Name: TABLE bounces; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.bounces IS 'Bounces (from delivery reports, by bounce_rules; at most one per event) and complaints, per subscriber. bounce_policies acts on their counts.';

--
-- Name: bounces_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.bounces ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.bounces_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: campaign_lists; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaign_lists (
    campaign_id bigint NOT NULL,
    list_id bigint NOT NULL
);

--
-- Name: TABLE campaign_lists; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaign_lists IS 'The lists a campaign goes to; changeable while the campaign is a draft or scheduled.';

--
-- Name: campaign_senders; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaign_senders (
    campaign_id bigint NOT NULL,
    sender_id bigint NOT NULL
);

--
-- Name: TABLE campaign_senders; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaign_senders IS 'More senders for a campaign besides campaigns.sender_id; each claim gives messages to the senders with the most remaining capacity. Message-IDs keep the domain of the campaign''s own sender.';

--
-- Name: campaign_stats; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.campaign_stats WITH (security_invoker='true') AS
 SELECT r.campaign_id,
    r.recipients,
    r.queued,
    r.sending,
    r.accepted,
    r.send_failed,
    r.cancelled,
    r.skipped,
    r.delivered,
    r.expanded,
    r.bounced_hard,
    r.bounced_soft,
    r.suppressed,
    r.filtered_spam,
    r.quarantined,
    r.delivery_failed,
    r.unknown_status,
    r.unique_opens_human,
    r.unique_opens,
    r.opens_human,
    r.opens,
    r.unique_clicks_human,
    r.unique_clicks,
    r.clicks_human,
    r.clicks,
    r.unsubscribes,
    r.complaints,
    r.opens_human_azure,
    r.opens_human_mailroom,
    r.clicks_human_azure,
    r.clicks_human_mailroom,
    c.name,
    c.status,
    round(((r.unique_opens_human)::numeric / (NULLIF(r.delivered, 0))::numeric), 4) AS open_rate,
    round(((r.unique_clicks_human)::numeric / (NULLIF(r.delivered, 0))::numeric), 4) AS click_rate
   FROM (app_public.campaign_rollups r
     JOIN app_public.campaigns c ON ((c.id = r.campaign_id)));

--
-- Name: VIEW campaign_stats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.campaign_stats IS 'A campaign''s rollup with its rates: open_rate and click_rate are unique human opens / clicks over delivered messages.';

--
-- Name: campaign_status_transitions; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.campaign_status_transitions (
    from_status text NOT NULL,
    to_status text NOT NULL
);

--
-- Name: TABLE campaign_status_transitions; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.campaign_status_transitions IS 'The legal changes of a campaign''s status.';

--
-- Name: campaigns_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaigns ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.campaigns_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: confirmations; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.confirmations (
    id bigint NOT NULL,
    list_id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    recipient text NOT NULL,
    internet_message_id text NOT NULL,
    operation_id uuid DEFAULT gen_random_uuid() NOT NULL,
    requested_by text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    error text,
    send_attempts integer DEFAULT 0 NOT NULL,
    lease_expires_at timestamp with time zone,
    sender_send_id bigint,
    delivery_status text,
    delivery_status_message text,
    delivery_status_at timestamp with time zone,
    confirmed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT confirmations_internet_message_id_check CHECK ((internet_message_id ~ '^<[0-9a-f-]{36}@[a-z0-9.-]+>$'::text)),
    CONSTRAINT confirmations_requested_by_check CHECK ((requested_by = ANY (ARRAY['admin'::text, 'subscribe form'::text]))),
    CONSTRAINT confirmations_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'accepted'::text, 'failed'::text, 'cancelled'::text])))
);

--
-- Name: TABLE confirmations; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.confirmations IS 'Confirmation emails of double opt-in: one per request, to one member of one list, through the list''s confirmation sender and its quotas, with its own Message-ID and operation id. Not messages: in no campaign and no rollup; their delivery reports set delivery_status.';

--
-- Name: COLUMN confirmations.requested_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.confirmations.requested_by IS 'admin (send_confirmations) or subscribe form (the public form).';

--
-- Name: COLUMN confirmations.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.confirmations.status IS 'queued (waiting for the sender''s quota or send window), sending (handed to ACS, or in doubt until its lease ends and it is looked up), accepted (ACS answered 202), failed (see error), cancelled (the member was confirmed, left or was blocklisted before it was sent).';

--
-- Name: COLUMN confirmations.sender_send_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.confirmations.sender_send_id IS 'The quota reservation (app_private.sender_sends) it was sent under.';

--
-- Name: COLUMN confirmations.confirmed_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.confirmations.confirmed_at IS 'When its link confirmed the membership (POST).';

--
-- Name: confirmations_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.confirmations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.confirmations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: delivery_statuses; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.delivery_statuses (
    status text NOT NULL,
    precedence integer NOT NULL,
    description text DEFAULT ''::text NOT NULL
);

--
-- Name: TABLE delivery_statuses; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.delivery_statuses IS 'The delivery report statuses ACS documents and their precedence. When several delivery reports arrive for one message, the message''s delivery status is the report with the highest precedence; ties go to the latest deliveryAttemptTimestamp, then the latest event. An unknown status has precedence 0. Arrival order never matters.';

--
-- Name: message_events; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.message_events (
    raw_event_id bigint NOT NULL,
    message_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    attributed_by text NOT NULL,
    attributed_at timestamp with time zone DEFAULT now() NOT NULL,
    kind text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    status text,
    status_message text,
    bounce_type text,
    blocklists boolean DEFAULT false NOT NULL,
    engagement_type text,
    url text,
    user_agent_reason text,
    machine_reason text,
    engagement_source text,
    request_reason text,
    honeypot boolean DEFAULT false NOT NULL,
    ignored_reason text,
    CONSTRAINT message_events_attributed_by_check CHECK ((attributed_by = ANY (ARRAY['internet_message_id'::text, 'operation_id_and_recipient'::text, 'operation_id'::text, 'tracking_token'::text]))),
    CONSTRAINT message_events_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT message_events_engagement_source_check CHECK ((engagement_source = ANY (ARRAY['azure'::text, 'mailroom'::text]))),
    CONSTRAINT message_events_kind_check CHECK ((kind = ANY (ARRAY['delivery_report'::text, 'engagement'::text])))
);

--
-- Name: TABLE message_events; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.message_events IS 'Each delivery report and engagement event attributed to a message: which key matched, when, and what it means (status, bounce type, view or click, URL, machine or human). Inserted exactly once per raw event, only by the attribution triggers; raw_event_id, message_id and campaign_id refer to raw_events, messages and campaigns (not declared as foreign keys: a check per row would cost more than the whole insert).';

--
-- Name: COLUMN message_events.attributed_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.attributed_by IS 'internet_message_id, operation_id_and_recipient, operation_id (event without recipient, one-recipient message), or tracking_token (Mailroom''s own hit: the signed token names the message).';

--
-- Name: COLUMN message_events.user_agent_reason; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.user_agent_reason IS 'Set when the user agent matches machine_user_agents; it depends on the event alone.';

--
-- Name: COLUMN message_events.machine_reason; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.machine_reason IS 'Why this engagement is counted as machine (user agent, too soon after acceptance, burst of clicks); NULL = human. Set when the event is attributed; re-evaluated when another click arrives for the message, when its acceptance time changes, and by recompute_campaign_rollup (which also applies engagement_settings changed since).';

--
-- Name: COLUMN message_events.engagement_source; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.engagement_source IS 'Engagement: azure (an Event Grid engagement event) or mailroom (Mailroom''s open pixel or click redirect).';

--
-- Name: COLUMN message_events.request_reason; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.request_reason IS 'Why the request itself is a machine''s (Mailroom hits: a HEAD request, the honeypot link, an address in machine_ip_ranges); it depends on the event alone.';

--
-- Name: COLUMN message_events.honeypot; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.honeypot IS 'A hit on the hidden honeypot link of the message.';

--
-- Name: COLUMN message_events.ignored_reason; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.message_events.ignored_reason IS 'Why this engagement event counts nowhere, neither human nor machine: a click on an unsubscribe link, a source the campaign does not count, or an Azure event that Mailroom''s own hit of the same message already counts (campaigns tracking both). NULL = it counts.';

--
-- Name: link_clicks; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.link_clicks WITH (security_invoker='true') AS
 SELECT me.message_id,
    me.campaign_id,
    me.url,
    count(*) FILTER (WHERE (me.machine_reason IS NULL)) AS clicks_human,
    count(*) FILTER (WHERE (me.machine_reason IS NOT NULL)) AS clicks_machine,
    min(me.occurred_at) AS first_clicked_at,
    max(me.occurred_at) AS last_clicked_at,
    count(*) FILTER (WHERE ((me.machine_reason IS NULL) AND (me.engagement_source = 'azure'::text))) AS clicks_human_azure,
    count(*) FILTER (WHERE ((me.machine_reason IS NULL) AND (me.engagement_source = 'mailroom'::text))) AS clicks_human_mailroom
   FROM app_public.message_events me
  WHERE ((me.kind = 'engagement'::text) AND (me.engagement_type = 'click'::text) AND (me.ignored_reason IS NULL) AND (NOT me.honeypot))
  GROUP BY me.message_id, me.campaign_id, me.url;

--
-- Name: VIEW link_clicks; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.link_clicks IS 'Clicks that count, per message and original URL (a Mailroom tracking URL is shown as the link it stands for), human and machine, and the human ones by source. Clicks on unsubscribe links, the honeypot link and engagement that counts nowhere (message_events.ignored_reason) are left out.';

--
-- Name: list_memberships; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.list_memberships (
    list_id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    status text DEFAULT 'unconfirmed'::text NOT NULL,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmed_at timestamp with time zone,
    unsubscribed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT list_memberships_status_check CHECK ((status = ANY (ARRAY['unconfirmed'::text, 'confirmed'::text, 'unsubscribed'::text])))
);

--
-- Name: TABLE list_memberships; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.list_memberships IS 'Who is on which list, with the status and when it changed.';

--
-- Name: lists_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.lists ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.lists_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: machine_ip_ranges; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.machine_ip_ranges (
    id integer NOT NULL,
    range cidr NOT NULL,
    kind text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    source text DEFAULT ''::text NOT NULL,
    CONSTRAINT machine_ip_ranges_kind_check CHECK ((kind = ANY (ARRAY['image proxy'::text, 'privacy protection'::text, 'link scanner'::text])))
);

--
-- Name: TABLE machine_ip_ranges; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.machine_ip_ranges IS 'Address ranges of image proxies, privacy relays and link scanners: a Mailroom hit from one of them is machine. Data: edit it as the vendors publish changes (docs/sending.md names the sources).';

--
-- Name: COLUMN machine_ip_ranges.source; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.machine_ip_ranges.source IS 'Where the range is published.';

--
-- Name: machine_ip_ranges_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.machine_ip_ranges ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.machine_ip_ranges_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: machine_user_agents; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.machine_user_agents (
    id integer NOT NULL,
    pattern text NOT NULL,
    kind text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    CONSTRAINT machine_user_agents_kind_check CHECK ((kind = ANY (ARRAY['image proxy'::text, 'privacy protection'::text, 'link scanner'::text])))
);

--
-- Name: TABLE machine_user_agents; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.machine_user_agents IS 'User agents of machines that open or click on behalf of a recipient: case-insensitive regular expressions.';

--
-- Name: machine_user_agents_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.machine_user_agents ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.machine_user_agents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: messages; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.messages (
    id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    recipient text NOT NULL,
    internet_message_id text NOT NULL,
    operation_id uuid DEFAULT app_private.uuid_v7() NOT NULL,
    send_status text DEFAULT 'queued'::text NOT NULL,
    send_status_reason text,
    send_attempts integer DEFAULT 0 NOT NULL,
    lease_expires_at timestamp with time zone,
    last_error text,
    accepted_at timestamp with time zone,
    delivery_status text,
    delivery_status_message text,
    delivery_status_at timestamp with time zone,
    bounce_type text,
    opens_human integer DEFAULT 0 NOT NULL,
    opens_machine integer DEFAULT 0 NOT NULL,
    clicks_human integer DEFAULT 0 NOT NULL,
    clicks_machine integer DEFAULT 0 NOT NULL,
    first_opened_at timestamp with time zone,
    last_opened_at timestamp with time zone,
    first_clicked_at timestamp with time zone,
    last_clicked_at timestamp with time zone,
    unsubscribed_at timestamp with time zone,
    complained_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    opens_human_mailroom integer DEFAULT 0 NOT NULL,
    clicks_human_mailroom integer DEFAULT 0 NOT NULL,
    CONSTRAINT messages_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT messages_send_status_check CHECK ((send_status = ANY (ARRAY['queued'::text, 'sending'::text, 'accepted'::text, 'failed'::text, 'cancelled'::text, 'skipped'::text])))
)
WITH (fillfactor='70');

--
-- Name: TABLE messages; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.messages IS 'The ledger: one row per (campaign, subscriber), created by start_campaign with its Message-ID and ACS operation id, so that every event can be attributed by exact keys. Send columns are written by the sending worker; delivery and engagement columns are derived from message_events and never written by hand.';

--
-- Name: COLUMN messages.recipient; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.recipient IS 'The address the message is sent to (the subscriber''s email at start).';

--
-- Name: COLUMN messages.internet_message_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.internet_message_id IS 'The RFC 5322 Message-ID <uuid@sending-domain> (a version 7 UUID), generated when the row is created; sent as the Message-ID header.';

--
-- Name: COLUMN messages.operation_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.operation_id IS 'The ACS operation id (a version 7 UUID), generated when the row is created; sent as the Operation-Id request header and returned as messageId in events.';

--
-- Name: COLUMN messages.send_status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.send_status IS 'queued (waiting), sending (claimed by a worker until lease_expires_at), accepted (ACS answered 202), failed (ACS refused it or attempts ran out), cancelled (the campaign was cancelled first), skipped (not sent, e.g. the subscriber was blocklisted meanwhile; see send_status_reason).';

--
-- Name: COLUMN messages.send_attempts; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.send_attempts IS 'How many times a worker has tried to send it.';

--
-- Name: COLUMN messages.lease_expires_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.lease_expires_at IS 'While sending: when the claim expires and another worker may take the message again.';

--
-- Name: COLUMN messages.last_error; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.last_error IS 'The last error from ACS or the worker.';

--
-- Name: COLUMN messages.accepted_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.accepted_at IS 'When ACS accepted it (202).';

--
-- Name: COLUMN messages.delivery_status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.delivery_status IS 'From delivery reports, by precedence (see delivery_statuses); an unknown status as received.';

--
-- Name: COLUMN messages.bounce_type; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.bounce_type IS 'hard or soft, from the delivery report that set the delivery status.';

--
-- Name: COLUMN messages.opens_human; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.opens_human IS 'Views judged human; opens_machine: by proxies, privacy protection, scanners.';

--
-- Name: COLUMN messages.first_opened_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.first_opened_at IS 'First and last human views and clicks.';

--
-- Name: COLUMN messages.opens_human_mailroom; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.messages.opens_human_mailroom IS 'Of opens_human, those seen by Mailroom''s own open pixel (the rest are Azure''s); likewise clicks_human_mailroom.';

--
-- Name: messages_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: raw_events; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.raw_events (
    id bigint NOT NULL,
    source text DEFAULT ''::text NOT NULL,
    event_id text,
    event_schema text NOT NULL,
    event_type text,
    subject text,
    event_time timestamp with time zone,
    event jsonb,
    internet_message_id text,
    operation_id uuid,
    recipient text,
    sender text,
    status text,
    status_message text,
    engagement_type text,
    engagement_context text,
    user_agent text,
    occurred_at timestamp with time zone,
    problem text,
    subscription_name text,
    delivery_count integer,
    times_received integer DEFAULT 1 NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    last_received_at timestamp with time zone DEFAULT now() NOT NULL,
    event_text text,
    ip_address inet,
    http_method text,
    honeypot boolean,
    CONSTRAINT raw_events_event_schema_check CHECK ((event_schema = ANY (ARRAY['eventgrid'::text, 'cloudevents'::text]))),
    CONSTRAINT raw_events_times_received_check CHECK ((times_received >= 1))
);

--
-- Name: TABLE raw_events; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.raw_events IS 'Every event Event Grid delivered, as received, one row per (source topic, event id) whatever the number of deliveries. Written only by app_private.ingest_events; everything else about messages is derived from it.';

--
-- Name: COLUMN raw_events.source; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.source IS 'The topic (Event Grid schema) or source (CloudEvents): the ACS resource. Compared case-insensitively.';

--
-- Name: COLUMN raw_events.event_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event_id IS 'The event id given by Event Grid; unique per source. NULL only for an event that had none (see problem).';

--
-- Name: COLUMN raw_events.event_schema; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event_schema IS 'eventgrid or cloudevents: the envelope it came in.';

--
-- Name: COLUMN raw_events.event_type; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event_type IS 'eventType / type as received, e.g. Microsoft.Communication.EmailDeliveryReportReceived. Unknown types are kept.';

--
-- Name: COLUMN raw_events.event_time; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event_time IS 'eventTime / time of the envelope.';

--
-- Name: COLUMN raw_events.event; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event IS 'The event exactly as received (envelope and data); NULL once removed by retention (RAW_EVENT_RETENTION_DAYS). Everything Mailroom derives from an event is in the other columns and in message_events, and stays.';

--
-- Name: COLUMN raw_events.internet_message_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.internet_message_id IS 'data.internetMessageId, normalised (lower case, angle brackets): the RFC Message-ID Mailroom set on the message.';

--
-- Name: COLUMN raw_events.operation_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.operation_id IS 'data.messageId when it is a UUID: the ACS operation id of the send request.';

--
-- Name: COLUMN raw_events.recipient; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.recipient IS 'data.recipient, trimmed and in lower case.';

--
-- Name: COLUMN raw_events.sender; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.sender IS 'data.sender (the from-address), trimmed and in lower case.';

--
-- Name: COLUMN raw_events.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.status IS 'Delivery reports: data.status in ACS''s spelling (Delivered, Expanded, Bounced, Suppressed, FilteredSpam, Quarantined, Failed) whatever the case received; an unknown status as received.';

--
-- Name: COLUMN raw_events.status_message; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.status_message IS 'Delivery reports: data.deliveryStatusDetails.statusMessage.';

--
-- Name: COLUMN raw_events.engagement_type; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.engagement_type IS 'Engagement reports: data.engagementType in lower case (view, click).';

--
-- Name: COLUMN raw_events.engagement_context; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.engagement_context IS 'Engagement reports: data.engagementContext, the clicked URL for a click.';

--
-- Name: COLUMN raw_events.user_agent; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.user_agent IS 'Engagement reports: data.userAgent.';

--
-- Name: COLUMN raw_events.occurred_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.occurred_at IS 'When it happened: deliveryAttemptTimestamp / userActionTimestamp (either spelling), else the event time.';

--
-- Name: COLUMN raw_events.problem; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.problem IS 'Why the event could not be interpreted (not an object, missing id, missing type, unparseable time, ...); NULL for a good event. Such events are kept but have no effects.';

--
-- Name: COLUMN raw_events.subscription_name; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.subscription_name IS 'The aeg-subscription-name header of its first delivery.';

--
-- Name: COLUMN raw_events.delivery_count; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.delivery_count IS 'The highest aeg-delivery-count header seen for this event.';

--
-- Name: COLUMN raw_events.times_received; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.times_received IS 'How many times this event was received (1 + duplicates).';

--
-- Name: COLUMN raw_events.received_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.received_at IS 'When it was first received.';

--
-- Name: COLUMN raw_events.last_received_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.last_received_at IS 'When it was last received.';

--
-- Name: COLUMN raw_events.event_text; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.event_text IS 'The event as received (JSON text), kept when it could not be stored as jsonb or under its own keys (a NUL character or a lone surrogate in a string, nesting too deep, an id or source too long for the index); event is then NULL and problem says why. NULL for every other event.';

--
-- Name: COLUMN raw_events.ip_address; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.ip_address IS 'Mailroom tracking hits: the client''s address (data.ipAddress); truncated to its /24 (IPv4) or /48 (IPv6) after TRACKING_IP_RETENTION_DAYS.';

--
-- Name: COLUMN raw_events.http_method; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.http_method IS 'Mailroom tracking hits: GET or HEAD.';

--
-- Name: COLUMN raw_events.honeypot; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.honeypot IS 'Mailroom tracking hits: true for the hidden link no person sees.';

--
-- Name: monitor_attribution_lag; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_attribution_lag WITH (security_invoker='true') AS
 SELECT me.attributed_by,
    count(*) AS events,
    percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY ((EXTRACT(epoch FROM (me.attributed_at - e.received_at)))::double precision)) AS p50_seconds,
    percentile_cont((0.95)::double precision) WITHIN GROUP (ORDER BY ((EXTRACT(epoch FROM (me.attributed_at - e.received_at)))::double precision)) AS p95_seconds,
    percentile_cont((0.99)::double precision) WITHIN GROUP (ORDER BY ((EXTRACT(epoch FROM (me.attributed_at - e.received_at)))::double precision)) AS p99_seconds,
    max(EXTRACT(epoch FROM (me.attributed_at - e.received_at))) AS max_seconds,
    (GROUPING(me.attributed_by) = 1) AS is_total
   FROM (app_public.message_events me
     JOIN app_public.raw_events e ON ((e.id = me.raw_event_id)))
  WHERE (me.attributed_at > (now() - '1 day'::interval))
  GROUP BY ROLLUP(me.attributed_by);

--
-- Name: VIEW monitor_attribution_lag; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_attribution_lag IS 'Seconds from receiving an event to attributing it, over the last day, per key used (attributed_by), and over all keys together (the row with is_total true, attributed_by NULL).';

--
-- Name: COLUMN monitor_attribution_lag.attributed_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.monitor_attribution_lag.attributed_by IS 'The key the events were attributed by: internet_message_id, operation_id_and_recipient, operation_id; NULL on the row of all keys (is_total).';

--
-- Name: COLUMN monitor_attribution_lag.is_total; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.monitor_attribution_lag.is_total IS 'True on the one row that counts the events attributed by every key together.';

--
-- Name: monitor_engagement_last_hour; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_engagement_last_hour WITH (security_invoker='true') AS
 SELECT me.campaign_id,
    c.name,
    count(*) FILTER (WHERE ((me.engagement_type = 'view'::text) AND (me.machine_reason IS NULL))) AS opens_human,
    count(*) FILTER (WHERE ((me.engagement_type = 'view'::text) AND (me.machine_reason IS NOT NULL))) AS opens_machine,
    count(*) FILTER (WHERE ((me.engagement_type = 'click'::text) AND (me.machine_reason IS NULL))) AS clicks_human,
    count(*) FILTER (WHERE ((me.engagement_type = 'click'::text) AND (me.machine_reason IS NOT NULL))) AS clicks_machine
   FROM (app_public.message_events me
     JOIN app_public.campaigns c ON ((c.id = me.campaign_id)))
  WHERE ((me.kind = 'engagement'::text) AND (me.ignored_reason IS NULL) AND (me.occurred_at > (now() - '01:00:00'::interval)))
  GROUP BY me.campaign_id, c.name;

--
-- Name: VIEW monitor_engagement_last_hour; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_engagement_last_hour IS 'Opens and clicks in the last hour, per campaign.';

--
-- Name: monitor_hourly_engagement; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_hourly_engagement WITH (security_invoker='true') AS
 SELECT h.campaign_id,
    h.hour,
    h.opens_human,
    h.opens,
    h.clicks_human,
    h.clicks
   FROM app_public.campaign_engagement_hourly h
  WHERE ((h.opens <> 0) OR (h.clicks <> 0));

--
-- Name: VIEW monitor_hourly_engagement; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_hourly_engagement IS 'Opens and clicks per campaign and UTC hour, for charts: the rows of campaign_engagement_hourly with something in them.';

--
-- Name: monitor_message_id_coverage; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_message_id_coverage WITH (security_invoker='true') AS
 SELECT m.campaign_id,
    count(*) AS messages,
    count(m.internet_message_id) AS with_message_id,
    round(((100.0 * (count(m.internet_message_id))::numeric) / (NULLIF(count(*), 0))::numeric), 2) AS percent_with_message_id,
    count(m.operation_id) AS with_operation_id
   FROM app_public.messages m
  GROUP BY m.campaign_id;

--
-- Name: VIEW monitor_message_id_coverage; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_message_id_coverage IS 'Share of messages with a Message-ID and an operation id, per campaign: 100% by construction (NOT NULL, set at creation).';

--
-- Name: monitor_problem_events; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_problem_events WITH (security_invoker='true') AS
 SELECT e.id,
    e.source,
    e.event_id,
    e.problem,
    e.received_at,
    e.event,
    e.event_text
   FROM app_public.raw_events e
  WHERE (e.problem IS NOT NULL);

--
-- Name: VIEW monitor_problem_events; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_problem_events IS 'Events that could not be interpreted or stored as JSON, with the reason and the event as received; kept, never dropped.';

--
-- Name: monitor_unattributed_events; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.monitor_unattributed_events WITH (security_invoker='false') AS
 SELECT COALESCE(e.sender, '(none)'::text) AS sender,
        CASE
            WHEN ((now() - e.received_at) < '00:05:00'::interval) THEN '1: < 5 min'::text
            WHEN ((now() - e.received_at) < '01:00:00'::interval) THEN '2: < 1 h'::text
            WHEN ((now() - e.received_at) < '1 day'::interval) THEN '3: < 1 day'::text
            ELSE '4: >= 1 day'::text
        END AS age,
    count(*) AS events,
    min(e.received_at) AS oldest_received_at
   FROM (app_private.pending_events p
     JOIN app_public.raw_events e ON ((e.id = p.raw_event_id)))
  GROUP BY COALESCE(e.sender, '(none)'::text),
        CASE
            WHEN ((now() - e.received_at) < '00:05:00'::interval) THEN '1: < 5 min'::text
            WHEN ((now() - e.received_at) < '01:00:00'::interval) THEN '2: < 1 h'::text
            WHEN ((now() - e.received_at) < '1 day'::interval) THEN '3: < 1 day'::text
            ELSE '4: >= 1 day'::text
        END;

--
-- Name: VIEW monitor_unattributed_events; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.monitor_unattributed_events IS 'Unattributed delivery and engagement events by sender and age.';

--
-- Name: raw_events_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.raw_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.raw_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: senders_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.senders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.senders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: subscribers_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.subscribers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.subscribers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: templates; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.templates (
    id bigint NOT NULL,
    name text NOT NULL,
    subject text DEFAULT ''::text NOT NULL,
    html_body text DEFAULT ''::text NOT NULL,
    text_body text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE templates; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.templates IS 'Reusable subject and bodies; a campaign copies or overrides them.';

--
-- Name: templates_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.templates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.templates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: test_sends_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.test_sends ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.test_sends_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: unattributed_events; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.unattributed_events WITH (security_invoker='false') AS
 SELECT e.id,
    e.source,
    e.event_id,
    e.event_type,
    e.sender,
    e.recipient,
    e.internet_message_id,
    e.operation_id,
    e.occurred_at,
    e.received_at,
    (now() - e.received_at) AS age
   FROM (app_private.pending_events p
     JOIN app_public.raw_events e ON ((e.id = p.raw_event_id)));

--
-- Name: VIEW unattributed_events; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.unattributed_events IS 'Delivery and engagement events that match no message (yet). They are attributed as soon as a matching message appears.';

--
-- Name: unsubscribes; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.unsubscribes (
    id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    message_id bigint,
    campaign_id bigint,
    source text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE unsubscribes; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.unsubscribes IS 'Unsubscriptions, with the message (and campaign) they came from when known; one per message.';

--
-- Name: unsubscribes_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.unsubscribes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.unsubscribes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

--
-- Name: applied_sql_sources applied_sql_sources_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.applied_sql_sources
    ADD CONSTRAINT applied_sql_sources_pkey PRIMARY KEY (sha256, migration);

--
-- Name: dashboard_sessions dashboard_sessions_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_pkey PRIMARY KEY (token_hash);

--
-- Name: pending_events pending_events_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.pending_events
    ADD CONSTRAINT pending_events_pkey PRIMARY KEY (raw_event_id);

--
-- Name: sender_secrets sender_secrets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_secrets
    ADD CONSTRAINT sender_secrets_pkey PRIMARY KEY (sender_id);

--
-- Name: sender_sends sender_sends_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_sends
    ADD CONSTRAINT sender_sends_pkey PRIMARY KEY (id);

--
-- Name: sender_throttles sender_throttles_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_throttles
    ADD CONSTRAINT sender_throttles_pkey PRIMARY KEY (sender_id);

--
-- Name: signing_secrets signing_secrets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.signing_secrets
    ADD CONSTRAINT signing_secrets_pkey PRIMARY KEY (name);

--
-- Name: subscribe_rate_limits subscribe_rate_limits_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.subscribe_rate_limits
    ADD CONSTRAINT subscribe_rate_limits_pkey PRIMARY KEY (key);

--
-- Name: bounce_policies bounce_policies_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounce_policies
    ADD CONSTRAINT bounce_policies_pkey PRIMARY KEY (bounce_type);

--
-- Name: bounce_rules bounce_rules_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounce_rules
    ADD CONSTRAINT bounce_rules_pkey PRIMARY KEY (id);

--
-- Name: bounce_rules bounce_rules_status_position_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounce_rules
    ADD CONSTRAINT bounce_rules_status_position_key UNIQUE (status, "position");

--
-- Name: bounces bounces_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_pkey PRIMARY KEY (id);

--
-- Name: bounces bounces_raw_event_id_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_raw_event_id_key UNIQUE (raw_event_id);

--
-- Name: campaign_engagement_hourly campaign_engagement_hourly_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_engagement_hourly
    ADD CONSTRAINT campaign_engagement_hourly_pkey PRIMARY KEY (campaign_id, hour);

--
-- Name: campaign_lists campaign_lists_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_pkey PRIMARY KEY (campaign_id, list_id);

--
-- Name: campaign_rollups campaign_rollups_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_rollups
    ADD CONSTRAINT campaign_rollups_pkey PRIMARY KEY (campaign_id);

--
-- Name: campaign_senders campaign_senders_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_pkey PRIMARY KEY (campaign_id, sender_id);

--
-- Name: campaign_status_transitions campaign_status_transitions_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_status_transitions
    ADD CONSTRAINT campaign_status_transitions_pkey PRIMARY KEY (from_status, to_status);

--
-- Name: campaigns campaigns_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);

--
-- Name: confirmations confirmations_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.confirmations
    ADD CONSTRAINT confirmations_pkey PRIMARY KEY (id);

--
-- Name: delivery_statuses delivery_statuses_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.delivery_statuses
    ADD CONSTRAINT delivery_statuses_pkey PRIMARY KEY (status);

--
-- Name: engagement_settings engagement_settings_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.engagement_settings
    ADD CONSTRAINT engagement_settings_pkey PRIMARY KEY (id);

--
-- Name: list_memberships list_memberships_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_pkey PRIMARY KEY (list_id, subscriber_id);

--
-- Name: lists lists_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.lists
    ADD CONSTRAINT lists_pkey PRIMARY KEY (id);

--
-- Name: machine_ip_ranges machine_ip_ranges_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.machine_ip_ranges
    ADD CONSTRAINT machine_ip_ranges_pkey PRIMARY KEY (id);

--
-- Name: machine_ip_ranges machine_ip_ranges_range_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.machine_ip_ranges
    ADD CONSTRAINT machine_ip_ranges_range_key UNIQUE (range);

--
-- Name: machine_user_agents machine_user_agents_pattern_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.machine_user_agents
    ADD CONSTRAINT machine_user_agents_pattern_key UNIQUE (pattern);

--
-- Name: machine_user_agents machine_user_agents_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.machine_user_agents
    ADD CONSTRAINT machine_user_agents_pkey PRIMARY KEY (id);

--
-- Name: message_events message_events_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.message_events
    ADD CONSTRAINT message_events_pkey PRIMARY KEY (raw_event_id);

--
-- Name: messages messages_campaign_id_subscriber_id_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.messages
    ADD CONSTRAINT messages_campaign_id_subscriber_id_key UNIQUE (campaign_id, subscriber_id);

--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);

--
-- Name: raw_events raw_events_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.raw_events
    ADD CONSTRAINT raw_events_pkey PRIMARY KEY (id);

--
-- Name: senders senders_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.senders
    ADD CONSTRAINT senders_pkey PRIMARY KEY (id);

--
-- Name: subscribers subscribers_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.subscribers
    ADD CONSTRAINT subscribers_pkey PRIMARY KEY (id);

--
-- Name: templates templates_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.templates
    ADD CONSTRAINT templates_pkey PRIMARY KEY (id);

--
-- Name: test_sends test_sends_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_pkey PRIMARY KEY (id);

--
-- Name: unsubscribes unsubscribes_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_pkey PRIMARY KEY (id);

--
-- Name: dashboard_sessions_api_key_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX dashboard_sessions_api_key_id_idx ON app_private.dashboard_sessions USING btree (api_key_id);

--
-- Name: pending_events_internet_message_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX pending_events_internet_message_id_idx ON app_private.pending_events USING btree (internet_message_id);

--
-- Name: pending_events_operation_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX pending_events_operation_id_idx ON app_private.pending_events USING btree (operation_id);

--
-- Name: sender_sends_open_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX sender_sends_open_idx ON app_private.sender_sends USING btree (sender_id) WHERE (NOT settled);

--
-- Name: sender_sends_sender_id_ends_at_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX sender_sends_sender_id_ends_at_idx ON app_private.sender_sends USING btree (sender_id, ends_at);

--
-- Name: subscribe_rate_limits_window_start_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX subscribe_rate_limits_window_start_idx ON app_private.subscribe_rate_limits USING btree (window_start);

--
-- Name: bounces_campaign_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX bounces_campaign_id_idx ON app_public.bounces USING btree (campaign_id);

--
-- Name: bounces_message_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX bounces_message_id_idx ON app_public.bounces USING btree (message_id);

--
-- Name: bounces_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX bounces_subscriber_id_idx ON app_public.bounces USING btree (subscriber_id);

--
-- Name: campaign_lists_list_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX campaign_lists_list_id_idx ON app_public.campaign_lists USING btree (list_id);

--
-- Name: campaign_senders_sender_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX campaign_senders_sender_id_idx ON app_public.campaign_senders USING btree (sender_id);

--
-- Name: campaigns_sender_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX campaigns_sender_id_idx ON app_public.campaigns USING btree (sender_id);

--
-- Name: campaigns_template_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX campaigns_template_id_idx ON app_public.campaigns USING btree (template_id);

--
-- Name: confirmations_internet_message_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX confirmations_internet_message_id_key ON app_public.confirmations USING btree (internet_message_id);

--
-- Name: confirmations_list_id_subscriber_id_created_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX confirmations_list_id_subscriber_id_created_at_idx ON app_public.confirmations USING btree (list_id, subscriber_id, created_at);

--
-- Name: confirmations_operation_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX confirmations_operation_id_key ON app_public.confirmations USING btree (operation_id);

--
-- Name: confirmations_pending_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX confirmations_pending_key ON app_public.confirmations USING btree (list_id, subscriber_id) WHERE (status = ANY (ARRAY['queued'::text, 'sending'::text]));

--
-- Name: confirmations_sender_id_status_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX confirmations_sender_id_status_idx ON app_public.confirmations USING btree (sender_id, id) WHERE (status = ANY (ARRAY['queued'::text, 'sending'::text]));

--
-- Name: confirmations_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX confirmations_subscriber_id_idx ON app_public.confirmations USING btree (subscriber_id);

--
-- Name: list_memberships_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX list_memberships_subscriber_id_idx ON app_public.list_memberships USING btree (subscriber_id);

--
-- Name: lists_confirmation_sender_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX lists_confirmation_sender_id_idx ON app_public.lists USING btree (confirmation_sender_id);

--
-- Name: machine_ip_ranges_range_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX machine_ip_ranges_range_idx ON app_public.machine_ip_ranges USING gist (range inet_ops);

--
-- Name: message_events_campaign_id_occurred_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX message_events_campaign_id_occurred_at_idx ON app_public.message_events USING btree (campaign_id, occurred_at);

--
-- Name: message_events_counted_clicks_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX message_events_counted_clicks_idx ON app_public.message_events USING btree (campaign_id, url, message_id) INCLUDE (machine_reason) WHERE ((kind = 'engagement'::text) AND (engagement_type = 'click'::text) AND (ignored_reason IS NULL) AND (NOT honeypot));

--
-- Name: message_events_message_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX message_events_message_id_idx ON app_public.message_events USING btree (message_id);

--
-- Name: messages_internet_message_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX messages_internet_message_id_key ON app_public.messages USING btree (internet_message_id);

--
-- Name: messages_not_sent_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX messages_not_sent_idx ON app_public.messages USING btree (campaign_id) WHERE (send_status = ANY (ARRAY['failed'::text, 'skipped'::text]));

--
-- Name: messages_operation_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX messages_operation_id_key ON app_public.messages USING btree (operation_id);

--
-- Name: messages_queued_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX messages_queued_idx ON app_public.messages USING btree (campaign_id, id) WHERE (send_status = 'queued'::text);

--
-- Name: messages_sender_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX messages_sender_id_idx ON app_public.messages USING btree (sender_id);

--
-- Name: messages_sending_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX messages_sending_idx ON app_public.messages USING btree (lease_expires_at) WHERE (send_status = 'sending'::text);

--
-- Name: messages_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX messages_subscriber_id_idx ON app_public.messages USING btree (subscriber_id);

--
-- Name: raw_events_payload_received_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX raw_events_payload_received_at_idx ON app_public.raw_events USING btree (received_at) WHERE (event IS NOT NULL);

--
-- Name: raw_events_received_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX raw_events_received_at_idx ON app_public.raw_events USING btree (received_at);

--
-- Name: raw_events_source_event_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX raw_events_source_event_id_key ON app_public.raw_events USING btree (lower(source), event_id);

--
-- Name: raw_events_whole_ip_address_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX raw_events_whole_ip_address_idx ON app_public.raw_events USING btree (received_at) WHERE ((ip_address IS NOT NULL) AND (masklen(ip_address) = ANY (ARRAY[32, 128])));

--
-- Name: senders_from_address_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX senders_from_address_key ON app_public.senders USING btree (lower(from_address));

--
-- Name: subscribers_email_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX subscribers_email_key ON app_public.subscribers USING btree (lower(email));

--
-- Name: test_sends_campaign_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX test_sends_campaign_id_idx ON app_public.test_sends USING btree (campaign_id);

--
-- Name: test_sends_internet_message_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX test_sends_internet_message_id_key ON app_public.test_sends USING btree (internet_message_id);

--
-- Name: test_sends_operation_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX test_sends_operation_id_key ON app_public.test_sends USING btree (operation_id);

--
-- Name: test_sends_sender_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX test_sends_sender_id_idx ON app_public.test_sends USING btree (sender_id);

--
-- Name: test_sends_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX test_sends_subscriber_id_idx ON app_public.test_sends USING btree (subscriber_id);

--
-- Name: unsubscribes_message_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX unsubscribes_message_id_key ON app_public.unsubscribes USING btree (message_id);

--
-- Name: unsubscribes_subscriber_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX unsubscribes_subscriber_id_idx ON app_public.unsubscribes USING btree (subscriber_id);

--
-- Name: api_keys _900_notify; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _900_notify AFTER DELETE OR UPDATE OR TRUNCATE ON app_private.api_keys FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_api_keys__notify();

--
-- Name: messages _050_internet_message_id; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _050_internet_message_id BEFORE INSERT ON app_public.messages FOR EACH ROW WHEN (((new.internet_message_id IS NULL) OR (NOT COALESCE(app_private.is_internet_message_id(new.internet_message_id), false)))) EXECUTE FUNCTION app_private.tg_messages__internet_message_id();

--
-- Name: messages _060_keys_immutable; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _060_keys_immutable BEFORE UPDATE ON app_public.messages FOR EACH ROW WHEN (((new.campaign_id IS DISTINCT FROM old.campaign_id) OR (new.subscriber_id IS DISTINCT FROM old.subscriber_id) OR (new.recipient IS DISTINCT FROM old.recipient) OR (new.internet_message_id IS DISTINCT FROM old.internet_message_id) OR (new.operation_id IS DISTINCT FROM old.operation_id))) EXECUTE FUNCTION app_private.tg_messages__keys_immutable();

--
-- Name: campaigns _100_referred_to_by_messages; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_referred_to_by_messages BEFORE DELETE ON app_public.campaigns FOR EACH ROW EXECUTE FUNCTION app_private.tg__referred_to_by_messages();

--
-- Name: senders _100_referred_to_by_messages; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_referred_to_by_messages BEFORE DELETE ON app_public.senders FOR EACH ROW EXECUTE FUNCTION app_private.tg__referred_to_by_messages();

--
-- Name: subscribers _100_referred_to_by_messages; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_referred_to_by_messages BEFORE DELETE ON app_public.subscribers FOR EACH ROW EXECUTE FUNCTION app_private.tg__referred_to_by_messages();

--
-- Name: campaigns _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.campaigns FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: list_memberships _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.list_memberships FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: lists _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.lists FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: messages _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE UPDATE ON app_public.messages FOR EACH ROW WHEN (((new.updated_at <= old.updated_at) OR (new.created_at IS DISTINCT FROM old.created_at))) EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: senders _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.senders FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: subscribers _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.subscribers FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: templates _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.templates FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: senders _200_defaults; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_defaults BEFORE INSERT OR UPDATE ON app_public.senders FOR EACH ROW EXECUTE FUNCTION app_private.tg_senders__defaults();

--
-- Name: campaign_lists _200_editable; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_editable BEFORE INSERT OR DELETE OR UPDATE ON app_public.campaign_lists FOR EACH ROW EXECUTE FUNCTION app_private.tg_campaign_lists__editable();

--
-- Name: subscribers _200_normalize; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_normalize BEFORE INSERT OR UPDATE OF email ON app_public.subscribers FOR EACH ROW EXECUTE FUNCTION app_private.tg_subscribers__normalize();

--
-- Name: campaigns _200_status; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_status BEFORE UPDATE ON app_public.campaigns FOR EACH ROW EXECUTE FUNCTION app_private.tg_campaigns__status();

--
-- Name: list_memberships _200_status_changed; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_status_changed BEFORE INSERT OR UPDATE OF status ON app_public.list_memberships FOR EACH ROW EXECUTE FUNCTION app_private.tg_list_memberships__status_changed();

--
-- Name: lists _300_check_confirmation; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _300_check_confirmation BEFORE INSERT OR UPDATE OF confirmation_subject, confirmation_html, confirmation_text ON app_public.lists FOR EACH ROW EXECUTE FUNCTION app_private.tg_lists__check_confirmation();

--
-- Name: campaigns _300_check_content; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _300_check_content BEFORE UPDATE OF status ON app_public.campaigns FOR EACH ROW WHEN (((new.status = ANY (ARRAY['scheduled'::text, 'running'::text])) AND (old.status = ANY (ARRAY['draft'::text, 'scheduled'::text])))) EXECUTE FUNCTION app_private.tg_campaigns__check_content();

--
-- Name: raw_events _500_attribute_events; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_attribute_events AFTER INSERT ON app_public.raw_events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_raw_events__attribute();

--
-- Name: bounces _500_policy; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_policy AFTER INSERT ON app_public.bounces REFERENCING NEW TABLE AS new_bounces FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_bounces__policy();

--
-- Name: campaign_rollups _900_notify; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _900_notify AFTER INSERT OR UPDATE ON app_public.campaign_rollups FOR EACH ROW EXECUTE FUNCTION app_private.tg_campaign_rollups__notify();

--
-- Name: messages _900_rollup_delete; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _900_rollup_delete AFTER DELETE ON app_public.messages REFERENCING OLD TABLE AS old_messages FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_messages__rollup();

--
-- Name: messages _900_rollup_insert; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _900_rollup_insert AFTER INSERT ON app_public.messages REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_messages__rollup();

--
-- Name: messages _900_rollup_update; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _900_rollup_update AFTER UPDATE ON app_public.messages REFERENCING OLD TABLE AS old_messages NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_messages__rollup();

--
-- Name: messages _950_attribute_pending; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _950_attribute_pending AFTER INSERT ON app_public.messages REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_messages__attribute_pending();

--
-- Name: dashboard_sessions dashboard_sessions_api_key_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.dashboard_sessions
    ADD CONSTRAINT dashboard_sessions_api_key_id_fkey FOREIGN KEY (api_key_id) REFERENCES app_private.api_keys(id) ON DELETE CASCADE;

--
-- Name: sender_secrets sender_secrets_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_secrets
    ADD CONSTRAINT sender_secrets_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

--
-- Name: sender_sends sender_sends_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_sends
    ADD CONSTRAINT sender_sends_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

--
-- Name: sender_throttles sender_throttles_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.sender_throttles
    ADD CONSTRAINT sender_throttles_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

--
-- Name: bounces bounces_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id);

--
-- Name: bounces bounces_message_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_message_id_fkey FOREIGN KEY (message_id) REFERENCES app_public.messages(id);

--
-- Name: bounces bounces_raw_event_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_raw_event_id_fkey FOREIGN KEY (raw_event_id) REFERENCES app_public.raw_events(id);

--
-- Name: bounces bounces_subscriber_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

--
-- Name: campaign_engagement_hourly campaign_engagement_hourly_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_engagement_hourly
    ADD CONSTRAINT campaign_engagement_hourly_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

--
-- Name: campaign_lists campaign_lists_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

--
-- Name: campaign_lists campaign_lists_list_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_list_id_fkey FOREIGN KEY (list_id) REFERENCES app_public.lists(id) ON DELETE CASCADE;

--
-- Name: campaign_rollups campaign_rollups_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_rollups
    ADD CONSTRAINT campaign_rollups_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

--
-- Name: campaign_senders campaign_senders_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

--
-- Name: campaign_senders campaign_senders_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id);

--
-- Name: campaigns campaigns_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id);

--
-- Name: campaigns campaigns_template_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_template_id_fkey FOREIGN KEY (template_id) REFERENCES app_public.templates(id) ON DELETE SET NULL;

--
-- Name: confirmations confirmations_list_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.confirmations
    ADD CONSTRAINT confirmations_list_id_fkey FOREIGN KEY (list_id) REFERENCES app_public.lists(id) ON DELETE CASCADE;

--
-- Name: confirmations confirmations_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.confirmations
    ADD CONSTRAINT confirmations_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

--
-- Name: confirmations confirmations_subscriber_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.confirmations
    ADD CONSTRAINT confirmations_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

--
-- Name: list_memberships list_memberships_list_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_list_id_fkey FOREIGN KEY (list_id) REFERENCES app_public.lists(id) ON DELETE CASCADE;

--
-- Name: list_memberships list_memberships_subscriber_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

--
-- Name: lists lists_confirmation_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.lists
    ADD CONSTRAINT lists_confirmation_sender_id_fkey FOREIGN KEY (confirmation_sender_id) REFERENCES app_public.senders(id);

--
-- Name: test_sends test_sends_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

--
-- Name: test_sends test_sends_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

--
-- Name: test_sends test_sends_subscriber_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE SET NULL;

--
-- Name: unsubscribes unsubscribes_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id);

--
-- Name: unsubscribes unsubscribes_message_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_message_id_fkey FOREIGN KEY (message_id) REFERENCES app_public.messages(id);

--
-- Name: unsubscribes unsubscribes_subscriber_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

--
-- Name: bounce_policies; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.bounce_policies ENABLE ROW LEVEL SECURITY;

--
-- Name: bounce_rules; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.bounce_rules ENABLE ROW LEVEL SECURITY;

--
-- Name: bounces; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.bounces ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_engagement_hourly; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaign_engagement_hourly ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_lists; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaign_lists ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_rollups; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaign_rollups ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_senders; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaign_senders ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_status_transitions; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaign_status_transitions ENABLE ROW LEVEL SECURITY;

--
-- Name: campaigns; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.campaigns ENABLE ROW LEVEL SECURITY;

--
-- Name: confirmations; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.confirmations ENABLE ROW LEVEL SECURITY;

--
-- Name: bounce_rules delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.bounce_rules FOR DELETE TO mailroom_admin USING (true);

--
-- Name: campaign_lists delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.campaign_lists FOR DELETE TO mailroom_admin USING (true);

--
-- Name: campaign_senders delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.campaign_senders FOR DELETE TO mailroom_admin USING (true);

--
-- Name: campaigns delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.campaigns FOR DELETE TO mailroom_admin USING ((status = 'draft'::text));

--
-- Name: list_memberships delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.list_memberships FOR DELETE TO mailroom_admin USING (true);

--
-- Name: lists delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.lists FOR DELETE TO mailroom_admin USING (true);

--
-- Name: machine_ip_ranges delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.machine_ip_ranges FOR DELETE TO mailroom_admin USING (true);

--
-- Name: machine_user_agents delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.machine_user_agents FOR DELETE TO mailroom_admin USING (true);

--
-- Name: senders delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.senders FOR DELETE TO mailroom_admin USING (true);

--
-- Name: subscribers delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.subscribers FOR DELETE TO mailroom_admin USING (true);

--
-- Name: templates delete_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY delete_admin ON app_public.templates FOR DELETE TO mailroom_admin USING (true);

--
-- Name: delivery_statuses; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.delivery_statuses ENABLE ROW LEVEL SECURITY;

--
-- Name: engagement_settings; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.engagement_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: bounce_rules insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.bounce_rules FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: campaign_lists insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.campaign_lists FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: campaign_senders insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.campaign_senders FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: campaigns insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.campaigns FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: delivery_statuses insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.delivery_statuses FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: list_memberships insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.list_memberships FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: lists insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.lists FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: machine_ip_ranges insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.machine_ip_ranges FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: machine_user_agents insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.machine_user_agents FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: senders insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.senders FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: subscribers insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.subscribers FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: templates insert_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY insert_admin ON app_public.templates FOR INSERT TO mailroom_admin WITH CHECK (true);

--
-- Name: list_memberships; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.list_memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: lists; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.lists ENABLE ROW LEVEL SECURITY;

--
-- Name: machine_ip_ranges; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.machine_ip_ranges ENABLE ROW LEVEL SECURITY;

--
-- Name: machine_user_agents; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.machine_user_agents ENABLE ROW LEVEL SECURITY;

--
-- Name: message_events; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.message_events ENABLE ROW LEVEL SECURITY;

--
-- Name: messages; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.messages ENABLE ROW LEVEL SECURITY;

--
-- Name: raw_events; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.raw_events ENABLE ROW LEVEL SECURITY;

--
-- Name: bounce_policies select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.bounce_policies FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: bounce_rules select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.bounce_rules FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: bounces select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.bounces FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaign_engagement_hourly select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaign_engagement_hourly FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaign_lists select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaign_lists FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaign_rollups select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaign_rollups FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaign_senders select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaign_senders FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaign_status_transitions select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaign_status_transitions FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: campaigns select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.campaigns FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: confirmations select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.confirmations FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: delivery_statuses select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.delivery_statuses FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: engagement_settings select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.engagement_settings FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: list_memberships select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.list_memberships FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: lists select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.lists FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: machine_ip_ranges select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.machine_ip_ranges FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: machine_user_agents select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.machine_user_agents FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: message_events select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.message_events FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: messages select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.messages FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: raw_events select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.raw_events FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: senders select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.senders FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: subscribers select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.subscribers FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: templates select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.templates FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: test_sends select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.test_sends FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: unsubscribes select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.unsubscribes FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: senders; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.senders ENABLE ROW LEVEL SECURITY;

--
-- Name: subscribers; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.subscribers ENABLE ROW LEVEL SECURITY;

--
-- Name: templates; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.templates ENABLE ROW LEVEL SECURITY;

--
-- Name: test_sends; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.test_sends ENABLE ROW LEVEL SECURITY;

--
-- Name: unsubscribes; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.unsubscribes ENABLE ROW LEVEL SECURITY;

--
-- Name: bounce_policies update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.bounce_policies FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: bounce_rules update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.bounce_rules FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: campaigns update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.campaigns FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: delivery_statuses update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.delivery_statuses FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: engagement_settings update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.engagement_settings FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: list_memberships update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.list_memberships FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: lists update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.lists FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: machine_ip_ranges update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.machine_ip_ranges FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: machine_user_agents update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.machine_user_agents FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: senders update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.senders FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: subscribers update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.subscribers FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: templates update_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_admin ON app_public.templates FOR UPDATE TO mailroom_admin USING (true) WITH CHECK (true);

--
-- Name: SCHEMA app_hidden; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_hidden TO mailroom_admin;
GRANT USAGE ON SCHEMA app_hidden TO mailroom_readonly;
GRANT USAGE ON SCHEMA app_hidden TO mailroom_authenticator;

--
-- Name: SCHEMA app_public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_public TO mailroom_admin;
GRANT USAGE ON SCHEMA app_public TO mailroom_readonly;

--
-- Name: SCHEMA public; Type: ACL; Schema: -; Owner: -
--

REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO mailroom;
GRANT USAGE ON SCHEMA public TO mailroom_admin;
GRANT USAGE ON SCHEMA public TO mailroom_readonly;

--
-- Name: FUNCTION advisory_lock_id(name text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.advisory_lock_id(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.advisory_lock_id(name text) TO mailroom_admin;

--
-- Name: FUNCTION authenticate_api_key(key_hash text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.authenticate_api_key(key_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.authenticate_api_key(key_hash text) TO mailroom_authenticator;

--
-- Name: FUNCTION campaign_engagement_over_time(campaign_id bigint); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.campaign_engagement_over_time(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.campaign_engagement_over_time(campaign_id bigint) TO mailroom_admin;
GRANT ALL ON FUNCTION app_hidden.campaign_engagement_over_time(campaign_id bigint) TO mailroom_readonly;

--
-- Name: FUNCTION confirmation_template_errors(content text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.confirmation_template_errors(content text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.confirmation_template_errors(content text) TO mailroom_admin;

--
-- Name: FUNCTION dashboard_session(token_hash text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.dashboard_session(token_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.dashboard_session(token_hash text) TO mailroom_authenticator;

--
-- Name: FUNCTION end_dashboard_session(token_hash text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.end_dashboard_session(token_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.end_dashboard_session(token_hash text) TO mailroom_authenticator;

--
-- Name: FUNCTION start_dashboard_session(key_hash text, token_hash text, hours double precision); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) TO mailroom_authenticator;

--
-- Name: FUNCTION subscriber_email_problem(email text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.subscriber_email_problem(email text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.subscriber_email_problem(email text) TO mailroom_admin;

--
-- Name: TABLE campaign_engagement_hourly; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.campaign_engagement_hourly TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_engagement_hourly TO mailroom_readonly;

--
-- Name: FUNCTION add_engagement_hourly(delta app_public.campaign_engagement_hourly[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.add_engagement_hourly(delta app_public.campaign_engagement_hourly[]) FROM PUBLIC;

--
-- Name: FUNCTION add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer) FROM PUBLIC;

--
-- Name: FUNCTION attribute_events(raw_event_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.attribute_events(raw_event_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION attribute_new_events(raw_event_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.attribute_new_events(raw_event_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION attribute_pending(raw_event_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.attribute_pending(raw_event_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION attribute_pending_events(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.attribute_pending_events() FROM PUBLIC;

--
-- Name: TABLE campaigns; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.campaigns TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaigns TO mailroom_readonly;

--
-- Name: COLUMN campaigns.name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.template_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(template_id),UPDATE(template_id) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.sender_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(sender_id),UPDATE(sender_id) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.subject; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(subject),UPDATE(subject) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.html_body; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(html_body),UPDATE(html_body) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.text_body; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(text_body),UPDATE(text_body) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: COLUMN campaigns.engagement_tracking; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(engagement_tracking),UPDATE(engagement_tracking) ON TABLE app_public.campaigns TO mailroom_admin;

--
-- Name: FUNCTION campaign_content(campaign app_public.campaigns, OUT subject text, OUT html_body text, OUT text_body text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.campaign_content(campaign app_public.campaigns, OUT subject text, OUT html_body text, OUT text_body text) FROM PUBLIC;

--
-- Name: FUNCTION campaign_events_from_raw(campaign_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.campaign_events_from_raw(campaign_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION check_campaign_content(campaign app_public.campaigns); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.check_campaign_content(campaign app_public.campaigns) FROM PUBLIC;

--
-- Name: FUNCTION check_campaign_ready(campaign app_public.campaigns); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.check_campaign_ready(campaign app_public.campaigns) FROM PUBLIC;

--
-- Name: FUNCTION claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.claim_confirmations(sender_id bigint, max_confirmations integer, lease_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.claim_messages(campaign_id bigint, max_messages integer, lease_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION confirm_subscription(confirmation_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.confirm_subscription(confirmation_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION confirmation_link_state(confirmation_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.confirmation_link_state(confirmation_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION confirmations_next_send_at(sender_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.confirmations_next_send_at(sender_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text) FROM PUBLIC;

--
-- Name: FUNCTION engagement_hourly_delta_query(changes text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.engagement_hourly_delta_query(changes text) FROM PUBLIC;

--
-- Name: FUNCTION engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text) FROM PUBLIC;

--
-- Name: TABLE engagement_settings; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.engagement_settings TO mailroom_admin;
GRANT SELECT ON TABLE app_public.engagement_settings TO mailroom_readonly;

--
-- Name: COLUMN engagement_settings.minimum_seconds_after_acceptance; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(minimum_seconds_after_acceptance) ON TABLE app_public.engagement_settings TO mailroom_admin;

--
-- Name: COLUMN engagement_settings.burst_distinct_links; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(burst_distinct_links) ON TABLE app_public.engagement_settings TO mailroom_admin;

--
-- Name: COLUMN engagement_settings.burst_seconds; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(burst_seconds) ON TABLE app_public.engagement_settings TO mailroom_admin;

--
-- Name: COLUMN engagement_settings.source_overlap_seconds; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(source_overlap_seconds) ON TABLE app_public.engagement_settings TO mailroom_admin;

--
-- Name: FUNCTION engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings) FROM PUBLIC;

--
-- Name: FUNCTION engagement_source(event_type text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.engagement_source(event_type text) FROM PUBLIC;

--
-- Name: FUNCTION event_kind(event_type text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.event_kind(event_type text) FROM PUBLIC;

--
-- Name: FUNCTION fail_queued_messages(campaign_id bigint, reason text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.fail_queued_messages(campaign_id bigint, reason text) FROM PUBLIC;

--
-- Name: FUNCTION finish_campaigns_if_done(campaign_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.finish_campaigns_if_done(campaign_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION hold_worker_lock(pool_id text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.hold_worker_lock(pool_id text) FROM PUBLIC;

--
-- Name: FUNCTION ingest_events(batch jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.ingest_events(batch jsonb) FROM PUBLIC;

--
-- Name: FUNCTION ingest_job(job_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.ingest_job(job_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION is_internet_message_id(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.is_internet_message_id(value text) FROM PUBLIC;

--
-- Name: FUNCTION lock_campaign(campaign_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.lock_campaign(campaign_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION new_internet_message_id(sending_domain text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.new_internet_message_id(sending_domain text) FROM PUBLIC;

--
-- Name: FUNCTION next_send_at(campaign_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.next_send_at(campaign_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION normalize_delivery_status(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.normalize_delivery_status(value text) FROM PUBLIC;

--
-- Name: FUNCTION normalize_internet_message_id(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.normalize_internet_message_id(value text) FROM PUBLIC;

--
-- Name: FUNCTION pause_sender(sender_id bigint, pause_ms bigint, reason text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) FROM PUBLIC;

--
-- Name: FUNCTION queue_confirmation_job(sender_id bigint, run_at timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.queue_confirmation_job(sender_id bigint, run_at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.queue_confirmations(list_id bigint, subscriber_ids bigint[], requested_by text, include_unsubscribed boolean) FROM PUBLIC;

--
-- Name: FUNCTION queue_send_job(campaign_id bigint, run_at timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.queue_send_job(campaign_id bigint, run_at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION queue_sending_jobs(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.queue_sending_jobs() FROM PUBLIC;

--
-- Name: FUNCTION queued_test_send(test_send_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.queued_test_send(test_send_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION quota_time_scale(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.quota_time_scale() FROM PUBLIC;

--
-- Name: FUNCTION record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_confirmation_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) FROM PUBLIC;

--
-- Name: FUNCTION record_other_email_reports(raw_event_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_other_email_reports(raw_event_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_send_outcomes(outcomes jsonb, retry_base_ms integer, max_attempts integer) FROM PUBLIC;

--
-- Name: FUNCTION refresh_messages(message_ids bigint[]); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.refresh_messages(message_ids bigint[]) FROM PUBLIC;

--
-- Name: FUNCTION release_jobs_of_dead_workers(locked_before timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.release_jobs_of_dead_workers(locked_before timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION release_worker_lock(pool_id text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.release_worker_lock(pool_id text) FROM PUBLIC;

--
-- Name: FUNCTION remove_raw_event_payloads(older_than interval, max_rows integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.remove_raw_event_payloads(older_than interval, max_rows integer) FROM PUBLIC;

--
-- Name: FUNCTION request_machine_reason(http_method text, honeypot boolean, ip_address inet); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet) FROM PUBLIC;

--
-- Name: FUNCTION rollup_delta_query(changes text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.rollup_delta_query(changes text) FROM PUBLIC;

--
-- Name: FUNCTION schedule_sending(campaign_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.schedule_sending(campaign_id bigint) FROM PUBLIC;

--
-- Name: TABLE senders; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.senders TO mailroom_admin;
GRANT SELECT ON TABLE app_public.senders TO mailroom_readonly;

--
-- Name: COLUMN senders.name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.from_address; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(from_address),UPDATE(from_address) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.display_name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(display_name),UPDATE(display_name) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.sending_domain; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(sending_domain),UPDATE(sending_domain) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.acs_endpoint; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(acs_endpoint),UPDATE(acs_endpoint) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.per_minute_limit; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(per_minute_limit),UPDATE(per_minute_limit) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.per_hour_limit; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(per_hour_limit),UPDATE(per_hour_limit) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.per_day_limit; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(per_day_limit),UPDATE(per_day_limit) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.send_window_start; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(send_window_start),UPDATE(send_window_start) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.send_window_end; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(send_window_end),UPDATE(send_window_end) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.send_window_time_zone; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(send_window_time_zone),UPDATE(send_window_time_zone) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: COLUMN senders.engagement_tracking; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(engagement_tracking),UPDATE(engagement_tracking) ON TABLE app_public.senders TO mailroom_admin;

--
-- Name: FUNCTION sender_available_at(sender app_public.senders, at timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.sender_available_at(sender app_public.senders, at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION sender_capacity(sender app_public.senders, at timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.sender_capacity(sender app_public.senders, at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION signing_secret(name text, candidate text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.signing_secret(name text, candidate text) FROM PUBLIC;

--
-- Name: FUNCTION start_scheduled_campaign(campaign_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.start_scheduled_campaign(campaign_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.store_unreadable_event(event_text text, event_id text, source text, delivery jsonb, problem text) FROM PUBLIC;

--
-- Name: FUNCTION subscribe(list_id bigint, email text, name text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.subscribe(list_id bigint, email text, name text) FROM PUBLIC;

--
-- Name: FUNCTION take_subscribe_allowance(keys text[], limits integer[], window_seconds integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.take_subscribe_allowance(keys text[], limits integer[], window_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION tg__add_job(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__add_job() FROM PUBLIC;

--
-- Name: FUNCTION tg__referred_to_by_messages(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__referred_to_by_messages() FROM PUBLIC;

--
-- Name: FUNCTION tg__timestamps(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__timestamps() FROM PUBLIC;

--
-- Name: FUNCTION tg_api_keys__notify(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_api_keys__notify() FROM PUBLIC;

--
-- Name: FUNCTION tg_bounces__policy(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_bounces__policy() FROM PUBLIC;

--
-- Name: FUNCTION tg_campaign_lists__editable(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_campaign_lists__editable() FROM PUBLIC;

--
-- Name: FUNCTION tg_campaign_rollups__notify(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_campaign_rollups__notify() FROM PUBLIC;

--
-- Name: FUNCTION tg_campaigns__check_content(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_campaigns__check_content() FROM PUBLIC;

--
-- Name: FUNCTION tg_campaigns__status(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_campaigns__status() FROM PUBLIC;

--
-- Name: FUNCTION tg_list_memberships__status_changed(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_list_memberships__status_changed() FROM PUBLIC;

--
-- Name: FUNCTION tg_lists__check_confirmation(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_lists__check_confirmation() FROM PUBLIC;

--
-- Name: FUNCTION tg_messages__attribute_pending(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_messages__attribute_pending() FROM PUBLIC;

--
-- Name: FUNCTION tg_messages__internet_message_id(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_messages__internet_message_id() FROM PUBLIC;

--
-- Name: FUNCTION tg_messages__keys_immutable(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_messages__keys_immutable() FROM PUBLIC;

--
-- Name: FUNCTION tg_messages__rollup(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_messages__rollup() FROM PUBLIC;

--
-- Name: FUNCTION tg_raw_events__attribute(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_raw_events__attribute() FROM PUBLIC;

--
-- Name: FUNCTION tg_senders__defaults(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_senders__defaults() FROM PUBLIC;

--
-- Name: FUNCTION tg_subscribers__normalize(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_subscribers__normalize() FROM PUBLIC;

--
-- Name: FUNCTION to_inet(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.to_inet(value text) FROM PUBLIC;

--
-- Name: FUNCTION to_timestamptz(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.to_timestamptz(value text) FROM PUBLIC;

--
-- Name: FUNCTION to_uuid(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.to_uuid(value text) FROM PUBLIC;

--
-- Name: FUNCTION tracked_link(url text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tracked_link(url text) FROM PUBLIC;

--
-- Name: FUNCTION truncate_tracking_ip_addresses(older_than interval, max_rows integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer) FROM PUBLIC;

--
-- Name: FUNCTION unsubscribe(operation_id uuid, source text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.unsubscribe(operation_id uuid, source text) FROM PUBLIC;

--
-- Name: FUNCTION user_agent_machine_reason(user_agent text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.user_agent_machine_reason(user_agent text) FROM PUBLIC;

--
-- Name: FUNCTION uuid_v7(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.uuid_v7() FROM PUBLIC;

--
-- Name: FUNCTION attribution_lag_recent(events integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.attribution_lag_recent(events integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.attribution_lag_recent(events integer) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.attribution_lag_recent(events integer) TO mailroom_readonly;

--
-- Name: TABLE subscribers; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.subscribers TO mailroom_admin;
GRANT SELECT ON TABLE app_public.subscribers TO mailroom_readonly;

--
-- Name: COLUMN subscribers.email; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(email),UPDATE(email) ON TABLE app_public.subscribers TO mailroom_admin;

--
-- Name: COLUMN subscribers.name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.subscribers TO mailroom_admin;

--
-- Name: COLUMN subscribers.attributes; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(attributes),UPDATE(attributes) ON TABLE app_public.subscribers TO mailroom_admin;

--
-- Name: COLUMN subscribers.status; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.subscribers TO mailroom_admin;

--
-- Name: FUNCTION blocklist_subscriber(subscriber_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.blocklist_subscriber(subscriber_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.blocklist_subscriber(subscriber_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION campaign_bounce_reasons(campaign_id bigint, max_reasons integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) TO mailroom_readonly;

--
-- Name: FUNCTION campaign_engagement_hourly_from_events(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.campaign_engagement_hourly_from_events(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.campaign_engagement_hourly_from_events(campaign_id bigint) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.campaign_engagement_hourly_from_events(campaign_id bigint) TO mailroom_readonly;

--
-- Name: TABLE campaign_rollups; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.campaign_rollups TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_rollups TO mailroom_readonly;

--
-- Name: FUNCTION campaign_rollup_from_events(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.campaign_rollup_from_events(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.campaign_rollup_from_events(campaign_id bigint) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.campaign_rollup_from_events(campaign_id bigint) TO mailroom_readonly;

--
-- Name: FUNCTION cancel_campaign(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.cancel_campaign(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.cancel_campaign(campaign_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION check_template(part text, content text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.check_template(part text, content text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.check_template(part text, content text) TO mailroom_admin;

--
-- Name: FUNCTION confirm_all_list_members(list_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.confirm_all_list_members(list_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.confirm_all_list_members(list_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION confirm_list_members(list_id bigint, emails text[]); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.confirm_list_members(list_id bigint, emails text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.confirm_list_members(list_id bigint, emails text[]) TO mailroom_admin;

--
-- Name: FUNCTION duplicate_campaign(campaign_id bigint, name text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.duplicate_campaign(campaign_id bigint, name text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.duplicate_campaign(campaign_id bigint, name text) TO mailroom_admin;

--
-- Name: FUNCTION import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.import_subscribers(subscribers app_public.subscriber_import_row[], list_id bigint, membership_status text, update_existing boolean) TO mailroom_admin;

--
-- Name: TABLE lists; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.lists TO mailroom_admin;
GRANT SELECT ON TABLE app_public.lists TO mailroom_readonly;

--
-- Name: COLUMN lists.name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.description; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.opt_in; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(opt_in),UPDATE(opt_in) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.confirmation_sender_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(confirmation_sender_id),UPDATE(confirmation_sender_id) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.confirmation_subject; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(confirmation_subject),UPDATE(confirmation_subject) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.confirmation_html; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(confirmation_html),UPDATE(confirmation_html) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.confirmation_text; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(confirmation_text),UPDATE(confirmation_text) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.confirmation_resend_interval; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(confirmation_resend_interval),UPDATE(confirmation_resend_interval) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: COLUMN lists.public_subscribe; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(public_subscribe),UPDATE(public_subscribe) ON TABLE app_public.lists TO mailroom_admin;

--
-- Name: FUNCTION lists_member_counts(list app_public.lists); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.lists_member_counts(list app_public.lists) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.lists_member_counts(list app_public.lists) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.lists_member_counts(list app_public.lists) TO mailroom_readonly;

--
-- Name: FUNCTION pause_campaign(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.pause_campaign(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.pause_campaign(campaign_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION recompute_campaign_rollup(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.recompute_campaign_rollup(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.recompute_campaign_rollup(campaign_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION record_complaint(message_id bigint, detail text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.record_complaint(message_id bigint, detail text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.record_complaint(message_id bigint, detail text) TO mailroom_admin;

--
-- Name: FUNCTION resume_campaign(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.resume_campaign(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.resume_campaign(campaign_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION schedule_campaign(campaign_id bigint, start_at timestamp with time zone); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) TO mailroom_admin;

--
-- Name: FUNCTION send_confirmations(list_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.send_confirmations(list_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.send_confirmations(list_id bigint) TO mailroom_admin;

--
-- Name: TABLE test_sends; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.test_sends TO mailroom_admin;
GRANT SELECT ON TABLE app_public.test_sends TO mailroom_readonly;

--
-- Name: FUNCTION send_test_email(campaign_id bigint, email text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.send_test_email(campaign_id bigint, email text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.send_test_email(campaign_id bigint, email text) TO mailroom_admin;

--
-- Name: FUNCTION sender_window_open(sender app_public.senders, at timestamp with time zone); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.sender_window_open(sender app_public.senders, at timestamp with time zone) TO mailroom_readonly;

--
-- Name: FUNCTION senders_quota_use(sender app_public.senders); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.senders_quota_use(sender app_public.senders) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.senders_quota_use(sender app_public.senders) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.senders_quota_use(sender app_public.senders) TO mailroom_readonly;

--
-- Name: FUNCTION set_sender_connection_string(sender_id bigint, connection_string text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_sender_connection_string(sender_id bigint, connection_string text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_sender_connection_string(sender_id bigint, connection_string text) TO mailroom_admin;

--
-- Name: FUNCTION start_campaign(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.start_campaign(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.start_campaign(campaign_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION subscriber_timeline(subscriber_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.subscriber_timeline(subscriber_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.subscriber_timeline(subscriber_id bigint) TO mailroom_admin;
GRANT ALL ON FUNCTION app_public.subscriber_timeline(subscriber_id bigint) TO mailroom_readonly;

--
-- Name: FUNCTION template_errors(content text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.template_errors(content text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.template_errors(content text) TO mailroom_admin;

--
-- Name: FUNCTION unblocklist_subscriber(subscriber_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.unblocklist_subscriber(subscriber_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.unblocklist_subscriber(subscriber_id bigint) TO mailroom_admin;

--
-- Name: FUNCTION unschedule_campaign(campaign_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.unschedule_campaign(campaign_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.unschedule_campaign(campaign_id bigint) TO mailroom_admin;

--
-- Name: TABLE sender_failure_rates; Type: ACL; Schema: app_hidden; Owner: -
--

GRANT SELECT ON TABLE app_hidden.sender_failure_rates TO mailroom_admin;
GRANT SELECT ON TABLE app_hidden.sender_failure_rates TO mailroom_readonly;

--
-- Name: TABLE bounce_policies; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.bounce_policies TO mailroom_admin;
GRANT SELECT ON TABLE app_public.bounce_policies TO mailroom_readonly;

--
-- Name: COLUMN bounce_policies.threshold; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(threshold) ON TABLE app_public.bounce_policies TO mailroom_admin;

--
-- Name: COLUMN bounce_policies.action; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(action) ON TABLE app_public.bounce_policies TO mailroom_admin;

--
-- Name: TABLE bounce_rules; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.bounce_rules TO mailroom_admin;
GRANT SELECT ON TABLE app_public.bounce_rules TO mailroom_readonly;

--
-- Name: COLUMN bounce_rules."position"; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT("position"),UPDATE("position") ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: COLUMN bounce_rules.status; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: COLUMN bounce_rules.status_message_pattern; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(status_message_pattern),UPDATE(status_message_pattern) ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: COLUMN bounce_rules.bounce_type; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(bounce_type),UPDATE(bounce_type) ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: COLUMN bounce_rules.blocklist_subscriber; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(blocklist_subscriber),UPDATE(blocklist_subscriber) ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: COLUMN bounce_rules.description; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.bounce_rules TO mailroom_admin;

--
-- Name: SEQUENCE bounce_rules_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.bounce_rules_id_seq TO mailroom_admin;

--
-- Name: TABLE bounces; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.bounces TO mailroom_admin;
GRANT SELECT ON TABLE app_public.bounces TO mailroom_readonly;

--
-- Name: SEQUENCE bounces_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.bounces_id_seq TO mailroom_admin;

--
-- Name: TABLE campaign_lists; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.campaign_lists TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_lists TO mailroom_readonly;

--
-- Name: COLUMN campaign_lists.campaign_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(campaign_id) ON TABLE app_public.campaign_lists TO mailroom_admin;

--
-- Name: COLUMN campaign_lists.list_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(list_id) ON TABLE app_public.campaign_lists TO mailroom_admin;

--
-- Name: TABLE campaign_senders; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.campaign_senders TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_senders TO mailroom_readonly;

--
-- Name: COLUMN campaign_senders.campaign_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(campaign_id) ON TABLE app_public.campaign_senders TO mailroom_admin;

--
-- Name: COLUMN campaign_senders.sender_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(sender_id) ON TABLE app_public.campaign_senders TO mailroom_admin;

--
-- Name: TABLE campaign_stats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.campaign_stats TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_stats TO mailroom_readonly;

--
-- Name: TABLE campaign_status_transitions; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.campaign_status_transitions TO mailroom_admin;
GRANT SELECT ON TABLE app_public.campaign_status_transitions TO mailroom_readonly;

--
-- Name: SEQUENCE campaigns_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.campaigns_id_seq TO mailroom_admin;

--
-- Name: TABLE confirmations; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.confirmations TO mailroom_admin;
GRANT SELECT ON TABLE app_public.confirmations TO mailroom_readonly;

--
-- Name: SEQUENCE confirmations_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.confirmations_id_seq TO mailroom_admin;

--
-- Name: TABLE delivery_statuses; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.delivery_statuses TO mailroom_admin;
GRANT SELECT ON TABLE app_public.delivery_statuses TO mailroom_readonly;

--
-- Name: COLUMN delivery_statuses.status; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.delivery_statuses TO mailroom_admin;

--
-- Name: COLUMN delivery_statuses.precedence; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(precedence),UPDATE(precedence) ON TABLE app_public.delivery_statuses TO mailroom_admin;

--
-- Name: COLUMN delivery_statuses.description; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.delivery_statuses TO mailroom_admin;

--
-- Name: TABLE message_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.message_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.message_events TO mailroom_readonly;

--
-- Name: TABLE link_clicks; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.link_clicks TO mailroom_admin;
GRANT SELECT ON TABLE app_public.link_clicks TO mailroom_readonly;

--
-- Name: TABLE list_memberships; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.list_memberships TO mailroom_admin;
GRANT SELECT ON TABLE app_public.list_memberships TO mailroom_readonly;

--
-- Name: COLUMN list_memberships.list_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(list_id) ON TABLE app_public.list_memberships TO mailroom_admin;

--
-- Name: COLUMN list_memberships.subscriber_id; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(subscriber_id) ON TABLE app_public.list_memberships TO mailroom_admin;

--
-- Name: COLUMN list_memberships.status; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.list_memberships TO mailroom_admin;

--
-- Name: SEQUENCE lists_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.lists_id_seq TO mailroom_admin;

--
-- Name: TABLE machine_ip_ranges; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.machine_ip_ranges TO mailroom_admin;
GRANT SELECT ON TABLE app_public.machine_ip_ranges TO mailroom_readonly;

--
-- Name: COLUMN machine_ip_ranges.range; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(range),UPDATE(range) ON TABLE app_public.machine_ip_ranges TO mailroom_admin;

--
-- Name: COLUMN machine_ip_ranges.kind; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(kind),UPDATE(kind) ON TABLE app_public.machine_ip_ranges TO mailroom_admin;

--
-- Name: COLUMN machine_ip_ranges.description; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.machine_ip_ranges TO mailroom_admin;

--
-- Name: COLUMN machine_ip_ranges.source; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(source),UPDATE(source) ON TABLE app_public.machine_ip_ranges TO mailroom_admin;

--
-- Name: SEQUENCE machine_ip_ranges_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.machine_ip_ranges_id_seq TO mailroom_admin;

--
-- Name: TABLE machine_user_agents; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.machine_user_agents TO mailroom_admin;
GRANT SELECT ON TABLE app_public.machine_user_agents TO mailroom_readonly;

--
-- Name: COLUMN machine_user_agents.pattern; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(pattern),UPDATE(pattern) ON TABLE app_public.machine_user_agents TO mailroom_admin;

--
-- Name: COLUMN machine_user_agents.kind; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(kind),UPDATE(kind) ON TABLE app_public.machine_user_agents TO mailroom_admin;

--
-- Name: COLUMN machine_user_agents.description; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.machine_user_agents TO mailroom_admin;

--
-- Name: SEQUENCE machine_user_agents_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.machine_user_agents_id_seq TO mailroom_admin;

--
-- Name: TABLE messages; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.messages TO mailroom_admin;
GRANT SELECT ON TABLE app_public.messages TO mailroom_readonly;

--
-- Name: SEQUENCE messages_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.messages_id_seq TO mailroom_admin;

--
-- Name: TABLE raw_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.raw_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.raw_events TO mailroom_readonly;

--
-- Name: TABLE monitor_attribution_lag; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_attribution_lag TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_attribution_lag TO mailroom_readonly;

--
-- Name: TABLE monitor_engagement_last_hour; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_engagement_last_hour TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_engagement_last_hour TO mailroom_readonly;

--
-- Name: TABLE monitor_hourly_engagement; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_hourly_engagement TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_hourly_engagement TO mailroom_readonly;

--
-- Name: TABLE monitor_message_id_coverage; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_message_id_coverage TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_message_id_coverage TO mailroom_readonly;

--
-- Name: TABLE monitor_problem_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_problem_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_problem_events TO mailroom_readonly;

--
-- Name: TABLE monitor_unattributed_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.monitor_unattributed_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.monitor_unattributed_events TO mailroom_readonly;

--
-- Name: SEQUENCE raw_events_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.raw_events_id_seq TO mailroom_admin;

--
-- Name: SEQUENCE senders_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.senders_id_seq TO mailroom_admin;

--
-- Name: SEQUENCE subscribers_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.subscribers_id_seq TO mailroom_admin;

--
-- Name: TABLE templates; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE app_public.templates TO mailroom_admin;
GRANT SELECT ON TABLE app_public.templates TO mailroom_readonly;

--
-- Name: COLUMN templates.name; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.templates TO mailroom_admin;

--
-- Name: COLUMN templates.subject; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(subject),UPDATE(subject) ON TABLE app_public.templates TO mailroom_admin;

--
-- Name: COLUMN templates.html_body; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(html_body),UPDATE(html_body) ON TABLE app_public.templates TO mailroom_admin;

--
-- Name: COLUMN templates.text_body; Type: ACL; Schema: app_public; Owner: -
--

GRANT INSERT(text_body),UPDATE(text_body) ON TABLE app_public.templates TO mailroom_admin;

--
-- Name: SEQUENCE templates_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.templates_id_seq TO mailroom_admin;

--
-- Name: SEQUENCE test_sends_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.test_sends_id_seq TO mailroom_admin;

--
-- Name: TABLE unattributed_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.unattributed_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.unattributed_events TO mailroom_readonly;

--
-- Name: TABLE unsubscribes; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.unsubscribes TO mailroom_admin;
GRANT SELECT ON TABLE app_public.unsubscribes TO mailroom_readonly;

--
-- Name: SEQUENCE unsubscribes_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.unsubscribes_id_seq TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: app_hidden; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA app_hidden GRANT SELECT,USAGE ON SEQUENCES  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: app_hidden; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA app_hidden GRANT ALL ON FUNCTIONS  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: app_public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA app_public GRANT SELECT,USAGE ON SEQUENCES  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: app_public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA app_public GRANT ALL ON FUNCTIONS  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA public GRANT SELECT,USAGE ON SEQUENCES  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: public; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom IN SCHEMA public GRANT ALL ON FUNCTIONS  TO mailroom_admin;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE mailroom REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- PostgreSQL database dump complete
--

