-- (Stable, as timestamptz + interval is, so that it is inlined where it is used; every cast to text is explicit.)
-- What an engagement event means: a machine's (with the reason) or, when this returns NULL, a person's.
--   1. the event alone says so (event_reason): the request (request_machine_reason: honeypot, HEAD, IP range) or the
--      user agent (user_agent_machine_reason);
--   2. it came too soon: less than minimum_seconds_after_acceptance after the later of ACS's acceptance and the
--      delivery (the time of the Delivered report, when that is the message's delivery status);
--   3. it is a click in a burst: clicks on burst_distinct_links or more distinct links of the message within
--      burst_seconds (burst_distinct_links: that count around this click; NULL when not counted), or a hit on the
--      message's honeypot link within burst_seconds (honeypot_near).
create or replace function app_private.engagement_machine_reason(
  event_reason text, occurred_at timestamptz, accepted_at timestamptz, delivery_status text,
  delivery_status_at timestamptz, burst_distinct_links bigint, honeypot_near boolean,
  settings app_public.engagement_settings
) returns text
language sql stable parallel safe
as $$
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

comment on function app_private.engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings) is 'Why an engagement event is a machine''s (the request or user agent; less than minimum_seconds_after_acceptance after the later of acceptance and delivery; a burst of clicks on distinct links, or near a honeypot hit), or NULL for a person. Used by attribution, refresh_messages, the rollup trigger and campaign_rollup_from_events.';

revoke all on function app_private.engagement_machine_reason(event_reason text, occurred_at timestamp with time zone, accepted_at timestamp with time zone, delivery_status text, delivery_status_at timestamp with time zone, burst_distinct_links bigint, honeypot_near boolean, settings app_public.engagement_settings) from public;
