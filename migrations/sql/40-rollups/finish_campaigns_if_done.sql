create or replace function app_private.finish_campaigns_if_done(campaign_ids bigint[]) returns void as $$
  update app_public.campaigns as c
  set status = 'finished', finished_at = now()
  from app_public.campaign_rollups as r
  where c.id = any(campaign_ids) and r.campaign_id = c.id
    and c.status = 'running' and r.queued = 0 and r.sending = 0;
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.finish_campaigns_if_done(campaign_ids bigint[]) is 'Marks running campaigns finished when none of their messages is queued or sending.';

revoke all on function app_private.finish_campaigns_if_done(campaign_ids bigint[]) from public;
