create or replace function app_private.tg_campaigns__check_content() returns trigger as $$
begin
  perform app_private.check_campaign_content(new);
  return new;
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;

comment on function app_private.tg_campaigns__check_content() is 'Refuses to schedule or start a campaign whose subject (its own, else its template''s) or bodies (its own if it has any, else its template''s) have template errors.';

revoke all on function app_private.tg_campaigns__check_content() from public;

create or replace trigger _300_check_content before update of status on app_public.campaigns for each row when (((new.status = ANY (ARRAY['scheduled'::text, 'running'::text])) and (old.status = ANY (ARRAY['draft'::text, 'scheduled'::text])))) execute function app_private.tg_campaigns__check_content();
