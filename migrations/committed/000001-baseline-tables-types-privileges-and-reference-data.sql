--! Previous: -
--! Hash: sha1:dc1bd9e5797f8d834d2105c60afe1103ed1175d1
--! Message: Baseline: tables, types, privileges and reference data

-- The baseline: Mailroom's tables, types, privileges and reference data.
--
-- Functions, views and triggers are not here: each has its own file under migrations/sql/, applied after the
-- migrations (see docs/schema.md, "Where the SQL lives"). The only functions below are the two that a table's
-- definition needs when it is created (a column default and a check).
--   app_public:  exposed through GraphQL (row level security on every table)
--   app_hidden:  usable by the request roles, never exposed
--   app_private: neither usable nor exposed; secrets and internals


-- == Schemas and their privileges ==

CREATE SCHEMA app_hidden;

CREATE SCHEMA app_private;

CREATE SCHEMA app_public;

GRANT USAGE ON SCHEMA app_hidden TO :DATABASE_ADMIN;
GRANT USAGE ON SCHEMA app_hidden TO :DATABASE_READONLY;
GRANT USAGE ON SCHEMA app_hidden TO :DATABASE_AUTHENTICATOR;

GRANT USAGE ON SCHEMA app_public TO :DATABASE_ADMIN;
GRANT USAGE ON SCHEMA app_public TO :DATABASE_READONLY;

REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO :DATABASE_OWNER;
GRANT USAGE ON SCHEMA public TO :DATABASE_ADMIN;
GRANT USAGE ON SCHEMA public TO :DATABASE_READONLY;

-- == Default privileges: nothing for PUBLIC; administrators use sequences and functions ==

ALTER DEFAULT PRIVILEGES IN SCHEMA app_hidden GRANT SELECT,USAGE ON SEQUENCES  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES IN SCHEMA app_hidden GRANT ALL ON FUNCTIONS  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES IN SCHEMA app_public GRANT SELECT,USAGE ON SEQUENCES  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES IN SCHEMA app_public GRANT ALL ON FUNCTIONS  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT,USAGE ON SEQUENCES  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS  TO :DATABASE_ADMIN;

ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

-- == Composite types ==

CREATE TYPE app_public.list_member_counts AS (
	members bigint,
	unconfirmed bigint,
	confirmed bigint,
	unsubscribed bigint
);

COMMENT ON TYPE app_public.list_member_counts IS 'Members of a list by status; members = all but the unsubscribed.';

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

COMMENT ON TYPE app_public.sender_quota_use IS 'Messages handed to ACS in the sliding minute, hour and day (batches still in flight count), what each quota leaves (NULL: no quota), how many may be sent right now (capacity_now: 0 outside the send window or while paused after a 429), until when it is paused, and whether the send window is open.';

CREATE TYPE app_public.subscriber_import_result AS (
	row_number integer,
	email text,
	subscriber_id bigint,
	outcome text,
	error text,
	added_to_list boolean
);

COMMENT ON TYPE app_public.subscriber_import_result IS 'What happened to one row of an import (row_number counts from 1): outcome created, updated, existing (already there, left as it was) or rejected (see error); added_to_list when a new membership of the list was created.';

CREATE TYPE app_public.subscriber_import_row AS (
	email text,
	name text,
	attributes jsonb
);

COMMENT ON TYPE app_public.subscriber_import_row IS 'One subscriber to import: email (required), name, attributes (a JSON object).';

CREATE TYPE app_private.delivery_report_rank AS (
	precedence integer,
	occurred_at timestamp with time zone,
	status text COLLATE "C",
	status_message text COLLATE "C"
);

COMMENT ON TYPE app_private.delivery_report_rank IS 'The rank of a delivery report, compared field by field: the message''s delivery status is its report of highest rank (see the function app_private.delivery_report_rank).';

-- == Functions that table definitions use (a default and a check) ==

CREATE FUNCTION app_hidden.subscriber_email_problem(email text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select case
    when email is null or email = '' then 'email is required'
    when length(email) > 254 then 'email is longer than 254 characters'
    when email !~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$' then 'email is not a valid address'
  end
$_$;

COMMENT ON FUNCTION app_hidden.subscriber_email_problem(email text) IS 'Why an email address (already trimmed) cannot be a subscriber''s, or NULL when it can: the rule of the subscribers_email_check constraint, also used by import_subscribers and the CSV import to report bad rows.';

CREATE FUNCTION app_private.uuid_v7() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    AS $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
    52, 1), 53, 1), 'hex')::uuid
$$;

COMMENT ON FUNCTION app_private.uuid_v7() IS 'A version 7 UUID (RFC 9562): Unix time in milliseconds, then 74 random bits (of gen_random_uuid). Ordered by creation time, so that the unique indexes on messages grow at their right edge instead of at random pages.';

revoke all on function app_hidden.subscriber_email_problem(email text) from public;
grant execute on function app_hidden.subscriber_email_problem(email text) to :DATABASE_ADMIN;

revoke all on function app_private.uuid_v7() from public;

-- == app_public.campaigns ==

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
    CONSTRAINT campaigns_check CHECK (((status <> 'scheduled'::text) OR (scheduled_at IS NOT NULL))),
    CONSTRAINT campaigns_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'scheduled'::text, 'running'::text, 'paused'::text, 'cancelled'::text, 'finished'::text])))
);

COMMENT ON TABLE app_public.campaigns IS 'A mailing to the members of its lists. Status changes only through start_campaign, schedule_campaign, unschedule_campaign, pause_campaign, resume_campaign and cancel_campaign, along campaign_status_transitions; a running campaign becomes finished when no message is queued or sending.';

ALTER TABLE app_public.campaigns ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.campaigns_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);

CREATE INDEX campaigns_sender_id_idx ON app_public.campaigns USING btree (sender_id);

CREATE INDEX campaigns_template_id_idx ON app_public.campaigns USING btree (template_id);

ALTER TABLE app_public.campaigns ENABLE ROW LEVEL SECURITY;

CREATE POLICY delete_admin ON app_public.campaigns FOR DELETE TO :DATABASE_ADMIN USING ((status = 'draft'::text));

