create or replace function app_private.start_scheduled_campaign(campaign_id bigint) returns boolean as $$
declare
  campaign app_public.campaigns := app_private.lock_campaign(campaign_id);
begin
  if campaign.status <> 'scheduled' or campaign.scheduled_at > now() then
    return false;
  end if;
  perform app_public.start_campaign(campaign.id);
  return true;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.start_scheduled_campaign(campaign_id bigint) is 'For the start_scheduled_campaign job: starts the campaign if it is still scheduled and due; false otherwise.';

revoke all on function app_private.start_scheduled_campaign(campaign_id bigint) from public;
