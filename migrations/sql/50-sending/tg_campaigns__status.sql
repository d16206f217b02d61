create or replace function app_private.tg_campaigns__status() returns trigger as $$
begin
  if new.status is distinct from old.status then
    if not exists (select 1 from app_public.campaign_status_transitions
                   where from_status = old.status and to_status = new.status) then
      raise exception 'campaign % cannot go from % to %', old.id, old.status, new.status using errcode = '55000';
    end if;
    new.status_changed_at = now();
  end if;
  -- What the messages are rendered from (engagement_tracking decides the links and the pixel) is fixed at start.
  if (new.subject, new.html_body, new.text_body, new.sender_id, new.template_id, new.engagement_tracking)
     is distinct from (old.subject, old.html_body, old.text_body, old.sender_id, old.template_id, old.engagement_tracking)
     and old.status not in ('draft', 'scheduled') then
    raise exception 'campaign % is % and can no longer be edited', old.id, old.status using errcode = '55000';
  end if;
  return new;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

revoke all on function app_private.tg_campaigns__status() from public;

create or replace trigger _200_status before update on app_public.campaigns for each row execute function app_private.tg_campaigns__status();
