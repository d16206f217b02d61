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
-- Name: ingest_events(jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.ingest_events(batch jsonb) RETURNS TABLE(received integer, inserted integer, duplicates integer)
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $_$
  with batch_event as (
    select
      e.event,
      e.position,
      case
        when batch->>'schema' in ('eventgrid', 'cloudevents') then batch->>'schema'
        when jsonb_typeof(e.event) = 'object' and e.event ? 'specversion' then 'cloudevents'
        else 'eventgrid'
      end as event_schema
    from jsonb_array_elements(
      case jsonb_typeof(batch->'events')
        when 'array' then batch->'events'
        when 'object' then jsonb_build_array(batch->'events')
        else '[]'::jsonb
      end
    ) with ordinality as e(event, position)
  ),
  envelope as (
    select
      event,
      position,
      event_schema,
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
      app_private.to_timestamptz(event_time_text) as event_time,
      coalesce(data->>'deliveryAttemptTimestamp', data->>'deliveryAttemptTimeStamp',
               data->>'userActionTimestamp', data->>'userActionTimeStamp') as occurred_text
    from envelope
  ),
  checked as (
    select
      interpreted.*,
      app_private.to_timestamptz(occurred_text) as occurred_time,
      case
        when not is_object then 'not a JSON object'
        when event_id is null then 'missing id'
        when event_type is null then 'missing event type'
        when event_time_text is not null and event_time is null then 'unparseable event time'
        when occurred_text is not null and app_private.to_timestamptz(occurred_text) is null
          then 'unparseable delivery attempt or user action time'
        when lower(event_type) in ('microsoft.communication.emaildeliveryreportreceived',
                                   'microsoft.communication.emailengagementtrackingreportreceived')
             and data is null then 'missing data'
      end as problem,
      case when event_id is null then 1 else count(*) over (partition by lower(source), event_id) end as copies,
      case when event_id is null then 1 else row_number() over (partition by lower(source), event_id order by position) end as copy
    from interpreted
  ),
  stored as (
    insert into app_public.raw_events (
      source, event_id, event_schema, event_type, subject, event_time, event,
      internet_message_id, operation_id, recipient, sender, status, status_message,
      engagement_type, engagement_context, user_agent, occurred_at, problem,
      subscription_name, delivery_count, times_received, received_at, last_received_at
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
      nullif(batch->>'subscriptionName', ''),
      case when batch->>'deliveryCount' ~ '^[0-9]{1,9}$' then (batch->>'deliveryCount')::integer end,
      copies,
      coalesce(app_private.to_timestamptz(batch->>'receivedAt'), now()),
      coalesce(app_private.to_timestamptz(batch->>'receivedAt'), now())
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

COMMENT ON FUNCTION app_private.ingest_events(batch jsonb) IS 'Stores one batch of Event Grid deliveries in one INSERT. Payload: {"schema": "eventgrid"|"cloudevents", "receivedAt": ISO time, "deliveryCount": int|null, "subscriptionName": text|null, "events": [...]}. Idempotent on (source compared case-insensitively, event id): a redelivery raises times_received and delivery_count instead of adding a row. An event that cannot be interpreted is kept with its problem. Returns how many events the batch held, how many were new, and how many were duplicates.';

--
-- Name: normalize_delivery_status(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.normalize_delivery_status(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case lower(btrim(value))
    when 'delivered' then 'Delivered'
    when 'expanded' then 'Expanded'
    when 'bounced' then 'Bounced'
    when 'suppressed' then 'Suppressed'
    when 'filteredspam' then 'FilteredSpam'
    when 'quarantined' then 'Quarantined'
    when 'failed' then 'Failed'
    else nullif(btrim(value), '')
  end
$$;

--
-- Name: FUNCTION normalize_delivery_status(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.normalize_delivery_status(value text) IS 'A delivery report status in ACS''s documented spelling whatever its case (delivered -> Delivered); an unknown status is returned as received, trimmed.';

--
-- Name: normalize_internet_message_id(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.normalize_internet_message_id(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case
    when nullif(btrim(value), '') is null then null
    when btrim(value) like '<%>' then lower(btrim(value))
    else '<' || lower(btrim(value)) || '>'
  end
$$;

--
-- Name: FUNCTION normalize_internet_message_id(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.normalize_internet_message_id(value text) IS 'The key an RFC Message-ID is matched by: trimmed, lower case, in angle brackets. Mailroom generates its Message-IDs in lower case, so this is exactly the value stored on the message.';

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
-- Name: tg__timestamps(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__timestamps() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now()
                         then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$;

--
-- Name: FUNCTION tg__timestamps(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__timestamps() IS 'Trigger function: sets created_at on insert and a strictly increasing updated_at on every write.';

--
-- Name: to_timestamptz(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.to_timestamptz(value text) RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $_$
  select case
    when value ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]{1,12})?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
     and substr(value, 1, 4) <> '0000'
    then case
      when substr(value, 9, 2)::integer
           <= extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                               + interval '1 month - 1 day')
      then case
        when value ~ '([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' and substr(value, 11) ~ '[Zz+-]'
        then value::timestamptz
        else value::timestamp at time zone 'UTC'
      end
    end
  end
$_$;

--
-- Name: FUNCTION to_timestamptz(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.to_timestamptz(value text) IS 'An ISO 8601 time as timestamptz (UTC when it has no offset), or NULL when it is not a valid ISO 8601 time. Never raises.';

--
-- Name: to_uuid(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.to_uuid(value text) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select case
    when value ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' then value::uuid
  end
$_$;

--
-- Name: FUNCTION to_uuid(value text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.to_uuid(value text) IS 'The text as a UUID, or NULL when it is not one. Never raises.';

SET default_tablespace = '';

SET default_table_access_method = heap;

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
    event jsonb NOT NULL,
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
    message_id bigint,
    attributed_by text,
    attributed_at timestamp with time zone,
    CONSTRAINT raw_events_attributed_by_check CHECK ((attributed_by = ANY (ARRAY['internet_message_id'::text, 'operation_id_and_recipient'::text, 'operation_id'::text]))),
    CONSTRAINT raw_events_check CHECK ((((message_id IS NULL) = (attributed_by IS NULL)) AND ((message_id IS NULL) = (attributed_at IS NULL)))),
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

COMMENT ON COLUMN app_public.raw_events.event IS 'The event exactly as received (envelope and data).';

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
-- Name: COLUMN raw_events.message_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.message_id IS 'The message this event is attributed to; NULL while unattributed.';

--
-- Name: COLUMN raw_events.attributed_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.attributed_by IS 'Which key attributed it: internet_message_id, operation_id_and_recipient, or operation_id (one-recipient message).';

--
-- Name: COLUMN raw_events.attributed_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.raw_events.attributed_at IS 'When it was attributed.';

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
-- Name: raw_events raw_events_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.raw_events
    ADD CONSTRAINT raw_events_pkey PRIMARY KEY (id);

--
-- Name: raw_events_received_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX raw_events_received_at_idx ON app_public.raw_events USING btree (received_at);

--
-- Name: raw_events_source_event_id_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX raw_events_source_event_id_key ON app_public.raw_events USING btree (lower(source), event_id);

--
-- Name: raw_events; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.raw_events ENABLE ROW LEVEL SECURITY;

--
-- Name: raw_events select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.raw_events FOR SELECT TO mailroom_admin, mailroom_readonly USING (true);

--
-- Name: SCHEMA app_hidden; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_hidden TO mailroom_admin;
GRANT USAGE ON SCHEMA app_hidden TO mailroom_readonly;

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
-- Name: FUNCTION add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.add_job(identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer) FROM PUBLIC;

--
-- Name: FUNCTION ingest_events(batch jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.ingest_events(batch jsonb) FROM PUBLIC;

--
-- Name: FUNCTION normalize_delivery_status(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.normalize_delivery_status(value text) FROM PUBLIC;

--
-- Name: FUNCTION normalize_internet_message_id(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.normalize_internet_message_id(value text) FROM PUBLIC;

--
-- Name: FUNCTION tg__add_job(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__add_job() FROM PUBLIC;

--
-- Name: FUNCTION tg__timestamps(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__timestamps() FROM PUBLIC;

--
-- Name: FUNCTION to_timestamptz(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.to_timestamptz(value text) FROM PUBLIC;

--
-- Name: FUNCTION to_uuid(value text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.to_uuid(value text) FROM PUBLIC;

--
-- Name: TABLE raw_events; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.raw_events TO mailroom_admin;
GRANT SELECT ON TABLE app_public.raw_events TO mailroom_readonly;

--
-- Name: SEQUENCE raw_events_id_seq; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE app_public.raw_events_id_seq TO mailroom_admin;

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

