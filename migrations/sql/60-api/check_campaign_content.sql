create or replace function app_private.check_campaign_content(campaign app_public.campaigns) returns void as $$
declare
  content record;
begin
  select * into content from app_private.campaign_content(campaign);
  perform app_public.check_template('subject', content.subject);
  perform app_public.check_template('HTML part', content.html_body);
  perform app_public.check_template('text part', content.text_body);
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;

comment on function app_private.check_campaign_content(campaign app_public.campaigns) is 'Raises (22023, naming the part, line and field) when the campaign''s subject (its own, else its template''s) or bodies (its own if it has any, else its template''s) have template errors.';

revoke all on function app_private.check_campaign_content(campaign app_public.campaigns) from public;