CREATE POLICY insert_admin ON app_public.campaigns FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.campaigns FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.campaigns FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.campaigns TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.campaigns TO :DATABASE_READONLY;

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT INSERT(template_id),UPDATE(template_id) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT INSERT(sender_id),UPDATE(sender_id) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT INSERT(subject),UPDATE(subject) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT INSERT(html_body),UPDATE(html_body) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT INSERT(text_body),UPDATE(text_body) ON TABLE app_public.campaigns TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.campaigns_id_seq TO :DATABASE_ADMIN;

-- == app_public.senders ==

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
    CONSTRAINT senders_check CHECK ((((send_window_start IS NULL) = (send_window_end IS NULL)) AND ((send_window_start IS NULL) = (send_window_time_zone IS NULL)))),
    CONSTRAINT senders_check1 CHECK (((send_window_start IS NULL) OR (send_window_start <> send_window_end))),
    CONSTRAINT senders_from_address_check CHECK ((from_address ~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;.]+$'::text)),
    CONSTRAINT senders_per_day_limit_check CHECK ((per_day_limit > 0)),
    CONSTRAINT senders_per_hour_limit_check CHECK ((per_hour_limit > 0)),
    CONSTRAINT senders_per_minute_limit_check CHECK ((per_minute_limit > 0)),
    CONSTRAINT senders_sending_domain_check CHECK ((sending_domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'::text))
);

COMMENT ON TABLE app_public.senders IS 'An ACS Email resource and from-address. The connection string is a secret kept in app_private.sender_secrets.';

COMMENT ON COLUMN app_public.senders.sending_domain IS 'The domain of the Message-IDs generated for its messages (<uuid@sending_domain>); defaults to the from-address''s.';

COMMENT ON COLUMN app_public.senders.per_minute_limit IS 'Quota: messages per minute (ACS default 30 for a custom domain); NULL = none.';

COMMENT ON COLUMN app_public.senders.per_hour_limit IS 'Quota: messages per hour (ACS default 100); NULL = none.';

COMMENT ON COLUMN app_public.senders.per_day_limit IS 'Quota: messages per day; NULL = none.';

COMMENT ON COLUMN app_public.senders.send_window_start IS 'Local time (in send_window_time_zone) from which sending is allowed; the window may cross midnight.';

ALTER TABLE app_public.senders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.senders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.senders
    ADD CONSTRAINT senders_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX senders_from_address_key ON app_public.senders USING btree (lower(from_address));

CREATE POLICY delete_admin ON app_public.senders FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.senders FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.senders FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

ALTER TABLE app_public.senders ENABLE ROW LEVEL SECURITY;

CREATE POLICY update_admin ON app_public.senders FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.senders TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.senders TO :DATABASE_READONLY;

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(from_address),UPDATE(from_address) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(display_name),UPDATE(display_name) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(sending_domain),UPDATE(sending_domain) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(acs_endpoint),UPDATE(acs_endpoint) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(per_minute_limit),UPDATE(per_minute_limit) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(per_hour_limit),UPDATE(per_hour_limit) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(per_day_limit),UPDATE(per_day_limit) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(send_window_start),UPDATE(send_window_start) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(send_window_end),UPDATE(send_window_end) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT INSERT(send_window_time_zone),UPDATE(send_window_time_zone) ON TABLE app_public.senders TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.senders_id_seq TO :DATABASE_ADMIN;

-- == app_public.subscribers ==

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

COMMENT ON TABLE app_public.subscribers IS 'People who may receive campaigns. Email is unique case-insensitively.';

COMMENT ON COLUMN app_public.subscribers.status IS 'enabled, or blocklisted (never sent to; set by hand or by the bounce policy).';

ALTER TABLE app_public.subscribers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.subscribers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.subscribers
    ADD CONSTRAINT subscribers_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX subscribers_email_key ON app_public.subscribers USING btree (lower(email));

CREATE POLICY delete_admin ON app_public.subscribers FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.subscribers FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.subscribers FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

ALTER TABLE app_public.subscribers ENABLE ROW LEVEL SECURITY;

CREATE POLICY update_admin ON app_public.subscribers FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.subscribers TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.subscribers TO :DATABASE_READONLY;

GRANT INSERT(email),UPDATE(email) ON TABLE app_public.subscribers TO :DATABASE_ADMIN;

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.subscribers TO :DATABASE_ADMIN;

GRANT INSERT(attributes),UPDATE(attributes) ON TABLE app_public.subscribers TO :DATABASE_ADMIN;

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.subscribers TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.subscribers_id_seq TO :DATABASE_ADMIN;

-- == app_public.campaign_rollups ==

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
    complaints bigint DEFAULT 0 NOT NULL
)
WITH (fillfactor='50');

COMMENT ON TABLE app_public.campaign_rollups IS 'A campaign''s numbers in one row, kept current by statement-level triggers on messages (one update per campaign per statement). Counts are of messages: by send status, by delivery status (delivered = Delivered; bounced_soft includes soft Failed, Quarantined and FilteredSpam), unique_* = messages with at least one view/click, opens and clicks = totals; *_human exclude machine engagement. app_public.recompute_campaign_rollup rebuilds it.';

ALTER TABLE ONLY app_public.campaign_rollups
    ADD CONSTRAINT campaign_rollups_pkey PRIMARY KEY (campaign_id);

ALTER TABLE app_public.campaign_rollups ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.campaign_rollups FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.campaign_rollups TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.campaign_rollups TO :DATABASE_READONLY;

-- == app_public.lists ==

CREATE TABLE app_public.lists (
    id bigint NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    opt_in text DEFAULT 'double'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT lists_opt_in_check CHECK ((opt_in = ANY (ARRAY['single'::text, 'double'::text])))
);

COMMENT ON TABLE app_public.lists IS 'Mailing lists. Double opt-in lists send to confirmed members only; single opt-in lists to every member not unsubscribed.';

ALTER TABLE app_public.lists ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.lists_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.lists
    ADD CONSTRAINT lists_pkey PRIMARY KEY (id);

CREATE POLICY delete_admin ON app_public.lists FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.lists FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

ALTER TABLE app_public.lists ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.lists FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.lists FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.lists TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.lists TO :DATABASE_READONLY;

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.lists TO :DATABASE_ADMIN;

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.lists TO :DATABASE_ADMIN;

GRANT INSERT(opt_in),UPDATE(opt_in) ON TABLE app_public.lists TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.lists_id_seq TO :DATABASE_ADMIN;

-- == app_public.test_sends ==

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

COMMENT ON TABLE app_public.test_sends IS 'Test emails: a campaign rendered and sent to one address through its sender (send_test_email), with its own Message-ID and operation id. Not messages: not in the rollups, and their events are never attributed to the campaign.';

COMMENT ON COLUMN app_public.test_sends.subscriber_id IS 'The subscriber with this address, when there is one: the email is rendered with their fields.';

COMMENT ON COLUMN app_public.test_sends.status IS 'queued (the send_test_email job has not run yet), accepted (ACS answered 202) or failed (see error).';

COMMENT ON COLUMN app_public.test_sends.error IS 'Why the test email failed: a template error, ACS''s error code and message, or no answer from ACS.';

COMMENT ON COLUMN app_public.test_sends.delivery_status IS 'The status of the latest delivery report Event Grid sent for it (Delivered, Bounced, ...).';

COMMENT ON COLUMN app_public.test_sends.sent_at IS 'When the outcome (accepted or failed) was recorded.';

ALTER TABLE app_public.test_sends ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.test_sends_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_pkey PRIMARY KEY (id);

CREATE INDEX test_sends_campaign_id_idx ON app_public.test_sends USING btree (campaign_id);

CREATE UNIQUE INDEX test_sends_internet_message_id_key ON app_public.test_sends USING btree (internet_message_id);

CREATE UNIQUE INDEX test_sends_operation_id_key ON app_public.test_sends USING btree (operation_id);

CREATE INDEX test_sends_sender_id_idx ON app_public.test_sends USING btree (sender_id);

CREATE INDEX test_sends_subscriber_id_idx ON app_public.test_sends USING btree (subscriber_id);

CREATE POLICY select_all ON app_public.test_sends FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

ALTER TABLE app_public.test_sends ENABLE ROW LEVEL SECURITY;

GRANT SELECT ON TABLE app_public.test_sends TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.test_sends TO :DATABASE_READONLY;

GRANT SELECT,USAGE ON SEQUENCE app_public.test_sends_id_seq TO :DATABASE_ADMIN;

-- == app_private.api_keys ==

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

COMMENT ON TABLE app_private.api_keys IS 'GraphQL API keys: the SHA-256 of each key (never the key), its role (admin: read and write; analyst: read only), an optional expiry and the time it was revoked. key_prefix is the start of the key, to recognise it.';

ALTER TABLE app_private.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_private.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

ALTER TABLE ONLY app_private.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

-- == app_private.pending_events ==

CREATE TABLE app_private.pending_events (
    raw_event_id bigint NOT NULL,
    internet_message_id text,
    operation_id uuid,
    recipient text
);

COMMENT ON TABLE app_private.pending_events IS 'Delivery and engagement events that matched no message yet, with their keys; attributed (and removed) the moment a matching message is inserted.';

ALTER TABLE ONLY app_private.pending_events
    ADD CONSTRAINT pending_events_pkey PRIMARY KEY (raw_event_id);

CREATE INDEX pending_events_internet_message_id_idx ON app_private.pending_events USING btree (internet_message_id);

CREATE INDEX pending_events_operation_id_idx ON app_private.pending_events USING btree (operation_id);

-- == app_private.sender_secrets ==

CREATE TABLE app_private.sender_secrets (
    sender_id bigint NOT NULL,
    connection_string text NOT NULL
);

COMMENT ON TABLE app_private.sender_secrets IS 'ACS connection strings (endpoint=...;accesskey=...). Never exposed.';

ALTER TABLE ONLY app_private.sender_secrets
    ADD CONSTRAINT sender_secrets_pkey PRIMARY KEY (sender_id);

-- == app_private.sender_sends ==

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

COMMENT ON TABLE app_private.sender_sends IS 'Batches of messages handed to a sender. While unsettled, ends_at is the end of the claim''s lease (the latest a request can reach ACS); once settled, when the last request ended, and sends is the number that may have counted at ACS (accepted, refused or unknown; not 429s or messages never sent). A claim whose worker died before recording it is settled by the look-ups of its messages: those ACS does not know are given back, and ends_at stays the end of the lease. A batch counts in a window while ends_at is inside it.';

COMMENT ON COLUMN app_private.sender_sends.message_ids IS 'While unsettled: the claimed messages whose outcome is not known yet (ids of app_public.messages). NULL once settled.';

ALTER TABLE app_private.sender_sends ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.sender_sends_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_private.sender_sends
    ADD CONSTRAINT sender_sends_pkey PRIMARY KEY (id);

CREATE INDEX sender_sends_open_idx ON app_private.sender_sends USING btree (sender_id) WHERE (NOT settled);

CREATE INDEX sender_sends_sender_id_ends_at_idx ON app_private.sender_sends USING btree (sender_id, ends_at);

-- == app_private.sender_throttles ==

CREATE TABLE app_private.sender_throttles (
    sender_id bigint NOT NULL,
    paused_until timestamp with time zone NOT NULL,
    reason text NOT NULL
);

COMMENT ON TABLE app_private.sender_throttles IS 'A sender paused until a time, after ACS answered 429 with Retry-After.';

ALTER TABLE ONLY app_private.sender_throttles
    ADD CONSTRAINT sender_throttles_pkey PRIMARY KEY (sender_id);

-- == app_private.signing_secrets ==

CREATE TABLE app_private.signing_secrets (
    name text NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT signing_secrets_secret_check CHECK ((length(secret) >= 32))
);

COMMENT ON TABLE app_private.signing_secrets IS 'Secrets generated on first use and shared by every process (unsubscribe: HMAC key of the List-Unsubscribe tokens). UNSUBSCRIBE_SECRET, when set, is used instead.';

ALTER TABLE ONLY app_private.signing_secrets
    ADD CONSTRAINT signing_secrets_pkey PRIMARY KEY (name);

-- == app_public.bounce_policies ==

CREATE TABLE app_public.bounce_policies (
    bounce_type text NOT NULL,
    threshold integer NOT NULL,
    action text NOT NULL,
    CONSTRAINT bounce_policies_action_check CHECK ((action = ANY (ARRAY['none'::text, 'unsubscribe'::text, 'blocklist'::text]))),
    CONSTRAINT bounce_policies_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text, 'complaint'::text]))),
    CONSTRAINT bounce_policies_threshold_check CHECK ((threshold >= 1))
);

