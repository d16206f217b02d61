-- The rollup delta of a set of message changes: per campaign, what the changed rows add to (sign 1: a row as it is
-- now) or take from (sign -1: a row as it was) each number of campaign_rollups. This is the one place that says
-- what a message counts for (0 when nothing counts). `changes` is a query of (sign, the messages' columns); the result is a query whose
-- rows have campaign_rollups' columns, in its order. Used by the trigger on messages (the changes of each
-- statement: its transition tables) and by recompute_campaign_rollup (all of a campaign's messages, sign 1).
create or replace function app_private.rollup_delta_query(changes text) returns text
language sql immutable parallel safe
as $$
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
$$;

comment on function app_private.rollup_delta_query(changes text) is 'The query of the rollup delta of a set of message changes (given as a query of sign and message columns): per campaign, campaign_rollups'' columns. The one definition of what a message counts for, used by the trigger on messages and by recompute_campaign_rollup.';

revoke all on function app_private.rollup_delta_query(changes text) from public;
