-- A new draft campaign made like an existing one (in any status): the same template, subject and bodies, sender
-- and additional senders, lists and engagement tracking. Nothing of the original's sending is copied: no schedule,
-- no times, no messages, numbers or test sends. Security invoker: the caller needs the rights to create a
-- campaign (the admin role has them; the read-only role gets 42501).
create or replace function app_public.duplicate_campaign(campaign_id bigint, name text default null)
returns app_public.campaigns as $$
declare
  original app_public.campaigns;
  new_campaign app_public.campaigns;
begin
  select * into original from app_public.campaigns as c where c.id = duplicate_campaign.campaign_id;
  if not found then
    raise exception 'campaign % does not exist', duplicate_campaign.campaign_id using errcode = 'P0002';
  end if;
  if duplicate_campaign.name is not null and btrim(duplicate_campaign.name) = '' then
    raise exception 'the name of a campaign cannot be empty' using errcode = '22023';
  end if;

  insert into app_public.campaigns (name, template_id, sender_id, subject, html_body, text_body, engagement_tracking)
  values (coalesce(btrim(duplicate_campaign.name), original.name || ' (copy)'), original.template_id, original.sender_id,
          original.subject, original.html_body, original.text_body, original.engagement_tracking)
  returning * into new_campaign;

  insert into app_public.campaign_lists (campaign_id, list_id)
  select new_campaign.id, cl.list_id from app_public.campaign_lists as cl where cl.campaign_id = original.id;
  insert into app_public.campaign_senders (campaign_id, sender_id)
  select new_campaign.id, cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = original.id;
  return new_campaign;
end;
$$ language plpgsql volatile security invoker set search_path to pg_catalog, public, pg_temp;

comment on function app_public.duplicate_campaign(campaign_id bigint, name text) is 'Creates a draft campaign like the given one (any status): the same template, subject, bodies, sender, additional senders (campaign_senders), lists and engagement_tracking; named name, else "<name> (copy)". Nothing of the original''s sending is copied (schedule, times, messages, numbers, test sends). Returns the new campaign.';

revoke all on function app_public.duplicate_campaign(campaign_id bigint, name text) from public;
grant execute on function app_public.duplicate_campaign(campaign_id bigint, name text) to :DATABASE_ADMIN;