COMMENT ON TABLE app_public.bounce_policies IS 'What happens to a subscriber who has threshold or more bounces of a type: nothing, unsubscribe from every list, or blocklist. Subscribers the policy acts on are also skipped when a campaign starts.';

ALTER TABLE ONLY app_public.bounce_policies
    ADD CONSTRAINT bounce_policies_pkey PRIMARY KEY (bounce_type);

ALTER TABLE app_public.bounce_policies ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.bounce_policies FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.bounce_policies FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT ON TABLE app_public.bounce_policies TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.bounce_policies TO :DATABASE_READONLY;

GRANT UPDATE(threshold) ON TABLE app_public.bounce_policies TO :DATABASE_ADMIN;

GRANT UPDATE(action) ON TABLE app_public.bounce_policies TO :DATABASE_ADMIN;

-- == app_public.bounce_rules ==

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

COMMENT ON TABLE app_public.bounce_rules IS 'How a delivery report becomes a bounce: for a report''s status, the rule with the lowest position whose status_message_pattern (a case-insensitive regular expression, NULL = any) matches the status message. bounce_type NULL: not a bounce. blocklist_subscriber: blocklist the subscriber at once, counting no bounce.';

ALTER TABLE app_public.bounce_rules ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.bounce_rules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.bounce_rules
    ADD CONSTRAINT bounce_rules_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_public.bounce_rules
    ADD CONSTRAINT bounce_rules_status_position_key UNIQUE (status, "position");

