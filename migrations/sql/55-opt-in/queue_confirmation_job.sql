create or replace function app_private.queue_confirmation_job(sender_id bigint, run_at timestamptz default null) returns void
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  delete from graphile_worker._private_jobs as j
  where j.key = 'send_confirmations:' || queue_confirmation_job.sender_id and j.locked_at is not null;
  perform app_private.add_job('send_confirmations', json_build_object('senderId', queue_confirmation_job.sender_id),
                              run_at => queue_confirmation_job.run_at, job_key => 'send_confirmations:' || queue_confirmation_job.sender_id);
end;
$$;

comment on function app_private.queue_confirmation_job(sender_id bigint, run_at timestamp with time zone) is 'Queues the job that sends the sender''s confirmation emails (key send_confirmations:ID) for run_at (NULL: now), replacing a waiting one; a locked one is removed rather than left to graphile-worker (as app_private.queue_send_job does for campaigns).';

revoke all on function app_private.queue_confirmation_job(sender_id bigint, run_at timestamp with time zone) from public;
