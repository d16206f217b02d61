create or replace function app_private.fail_queued_messages(campaign_id bigint, reason text) returns integer as $$
  with failed as (
    update app_public.messages as m set send_status = 'failed', send_status_reason = 'invalid content', last_error = reason
    where m.campaign_id = fail_queued_messages.campaign_id and m.send_status = 'queued'
    returning 1
  )
  select count(*)::integer from failed
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.fail_queued_messages(campaign_id bigint, reason text) is 'Marks every queued message of a campaign failed with the reason (content that cannot be rendered).';

revoke all on function app_private.fail_queued_messages(campaign_id bigint, reason text) from public;
