-- Everything that happened to one subscriber, across campaigns and lists, in time order: one row per fact, each
-- fact once. Read by `mailroom subscribers timeline`, GraphQL's Query.subscriberTimeline and psql alike:
--
--   select * from app_public.subscriber_timeline(42);
--
-- kind             at                               from
-- message          accepted_at, else created_at     messages: one per campaign sent to them; status = send_status,
--                                                   detail = why it was skipped or the last error
-- delivery_report  the report's time                message_events (delivery reports): status, its message, bounce_type
-- open, click      the engagement's time            message_events (views, clicks): url, machine and machine_reason
--                                                   (NULL: human), source azure or mailroom, ignored_reason (set: it
--                                                   counts nowhere, e.g. a click on the unsubscribe link)
-- unsubscribe      when it was recorded             unsubscribes: source (one_click, ...), the message and campaign
-- complaint        when it was recorded             bounces of type complaint (record_complaint)
-- bounce           when it was recorded             bounces recorded without a delivery report (a bounce from a report
--                                                   is its delivery_report row: the same event is not listed twice)
-- list_joined      membership created_at            list_memberships: list_id, list_name, status = the current status
-- list_confirmed   confirmed_at                     list_memberships
-- list_unsubscribed unsubscribed_at                 list_memberships (an unsubscribe from a campaign also has its
--                                                   unsubscribe row: that one says which message it came from)
--
-- Ordered by time, then by kind in the order above, then by message, list and event: the same rows in the same
-- order every time. SECURITY INVOKER: it reads the tables with the caller's privileges and row level security,
-- through the indexes by subscriber (messages, list_memberships, unsubscribes, bounces) and by message
-- (message_events), so its cost follows the subscriber's history, not the size of the tables.
create or replace function app_public.subscriber_timeline(subscriber_id bigint)
returns table (
  at timestamptz,
  kind text,
  campaign_id bigint,
  campaign_name text,
  message_id bigint,
  list_id bigint,
  list_name text,
  status text,
  detail text,
  bounce_type text,
  url text,
  machine boolean,
  machine_reason text,
  source text,
  ignored_reason text,
  raw_event_id bigint
) as $$
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
$$ language sql stable security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_public.subscriber_timeline(subscriber_id bigint) is 'Everything that happened to one subscriber, in time order, one row per fact: messages sent (kind message, with the send status), delivery reports, opens and clicks (url; machine and machine_reason, NULL reason = human; source azure or mailroom; ignored_reason when it counts nowhere), unsubscribes (source), complaints, bounces recorded without a delivery report, and list membership changes (list_joined, list_confirmed, list_unsubscribed). campaign_id and message_id say which campaign and message a row belongs to. Security invoker: the caller''s privileges and row level security apply.';

revoke all on function app_public.subscriber_timeline(subscriber_id bigint) from public;
grant execute on function app_public.subscriber_timeline(subscriber_id bigint) to :DATABASE_ADMIN;
grant execute on function app_public.subscriber_timeline(subscriber_id bigint) to :DATABASE_READONLY;