ALTER TABLE app_public.bounce_rules ENABLE ROW LEVEL SECURITY;

CREATE POLICY delete_admin ON app_public.bounce_rules FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.bounce_rules FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.bounce_rules FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.bounce_rules FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.bounce_rules TO :DATABASE_READONLY;

GRANT INSERT("position"),UPDATE("position") ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT INSERT(status_message_pattern),UPDATE(status_message_pattern) ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT INSERT(bounce_type),UPDATE(bounce_type) ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT INSERT(blocklist_subscriber),UPDATE(blocklist_subscriber) ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.bounce_rules TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.bounce_rules_id_seq TO :DATABASE_ADMIN;

-- == app_public.bounces ==

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

COMMENT ON TABLE app_public.bounces IS 'Bounces (from delivery reports, by bounce_rules; at most one per event) and complaints, per subscriber. bounce_policies acts on their counts.';

ALTER TABLE app_public.bounces ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.bounces_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_raw_event_id_key UNIQUE (raw_event_id);

CREATE INDEX bounces_message_id_idx ON app_public.bounces USING btree (message_id);

CREATE INDEX bounces_subscriber_id_idx ON app_public.bounces USING btree (subscriber_id);

ALTER TABLE app_public.bounces ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.bounces FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.bounces TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.bounces TO :DATABASE_READONLY;

GRANT SELECT,USAGE ON SEQUENCE app_public.bounces_id_seq TO :DATABASE_ADMIN;

-- == app_public.campaign_lists ==

CREATE TABLE app_public.campaign_lists (
    campaign_id bigint NOT NULL,
    list_id bigint NOT NULL
);

COMMENT ON TABLE app_public.campaign_lists IS 'The lists a campaign goes to; changeable while the campaign is a draft or scheduled.';

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_pkey PRIMARY KEY (campaign_id, list_id);

CREATE INDEX campaign_lists_list_id_idx ON app_public.campaign_lists USING btree (list_id);

ALTER TABLE app_public.campaign_lists ENABLE ROW LEVEL SECURITY;

CREATE POLICY delete_admin ON app_public.campaign_lists FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.campaign_lists FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.campaign_lists FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT,DELETE ON TABLE app_public.campaign_lists TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.campaign_lists TO :DATABASE_READONLY;

GRANT INSERT(campaign_id) ON TABLE app_public.campaign_lists TO :DATABASE_ADMIN;

GRANT INSERT(list_id) ON TABLE app_public.campaign_lists TO :DATABASE_ADMIN;

-- == app_public.campaign_senders ==

CREATE TABLE app_public.campaign_senders (
    campaign_id bigint NOT NULL,
    sender_id bigint NOT NULL
);

COMMENT ON TABLE app_public.campaign_senders IS 'More senders for a campaign besides campaigns.sender_id; each claim gives messages to the senders with the most remaining capacity. Message-IDs keep the domain of the campaign''s own sender.';

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_pkey PRIMARY KEY (campaign_id, sender_id);

CREATE INDEX campaign_senders_sender_id_idx ON app_public.campaign_senders USING btree (sender_id);

ALTER TABLE app_public.campaign_senders ENABLE ROW LEVEL SECURITY;

CREATE POLICY delete_admin ON app_public.campaign_senders FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.campaign_senders FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.campaign_senders FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT,DELETE ON TABLE app_public.campaign_senders TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.campaign_senders TO :DATABASE_READONLY;

GRANT INSERT(campaign_id) ON TABLE app_public.campaign_senders TO :DATABASE_ADMIN;

GRANT INSERT(sender_id) ON TABLE app_public.campaign_senders TO :DATABASE_ADMIN;

-- == app_public.campaign_status_transitions ==

CREATE TABLE app_public.campaign_status_transitions (
    from_status text NOT NULL,
    to_status text NOT NULL
);

COMMENT ON TABLE app_public.campaign_status_transitions IS 'The legal changes of a campaign''s status.';

ALTER TABLE ONLY app_public.campaign_status_transitions
    ADD CONSTRAINT campaign_status_transitions_pkey PRIMARY KEY (from_status, to_status);

ALTER TABLE app_public.campaign_status_transitions ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.campaign_status_transitions FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.campaign_status_transitions TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.campaign_status_transitions TO :DATABASE_READONLY;

-- == app_public.delivery_statuses ==

CREATE TABLE app_public.delivery_statuses (
    status text NOT NULL,
    precedence integer NOT NULL,
    description text DEFAULT ''::text NOT NULL
);

COMMENT ON TABLE app_public.delivery_statuses IS 'The delivery report statuses ACS documents and their precedence. When several delivery reports arrive for one message, the message''s delivery status is the report with the highest precedence; ties go to the latest deliveryAttemptTimestamp, then the latest event. An unknown status has precedence 0. Arrival order never matters.';

