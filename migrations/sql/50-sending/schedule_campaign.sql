create or replace function app_public.schedule_campaign(campaign_id bigint, start_at timestamptz) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  perform app_private.check_campaign_ready(campaign);
  if start_at is null or start_at <= now() then
    raise exception 'a campaign must be scheduled in the future (got %)', start_at using errcode = '22023';
  end if;
  update app_public.campaigns set status = 'scheduled', scheduled_at = start_at
  where id = campaign.id returning * into campaign;
  perform app_private.add_job('start_scheduled_campaign', json_build_object('campaignId', campaign.id),
                              run_at => start_at, job_key => 'start_scheduled_campaign:' || campaign.id);
  return campaign;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) is 'Schedules a draft (or reschedules a scheduled) campaign; queues start_scheduled_campaign {"campaignId": id} to run then.';

revoke all on function app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) from public;
grant execute on function app_public.schedule_campaign(campaign_id bigint, start_at timestamp with time zone) to :DATABASE_ADMIN;
