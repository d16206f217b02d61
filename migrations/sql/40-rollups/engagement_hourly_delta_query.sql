-- The hourly engagement delta of a set of message_events changes: per campaign and UTC hour, what the changed
-- events add to (sign 1: an event as it is now) or take from (sign -1: an event as it was) campaign_engagement_hourly.
-- This is the one place that says what an event counts for there: an engagement event that counts
-- (ignored_reason NULL) is an open (view) or a click in the hour of its occurred_at, human without a
-- machine_reason; a delivery report, or engagement that counts nowhere, adds nothing. `changes` is a query of
-- (sign, campaign_id, occurred_at, kind, engagement_type, machine_reason, ignored_reason); the result is a query
-- whose rows have campaign_engagement_hourly's columns, in its order, only those that change something. Used by
-- attribute_events (the events it records), refresh_messages (the events it classifies again) and
-- recompute_campaign_rollup (all of a campaign's events, sign 1).
create or replace function app_private.engagement_hourly_delta_query(changes text) returns text
language sql immutable parallel safe
as $$
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
$$;

comment on function app_private.engagement_hourly_delta_query(changes text) is 'The query of the campaign_engagement_hourly delta of a set of message_events changes (given as a query of sign, campaign_id, occurred_at, kind, engagement_type, machine_reason, ignored_reason): per campaign and UTC hour, the table''s columns. The one definition of what an event counts for per hour, used by attribute_events, refresh_messages and recompute_campaign_rollup.';

revoke all on function app_private.engagement_hourly_delta_query(changes text) from public;
