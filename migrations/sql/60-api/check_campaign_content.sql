create or replace function app_private.check_campaign_content(campaign app_public.campaigns) returns void as $$
declare
  template app_public.templates;
begin
  select * into template from app_public.templates where id = campaign.template_id;
  perform app_public.check_template('subject', coalesce(nullif(campaign.subject, ''), template.subject));
  if campaign.html_body <> '' or campaign.text_body <> '' then
    perform app_public.check_template('HTML part', campaign.html_body);
    perform app_public.check_template('text part', campaign.text_body);
  else
    perform app_public.check_template('HTML part', template.html_body);
    perform app_public.check_template('text part', template.text_body);
  end if;
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;

comment on function app_private.check_campaign_content(campaign app_public.campaigns) is 'Raises (22023, naming the part, line and field) when the campaign''s subject (its own, else its template''s) or bodies (its own if it has any, else its template''s) have template errors.';

revoke all on function app_private.check_campaign_content(campaign app_public.campaigns) from public;
