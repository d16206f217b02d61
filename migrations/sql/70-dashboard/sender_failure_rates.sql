-- Each sender's failure rate over the last 24 hours and the last 7 days, from the campaign rollups (no scan of
-- messages): failed = messages that bounced (bounced_hard + bounced_soft: Bounced, Failed, Quarantined,
-- FilteredSpam) or were suppressed, over messages ACS accepted. Azure asks for a failure rate under 2% before it
-- raises a resource's sending limits; above_threshold says whether it is 2% or more.
--
-- A rollup counts a whole campaign, not a time, so a window counts the campaigns of the sender that were sending
-- in it: started, and not finished or cancelled before the window began. A campaign sending for weeks counts in
-- both windows with all of its messages. Messages a claim moved to another sender count for the campaign's sender.
--
-- Security invoker: the caller's privileges and row level security apply (admin and read-only roles).
create or replace view app_hidden.sender_failure_rates with (security_invoker = true) as
select s.id as sender_id, w.name as window_name, w.since,
  count(c.id) as campaigns,
  coalesce(sum(r.accepted), 0)::bigint as accepted,
  coalesce(sum(r.bounced_hard + r.bounced_soft + r.suppressed), 0)::bigint as failed,
  round(sum(r.bounced_hard + r.bounced_soft + r.suppressed)::numeric / nullif(sum(r.accepted), 0), 4) as failure_rate,
  coalesce(sum(r.bounced_hard + r.bounced_soft + r.suppressed)::numeric / nullif(sum(r.accepted), 0) >= 0.02, false) as above_threshold
from app_public.senders as s
cross join (values ('24 hours', now() - interval '24 hours'), ('7 days', now() - interval '7 days')) as w(name, since)
left join app_public.campaigns as c
  on c.sender_id = s.id and c.started_at is not null
  and coalesce(c.finished_at, c.cancelled_at, 'infinity') >= w.since
left join app_public.campaign_rollups as r on r.campaign_id = c.id
group by s.id, w.name, w.since;

comment on view app_hidden.sender_failure_rates is 'Per sender and window (24 hours, 7 days): the campaigns sending in the window, their accepted messages, those that bounced or were suppressed (failed), failed / accepted (failure_rate) and whether it is 2% or more (above_threshold: Azure asks for less before raising sending limits). From campaign_rollups; a window counts whole campaigns.';

grant select on app_hidden.sender_failure_rates to :DATABASE_ADMIN;
grant select on app_hidden.sender_failure_rates to :DATABASE_READONLY;
