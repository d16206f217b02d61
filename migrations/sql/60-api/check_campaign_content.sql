-- The check of start, schedule and test sends: every template error of the campaign's subject, HTML and text (the
-- content it sends, app_private.campaign_content) in one error, the parts in that order, as the renderer
-- (src/sending/template.ts, compileCampaign) lists them:
--   campaign 7 has template errors: subject line 1: unknown field "subscriber.nme" in {{ subscriber.nme }}; html line 12: ...
create or replace function app_private.check_campaign_content(campaign app_public.campaigns) returns void as $$
declare
  content record;
  errors text[];
begin
  select * into content from app_private.campaign_content(campaign);
  errors := array(
    select p.part || ' ' || e.error
    from (values (1, 'subject', content.subject), (2, 'html', content.html_body), (3, 'text', content.text_body)) as p(n, part, body)
    cross join lateral unnest(app_public.template_errors(p.body)) with ordinality as e(error, m)
    order by p.n, e.m
  );
  if cardinality(errors) > 0 then
    raise exception 'campaign % has template errors: %', campaign.id, array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$ language plpgsql stable set search_path = pg_catalog, public, pg_temp;

comment on function app_private.check_campaign_content(campaign app_public.campaigns) is 'Raises (22023) "campaign N has template errors: PART line N: ..." with every template error of the campaign''s subject (its own, else its template''s) and bodies (its own if it has any, else its template''s), naming the part, the line and the placeholder.';

revoke all on function app_private.check_campaign_content(campaign app_public.campaigns) from public;