ALTER TABLE ONLY app_public.delivery_statuses
    ADD CONSTRAINT delivery_statuses_pkey PRIMARY KEY (status);

ALTER TABLE app_public.delivery_statuses ENABLE ROW LEVEL SECURITY;

CREATE POLICY insert_admin ON app_public.delivery_statuses FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.delivery_statuses FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.delivery_statuses FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT ON TABLE app_public.delivery_statuses TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.delivery_statuses TO :DATABASE_READONLY;

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.delivery_statuses TO :DATABASE_ADMIN;

GRANT INSERT(precedence),UPDATE(precedence) ON TABLE app_public.delivery_statuses TO :DATABASE_ADMIN;

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.delivery_statuses TO :DATABASE_ADMIN;

-- == app_public.engagement_settings ==

CREATE TABLE app_public.engagement_settings (
    id boolean DEFAULT true NOT NULL,
    minimum_seconds_after_acceptance numeric DEFAULT 2 NOT NULL,
    burst_distinct_links integer DEFAULT 3 NOT NULL,
    burst_seconds numeric DEFAULT 5 NOT NULL,
    CONSTRAINT engagement_settings_burst_distinct_links_check CHECK ((burst_distinct_links >= 2)),
    CONSTRAINT engagement_settings_burst_seconds_check CHECK ((burst_seconds >= (0)::numeric)),
    CONSTRAINT engagement_settings_id_check CHECK (id),
    CONSTRAINT engagement_settings_minimum_seconds_after_acceptance_check CHECK ((minimum_seconds_after_acceptance >= (0)::numeric))
);

COMMENT ON TABLE app_public.engagement_settings IS 'One row. Engagement sooner than minimum_seconds_after_acceptance after ACS accepted the message is machine; a click with clicks on burst_distinct_links or more distinct links within burst_seconds before or after it is machine.';

ALTER TABLE ONLY app_public.engagement_settings
    ADD CONSTRAINT engagement_settings_pkey PRIMARY KEY (id);

ALTER TABLE app_public.engagement_settings ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.engagement_settings FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.engagement_settings FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT ON TABLE app_public.engagement_settings TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.engagement_settings TO :DATABASE_READONLY;

GRANT UPDATE(minimum_seconds_after_acceptance) ON TABLE app_public.engagement_settings TO :DATABASE_ADMIN;

GRANT UPDATE(burst_distinct_links) ON TABLE app_public.engagement_settings TO :DATABASE_ADMIN;

GRANT UPDATE(burst_seconds) ON TABLE app_public.engagement_settings TO :DATABASE_ADMIN;

-- == app_public.message_events ==

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
    CONSTRAINT message_events_attributed_by_check CHECK ((attributed_by = ANY (ARRAY['internet_message_id'::text, 'operation_id_and_recipient'::text, 'operation_id'::text]))),
    CONSTRAINT message_events_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT message_events_kind_check CHECK ((kind = ANY (ARRAY['delivery_report'::text, 'engagement'::text])))
);

COMMENT ON TABLE app_public.message_events IS 'Each delivery report and engagement event attributed to a message: which key matched, when, and what it means (status, bounce type, view or click, URL, machine or human). Inserted exactly once per raw event, only by the attribution triggers; raw_event_id, message_id and campaign_id refer to raw_events, messages and campaigns (not declared as foreign keys: a check per row would cost more than the whole insert).';

COMMENT ON COLUMN app_public.message_events.attributed_by IS 'internet_message_id, operation_id_and_recipient, or operation_id (event without recipient, one-recipient message).';

COMMENT ON COLUMN app_public.message_events.user_agent_reason IS 'Set when the user agent matches machine_user_agents; it depends on the event alone.';

COMMENT ON COLUMN app_public.message_events.machine_reason IS 'Why this engagement is counted as machine (user agent, too soon after acceptance, burst of clicks); NULL = human. Set when the event is attributed; re-evaluated when another click arrives for the message, when its acceptance time changes, and by recompute_campaign_rollup (which also applies engagement_settings changed since).';

ALTER TABLE ONLY app_public.message_events
    ADD CONSTRAINT message_events_pkey PRIMARY KEY (raw_event_id);

CREATE INDEX message_events_campaign_id_occurred_at_idx ON app_public.message_events USING btree (campaign_id, occurred_at);

CREATE INDEX message_events_message_id_idx ON app_public.message_events USING btree (message_id);

ALTER TABLE app_public.message_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.message_events FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.message_events TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.message_events TO :DATABASE_READONLY;

-- == app_public.list_memberships ==

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

COMMENT ON TABLE app_public.list_memberships IS 'Who is on which list, with the status and when it changed.';

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_pkey PRIMARY KEY (list_id, subscriber_id);

CREATE INDEX list_memberships_subscriber_id_idx ON app_public.list_memberships USING btree (subscriber_id);

CREATE POLICY delete_admin ON app_public.list_memberships FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.list_memberships FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

ALTER TABLE app_public.list_memberships ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.list_memberships FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.list_memberships FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.list_memberships TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.list_memberships TO :DATABASE_READONLY;

GRANT INSERT(list_id) ON TABLE app_public.list_memberships TO :DATABASE_ADMIN;

GRANT INSERT(subscriber_id) ON TABLE app_public.list_memberships TO :DATABASE_ADMIN;

GRANT INSERT(status),UPDATE(status) ON TABLE app_public.list_memberships TO :DATABASE_ADMIN;

-- == app_public.machine_user_agents ==

CREATE TABLE app_public.machine_user_agents (
    id integer NOT NULL,
    pattern text NOT NULL,
    kind text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    CONSTRAINT machine_user_agents_kind_check CHECK ((kind = ANY (ARRAY['image proxy'::text, 'privacy protection'::text, 'link scanner'::text])))
);

COMMENT ON TABLE app_public.machine_user_agents IS 'User agents of machines that open or click on behalf of a recipient: case-insensitive regular expressions.';

ALTER TABLE app_public.machine_user_agents ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.machine_user_agents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.machine_user_agents
    ADD CONSTRAINT machine_user_agents_pattern_key UNIQUE (pattern);

ALTER TABLE ONLY app_public.machine_user_agents
    ADD CONSTRAINT machine_user_agents_pkey PRIMARY KEY (id);

