-- What a campaign sends: its own subject, else its template's; its own bodies if it has any, else its template's.
create or replace function app_private.campaign_content(campaign app_public.campaigns,
                                                        out subject text, out html_body text, out text_body text)
language sql stable
as $$
  select coalesce(nullif(campaign.subject, ''), t.subject, ''),
    case when campaign.html_body <> '' or campaign.text_body <> '' then campaign.html_body else coalesce(t.html_body, '') end,
    case when campaign.html_body <> '' or campaign.text_body <> '' then campaign.text_body else coalesce(t.text_body, '') end
  from (select) as one left join app_public.templates as t on t.id = campaign.template_id
$$;

comment on function app_private.campaign_content(campaign app_public.campaigns, out subject text, out html_body text, out text_body text) is 'The subject (the campaign''s, else its template''s) and bodies (the campaign''s if it has any, else its template''s) that a campaign sends. Used by the check of its content, send_test_email and the sending worker.';

revoke all on function app_private.campaign_content(campaign app_public.campaigns, out subject text, out html_body text, out text_body text) from public;
