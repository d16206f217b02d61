create or replace function app_public.unschedule_campaign(campaign_id bigint) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'scheduled' then
    raise exception 'campaign % is %, not scheduled', campaign.id, campaign.status using errcode = '55000';
  end if;
  update app_public.campaigns set status = 'draft', scheduled_at = null where id = campaign.id returning * into campaign;
  return campaign;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.unschedule_campaign(campaign_id bigint) is 'Turns a scheduled campaign back into a draft.';

revoke all on function app_public.unschedule_campaign(campaign_id bigint) from public;
grant execute on function app_public.unschedule_campaign(campaign_id bigint) to :DATABASE_ADMIN;