CREATE POLICY delete_admin ON app_public.machine_user_agents FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.machine_user_agents FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

ALTER TABLE app_public.machine_user_agents ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.machine_user_agents FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

CREATE POLICY update_admin ON app_public.machine_user_agents FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.machine_user_agents TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.machine_user_agents TO :DATABASE_READONLY;

GRANT INSERT(pattern),UPDATE(pattern) ON TABLE app_public.machine_user_agents TO :DATABASE_ADMIN;

GRANT INSERT(kind),UPDATE(kind) ON TABLE app_public.machine_user_agents TO :DATABASE_ADMIN;

GRANT INSERT(description),UPDATE(description) ON TABLE app_public.machine_user_agents TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.machine_user_agents_id_seq TO :DATABASE_ADMIN;

-- == app_public.messages ==

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
    CONSTRAINT messages_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT messages_send_status_check CHECK ((send_status = ANY (ARRAY['queued'::text, 'sending'::text, 'accepted'::text, 'failed'::text, 'cancelled'::text, 'skipped'::text])))
)
WITH (fillfactor='70');

COMMENT ON TABLE app_public.messages IS 'The ledger: one row per (campaign, subscriber), created by start_campaign with its Message-ID and ACS operation id, so that every event can be attributed by exact keys. Send columns are written by the sending worker; delivery and engagement columns are derived from message_events and never written by hand.';

COMMENT ON COLUMN app_public.messages.recipient IS 'The address the message is sent to (the subscriber''s email at start).';

COMMENT ON COLUMN app_public.messages.internet_message_id IS 'The RFC 5322 Message-ID <uuid@sending-domain> (a version 7 UUID), generated when the row is created; sent as the Message-ID header.';

COMMENT ON COLUMN app_public.messages.operation_id IS 'The ACS operation id (a version 7 UUID), generated when the row is created; sent as the Operation-Id request header and returned as messageId in events.';

COMMENT ON COLUMN app_public.messages.send_status IS 'queued (waiting), sending (claimed by a worker until lease_expires_at), accepted (ACS answered 202), failed (ACS refused it or attempts ran out), cancelled (the campaign was cancelled first), skipped (not sent, e.g. the subscriber was blocklisted meanwhile; see send_status_reason).';

COMMENT ON COLUMN app_public.messages.send_attempts IS 'How many times a worker has tried to send it.';

COMMENT ON COLUMN app_public.messages.lease_expires_at IS 'While sending: when the claim expires and another worker may take the message again.';

COMMENT ON COLUMN app_public.messages.last_error IS 'The last error from ACS or the worker.';

COMMENT ON COLUMN app_public.messages.accepted_at IS 'When ACS accepted it (202).';

COMMENT ON COLUMN app_public.messages.delivery_status IS 'From delivery reports, by precedence (see delivery_statuses); an unknown status as received.';

COMMENT ON COLUMN app_public.messages.bounce_type IS 'hard or soft, from the delivery report that set the delivery status.';

COMMENT ON COLUMN app_public.messages.opens_human IS 'Views judged human; opens_machine: by proxies, privacy protection, scanners.';

COMMENT ON COLUMN app_public.messages.first_opened_at IS 'First and last human views and clicks.';

ALTER TABLE app_public.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.messages
    ADD CONSTRAINT messages_campaign_id_subscriber_id_key UNIQUE (campaign_id, subscriber_id);

ALTER TABLE ONLY app_public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX messages_internet_message_id_key ON app_public.messages USING btree (internet_message_id);

CREATE UNIQUE INDEX messages_operation_id_key ON app_public.messages USING btree (operation_id);

CREATE INDEX messages_queued_idx ON app_public.messages USING btree (campaign_id, id) WHERE (send_status = 'queued'::text);

CREATE INDEX messages_sender_id_idx ON app_public.messages USING btree (sender_id);

CREATE INDEX messages_sending_idx ON app_public.messages USING btree (lease_expires_at) WHERE (send_status = 'sending'::text);

CREATE INDEX messages_subscriber_id_idx ON app_public.messages USING btree (subscriber_id);

ALTER TABLE app_public.messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.messages FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.messages TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.messages TO :DATABASE_READONLY;

GRANT SELECT,USAGE ON SEQUENCE app_public.messages_id_seq TO :DATABASE_ADMIN;

-- == app_public.raw_events ==

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
    CONSTRAINT raw_events_event_schema_check CHECK ((event_schema = ANY (ARRAY['eventgrid'::text, 'cloudevents'::text]))),
    CONSTRAINT raw_events_times_received_check CHECK ((times_received >= 1))
);

COMMENT ON TABLE app_public.raw_events IS 'Every event Event Grid delivered, as received, one row per (source topic, event id) whatever the number of deliveries. Written only by app_private.ingest_events; everything else about messages is derived from it.';

COMMENT ON COLUMN app_public.raw_events.source IS 'The topic (Event Grid schema) or source (CloudEvents): the ACS resource. Compared case-insensitively.';

COMMENT ON COLUMN app_public.raw_events.event_id IS 'The event id given by Event Grid; unique per source. NULL only for an event that had none (see problem).';

COMMENT ON COLUMN app_public.raw_events.event_schema IS 'eventgrid or cloudevents: the envelope it came in.';

COMMENT ON COLUMN app_public.raw_events.event_type IS 'eventType / type as received, e.g. Microsoft.Communication.EmailDeliveryReportReceived. Unknown types are kept.';

COMMENT ON COLUMN app_public.raw_events.event_time IS 'eventTime / time of the envelope.';

COMMENT ON COLUMN app_public.raw_events.event IS 'The event exactly as received (envelope and data); NULL once removed by retention (RAW_EVENT_RETENTION_DAYS). Everything Mailroom derives from an event is in the other columns and in message_events, and stays.';

COMMENT ON COLUMN app_public.raw_events.internet_message_id IS 'data.internetMessageId, normalised (lower case, angle brackets): the RFC Message-ID Mailroom set on the message.';

COMMENT ON COLUMN app_public.raw_events.operation_id IS 'data.messageId when it is a UUID: the ACS operation id of the send request.';

COMMENT ON COLUMN app_public.raw_events.recipient IS 'data.recipient, trimmed and in lower case.';

