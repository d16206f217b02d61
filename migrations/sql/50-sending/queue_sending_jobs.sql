create or replace function app_private.queue_sending_jobs() returns integer as $$
  select count(app_private.schedule_sending(r.campaign_id))::integer
  from app_public.campaign_rollups as r
  join app_public.campaigns as c on c.id = r.campaign_id
  where r.sending > 0 or (r.queued > 0 and c.status = 'running')
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.queue_sending_jobs() is 'Queues the send job of every campaign with messages to send or in doubt; run when a worker starts, so that campaigns whose job was held by a worker that died carry on at once.';

revoke all on function app_private.queue_sending_jobs() from public;
