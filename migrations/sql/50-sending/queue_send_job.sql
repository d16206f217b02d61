create or replace function app_private.queue_send_job(campaign_id bigint, run_at timestamptz default null) returns void
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  delete from graphile_worker._private_jobs as j
  where j.key = 'send_campaign:' || queue_send_job.campaign_id and j.locked_at is not null;
  perform app_private.add_job('send_campaign', json_build_object('campaignId', queue_send_job.campaign_id),
                              run_at => queue_send_job.run_at, job_key => 'send_campaign:' || queue_send_job.campaign_id);
end;
$$;

comment on function app_private.queue_send_job(campaign_id bigint, run_at timestamp with time zone) is 'Queues the campaign''s send job (key send_campaign:ID) for run_at (NULL: now), replacing a waiting one. A locked one (running, or held by a worker that died) is removed rather than left to graphile-worker, which would keep it with its attempts exhausted as if it had failed.';

revoke all on function app_private.queue_send_job(campaign_id bigint, run_at timestamp with time zone) from public;
