create or replace function app_public.cancel_campaign(campaign_id bigint) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status in ('cancelled', 'finished') then
    raise exception 'campaign % is already %', campaign.id, campaign.status using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'cancelled', cancelled_at = now() where id = campaign.id returning * into campaign;
  update app_public.messages set send_status = 'cancelled', send_status_reason = 'campaign cancelled'
  where messages.campaign_id = campaign.id and send_status = 'queued';
  return campaign;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.cancel_campaign(campaign_id bigint) is 'Cancels a campaign: its queued messages become cancelled. Messages already handed to ACS stay as they are, and their events keep being attributed to the campaign.';

revoke all on function app_public.cancel_campaign(campaign_id bigint) from public;
grant execute on function app_public.cancel_campaign(campaign_id bigint) to :DATABASE_ADMIN;
