create or replace function app_private.lock_campaign(campaign_id bigint) returns app_public.campaigns as $$
declare
  campaign app_public.campaigns;
begin
  select * into campaign from app_public.campaigns where id = lock_campaign.campaign_id for update;
  if not found then
    raise exception 'campaign % does not exist', lock_campaign.campaign_id using errcode = 'P0002';
  end if;
  return campaign;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.lock_campaign(campaign_id bigint) is 'The campaign, locked for the rest of the transaction; raises when it does not exist.';

revoke all on function app_private.lock_campaign(campaign_id bigint) from public;
