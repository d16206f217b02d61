-- A campaign's bounces, complaints and messages not sent, by reason, for the dashboard's campaign report. Reads
-- app_public.bounces by campaign (index bounces_campaign_id_idx) and, of the ledger, only the messages that were not
-- sent (the partial index messages_not_sent_idx: failed and skipped rows alone), never the whole campaign.
--
--   kind     hard, soft (bounces by bounce_rules: Bounced, Failed, Quarantined, FilteredSpam), complaint,
--            send failed (ACS refused the message or attempts ran out: messages.last_error),
--            skipped (not sent: messages.send_status_reason)
--   status   the delivery report's status (Bounced, Failed, ...); NULL for complaints and messages not sent
--   reason   the status message (bounces.detail), the error, or why it was skipped; NULL on a kind's row of
--            "other reasons", which adds up the reasons beyond the first max_reasons of that kind
--   events   bounces and complaints counted (one per report), or messages not sent
--   last_at  the latest of them
--
-- Rows by kind, then by events, most first. Security invoker: the caller's role and row level security apply.
create or replace function app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer default 20)
returns table (kind text, status text, reason text, events bigint, last_at timestamptz) as $$
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
$$ language sql stable security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) is 'A campaign''s bounces (hard, soft), complaints and messages not sent (send failed, skipped) by reason: status and status message, error, or why skipped; how many and the latest. The first max_reasons reasons of each kind, the rest in one row with reason NULL. Reads bounces by campaign and only the failed and skipped messages (partial index), never the whole ledger.';

revoke all on function app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) from public;
grant execute on function app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) to :DATABASE_ADMIN;
grant execute on function app_public.campaign_bounce_reasons(campaign_id bigint, max_reasons integer) to :DATABASE_READONLY;
