create or replace function app_private.check_campaign_ready(campaign app_public.campaigns) returns void as $$
begin
  if campaign.status = 'cancelled' then
    raise exception 'campaign % is cancelled and cannot be started', campaign.id using errcode = '55000';
  elsif campaign.status in ('running', 'paused', 'finished') then
    raise exception 'campaign % has already been started (it is %)', campaign.id, campaign.status using errcode = '55000';
  elsif campaign.sender_id is null then
    raise exception 'campaign % has no sender', campaign.id using errcode = '55000';
  elsif not exists (select 1 from app_public.campaign_lists where campaign_id = campaign.id) then
    raise exception 'campaign % has no lists', campaign.id using errcode = '55000';
  end if;
end;
$$ language plpgsql stable set search_path to pg_catalog, public, pg_temp;

revoke all on function app_private.check_campaign_ready(campaign app_public.campaigns) from public;