COMMENT ON COLUMN app_public.raw_events.sender IS 'data.sender (the from-address), trimmed and in lower case.';

COMMENT ON COLUMN app_public.raw_events.status IS 'Delivery reports: data.status in ACS''s spelling (Delivered, Expanded, Bounced, Suppressed, FilteredSpam, Quarantined, Failed) whatever the case received; an unknown status as received.';

COMMENT ON COLUMN app_public.raw_events.status_message IS 'Delivery reports: data.deliveryStatusDetails.statusMessage.';

COMMENT ON COLUMN app_public.raw_events.engagement_type IS 'Engagement reports: data.engagementType in lower case (view, click).';

COMMENT ON COLUMN app_public.raw_events.engagement_context IS 'Engagement reports: data.engagementContext, the clicked URL for a click.';

COMMENT ON COLUMN app_public.raw_events.user_agent IS 'Engagement reports: data.userAgent.';

COMMENT ON COLUMN app_public.raw_events.occurred_at IS 'When it happened: deliveryAttemptTimestamp / userActionTimestamp (either spelling), else the event time.';

COMMENT ON COLUMN app_public.raw_events.problem IS 'Why the event could not be interpreted (not an object, missing id, missing type, unparseable time, ...); NULL for a good event. Such events are kept but have no effects.';

COMMENT ON COLUMN app_public.raw_events.subscription_name IS 'The aeg-subscription-name header of its first delivery.';

COMMENT ON COLUMN app_public.raw_events.delivery_count IS 'The highest aeg-delivery-count header seen for this event.';

COMMENT ON COLUMN app_public.raw_events.times_received IS 'How many times this event was received (1 + duplicates).';

COMMENT ON COLUMN app_public.raw_events.received_at IS 'When it was first received.';

COMMENT ON COLUMN app_public.raw_events.last_received_at IS 'When it was last received.';

COMMENT ON COLUMN app_public.raw_events.event_text IS 'The event as received (JSON text), kept when it could not be stored as jsonb or under its own keys (a NUL character or a lone surrogate in a string, nesting too deep, an id or source too long for the index); event is then NULL and problem says why. NULL for every other event.';

ALTER TABLE app_public.raw_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.raw_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.raw_events
    ADD CONSTRAINT raw_events_pkey PRIMARY KEY (id);

CREATE INDEX raw_events_payload_received_at_idx ON app_public.raw_events USING btree (received_at) WHERE (event IS NOT NULL);

CREATE INDEX raw_events_received_at_idx ON app_public.raw_events USING btree (received_at);

CREATE UNIQUE INDEX raw_events_source_event_id_key ON app_public.raw_events USING btree (lower(source), event_id);

ALTER TABLE app_public.raw_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY select_all ON app_public.raw_events FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

GRANT SELECT ON TABLE app_public.raw_events TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.raw_events TO :DATABASE_READONLY;

GRANT SELECT,USAGE ON SEQUENCE app_public.raw_events_id_seq TO :DATABASE_ADMIN;

-- == app_public.templates ==

CREATE TABLE app_public.templates (
    id bigint NOT NULL,
    name text NOT NULL,
    subject text DEFAULT ''::text NOT NULL,
    html_body text DEFAULT ''::text NOT NULL,
    text_body text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE app_public.templates IS 'Reusable subject and bodies; a campaign copies or overrides them.';

ALTER TABLE app_public.templates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.templates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.templates
    ADD CONSTRAINT templates_pkey PRIMARY KEY (id);

CREATE POLICY delete_admin ON app_public.templates FOR DELETE TO :DATABASE_ADMIN USING (true);

CREATE POLICY insert_admin ON app_public.templates FOR INSERT TO :DATABASE_ADMIN WITH CHECK (true);

CREATE POLICY select_all ON app_public.templates FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

ALTER TABLE app_public.templates ENABLE ROW LEVEL SECURITY;

CREATE POLICY update_admin ON app_public.templates FOR UPDATE TO :DATABASE_ADMIN USING (true) WITH CHECK (true);

GRANT SELECT,DELETE ON TABLE app_public.templates TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.templates TO :DATABASE_READONLY;

GRANT INSERT(name),UPDATE(name) ON TABLE app_public.templates TO :DATABASE_ADMIN;

GRANT INSERT(subject),UPDATE(subject) ON TABLE app_public.templates TO :DATABASE_ADMIN;

GRANT INSERT(html_body),UPDATE(html_body) ON TABLE app_public.templates TO :DATABASE_ADMIN;

GRANT INSERT(text_body),UPDATE(text_body) ON TABLE app_public.templates TO :DATABASE_ADMIN;

GRANT SELECT,USAGE ON SEQUENCE app_public.templates_id_seq TO :DATABASE_ADMIN;

-- == app_public.unsubscribes ==

CREATE TABLE app_public.unsubscribes (
    id bigint NOT NULL,
    subscriber_id bigint NOT NULL,
    message_id bigint,
    campaign_id bigint,
    source text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE app_public.unsubscribes IS 'Unsubscriptions, with the message (and campaign) they came from when known; one per message.';

ALTER TABLE app_public.unsubscribes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.unsubscribes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX unsubscribes_message_id_key ON app_public.unsubscribes USING btree (message_id);

CREATE INDEX unsubscribes_subscriber_id_idx ON app_public.unsubscribes USING btree (subscriber_id);

CREATE POLICY select_all ON app_public.unsubscribes FOR SELECT TO :DATABASE_ADMIN, :DATABASE_READONLY USING (true);

ALTER TABLE app_public.unsubscribes ENABLE ROW LEVEL SECURITY;

GRANT SELECT ON TABLE app_public.unsubscribes TO :DATABASE_ADMIN;
GRANT SELECT ON TABLE app_public.unsubscribes TO :DATABASE_READONLY;

GRANT SELECT,USAGE ON SEQUENCE app_public.unsubscribes_id_seq TO :DATABASE_ADMIN;

-- == app_private.applied_sql_sources ==

CREATE TABLE app_private.applied_sql_sources (
    sha256 text NOT NULL,
    migration text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    PRIMARY KEY (sha256, migration)
);

COMMENT ON TABLE app_private.applied_sql_sources IS 'Each application of the files under migrations/sql (functions, views, triggers): their SHA-256 and the last migration applied before them. Mailroom applies them again at start when either differs.';

-- == Foreign keys ==

ALTER TABLE ONLY app_private.sender_secrets
    ADD CONSTRAINT sender_secrets_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.sender_sends
    ADD CONSTRAINT sender_sends_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_private.sender_throttles
    ADD CONSTRAINT sender_throttles_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id);

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_message_id_fkey FOREIGN KEY (message_id) REFERENCES app_public.messages(id);

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_raw_event_id_fkey FOREIGN KEY (raw_event_id) REFERENCES app_public.raw_events(id);

ALTER TABLE ONLY app_public.bounces
    ADD CONSTRAINT bounces_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.campaign_lists
    ADD CONSTRAINT campaign_lists_list_id_fkey FOREIGN KEY (list_id) REFERENCES app_public.lists(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.campaign_rollups
    ADD CONSTRAINT campaign_rollups_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.campaign_senders
    ADD CONSTRAINT campaign_senders_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id);

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id);

