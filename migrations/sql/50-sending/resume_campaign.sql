create or replace function app_public.resume_campaign(campaign_id bigint) returns app_public.campaigns
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'paused' then
    raise exception 'campaign % is %; only a paused campaign can be resumed', campaign.id, campaign.status
      using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'running', paused_at = null where id = campaign.id;
  perform app_private.finish_campaigns_if_done(array[campaign.id]);
  select * into campaign from app_public.campaigns where id = campaign.id;
  if campaign.status = 'running' then
    perform app_private.queue_send_job(campaign.id);
  end if;
  return campaign;
end;
$$;

comment on function app_public.resume_campaign(campaign_id bigint) is 'Resumes a paused campaign and queues send_campaign again.';

revoke all on function app_public.resume_campaign(campaign_id bigint) from public;
grant execute on function app_public.resume_campaign(campaign_id bigint) to :DATABASE_ADMIN;
