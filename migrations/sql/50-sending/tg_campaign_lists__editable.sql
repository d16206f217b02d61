create or replace function app_private.tg_campaign_lists__editable() returns trigger as $$
begin
  if exists (select 1 from app_public.campaigns
             where id = coalesce(new.campaign_id, old.campaign_id) and status not in ('draft', 'scheduled')) then
    raise exception 'the lists of campaign % can no longer be changed', coalesce(new.campaign_id, old.campaign_id)
      using errcode = '55000';
  end if;
  return coalesce(new, old);
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

revoke all on function app_private.tg_campaign_lists__editable() from public;

create or replace trigger _200_editable before insert or delete or update on app_public.campaign_lists for each row execute function app_private.tg_campaign_lists__editable();