ALTER TABLE ONLY app_public.campaigns
    ADD CONSTRAINT campaigns_template_id_fkey FOREIGN KEY (template_id) REFERENCES app_public.templates(id) ON DELETE SET NULL;

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_list_id_fkey FOREIGN KEY (list_id) REFERENCES app_public.lists(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.list_memberships
    ADD CONSTRAINT list_memberships_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.senders(id) ON DELETE CASCADE;

ALTER TABLE ONLY app_public.test_sends
    ADD CONSTRAINT test_sends_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE SET NULL;

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES app_public.campaigns(id);

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_message_id_fkey FOREIGN KEY (message_id) REFERENCES app_public.messages(id);

ALTER TABLE ONLY app_public.unsubscribes
    ADD CONSTRAINT unsubscribes_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES app_public.subscribers(id) ON DELETE CASCADE;

-- == Reference data ==

-- app_public.bounce_policies

INSERT INTO app_public.bounce_policies (bounce_type, threshold, action) VALUES
	('hard', 1, 'blocklist'),
	('soft', 3, 'none'),
	('complaint', 1, 'blocklist');

-- app_public.bounce_rules

INSERT INTO app_public.bounce_rules (id, "position", status, status_message_pattern, bounce_type, blocklist_subscriber, description) VALUES
	(1, 1, 'Bounced', NULL, 'hard', false, 'Bounced is permanent.'),
	(2, 1, 'Failed', '(^|[^0-9.])5\.[0-9]{1,3}\.[0-9]{1,3}([^0-9]|$)', 'hard', false, 'Failed with an enhanced status code 5.x.x is permanent.'),
	(3, 2, 'Failed', NULL, 'soft', false, 'Other failures are transient.'),
	(4, 1, 'Quarantined', NULL, 'soft', false, ''),
	(5, 1, 'FilteredSpam', NULL, 'soft', false, ''),
	(6, 1, 'Suppressed', NULL, NULL, true, 'On ACS''s suppression list: blocklist the address, but it is not a new bounce.');

-- app_public.campaign_status_transitions

INSERT INTO app_public.campaign_status_transitions (from_status, to_status) VALUES
	('draft', 'scheduled'),
	('draft', 'running'),
	('draft', 'cancelled'),
	('scheduled', 'draft'),
	('scheduled', 'scheduled'),
	('scheduled', 'running'),
	('scheduled', 'cancelled'),
	('running', 'paused'),
	('running', 'finished'),
	('running', 'cancelled'),
	('paused', 'running'),
	('paused', 'cancelled'),
	('paused', 'finished');

-- app_public.delivery_statuses

INSERT INTO app_public.delivery_statuses (status, precedence, description) VALUES
	('Expanded', 10, 'A distribution list was expanded; an intermediate report, superseded by any outcome.'),
	('Delivered', 20, 'Accepted by the recipient''s mail server.'),
	('Quarantined', 30, 'Quarantined (spam, bulk or phishing).'),
	('FilteredSpam', 40, 'Identified as spam and filtered.'),
	('Failed', 50, 'Delivery failed.'),
	('Bounced', 60, 'Bounced: the address cannot receive mail. A bounce after Delivered (an asynchronous NDR) wins.'),
	('Suppressed', 70, 'The address is on ACS''s suppression list; nothing was attempted.');

-- app_public.engagement_settings

INSERT INTO app_public.engagement_settings (id, minimum_seconds_after_acceptance, burst_distinct_links, burst_seconds) VALUES
	(true, 2, 3, 5);

-- app_public.machine_user_agents

INSERT INTO app_public.machine_user_agents (id, pattern, kind, description) VALUES
	(1, 'GoogleImageProxy', 'image proxy', 'Gmail fetches images through ggpht.com.'),
	(2, 'YahooMailProxy', 'image proxy', 'Yahoo Mail image proxy.'),
	(3, '^Mozilla/5\.0$', 'privacy protection', 'Apple Mail Privacy Protection prefetches with a bare "Mozilla/5.0".'),
	(4, '^Mozilla/5\.0 \(Macintosh; Intel Mac OS X [0-9_]+\) AppleWebKit/[0-9.]+ \(KHTML, like Gecko\)$', 'privacy protection', 'Apple Mail Privacy Protection prefetch without a browser token.'),
	(5, 'Barracuda', 'link scanner', ''),
	(6, 'Mimecast', 'link scanner', ''),
	(7, 'Proofpoint|urldefense', 'link scanner', ''),
	(8, 'SafeLinks|Microsoft Office/[0-9.]+ \(.*Microsoft Outlook.*\) ?$|BingPreview', 'link scanner', 'Microsoft Defender Safe Links.'),
	(9, 'Symantec|Forcepoint|Trend ?Micro|Sophos|Cisco|IronPort|FireEye|Trustwave', 'link scanner', ''),
	(10, 'HeadlessChrome|PhantomJS|python-requests|curl/|Wget|Go-http-client|okhttp|Java/|libwww-perl', 'link scanner', 'Scripts and headless browsers.'),
	(11, 'bot[/;)-]|\ybot\y|crawler|spider|preview|facebookexternalhit', 'link scanner', 'Self-declared robots and link previews (a word boundary is \y in PostgreSQL).');

SELECT pg_catalog.setval('app_public.bounce_rules_id_seq', 6, true);

SELECT pg_catalog.setval('app_public.machine_user_agents_id_seq', 11, true);
