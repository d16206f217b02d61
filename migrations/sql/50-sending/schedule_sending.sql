create or replace function app_private.schedule_sending(campaign_id bigint) returns timestamptz
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  at timestamptz := app_private.next_send_at(campaign_id);
begin
  if at is not null then
    perform app_private.queue_send_job(campaign_id, greatest(at, now()));
  end if;
  return at;
end;
$$;

comment on function app_private.schedule_sending(campaign_id bigint) is 'Queues the campaign''s send job for next_send_at (replacing a pending one); returns that time, NULL if none.';

revoke all on function app_private.schedule_sending(campaign_id bigint) from public;
