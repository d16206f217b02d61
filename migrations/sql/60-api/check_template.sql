-- Raises every error of one template text, each prefixed with the part it is in:
--   template errors: html line 12: unknown field "subscriber.nmae" in {{ subscriber.nmae }}; html line 30: ...
create or replace function app_public.check_template(part text, content text) returns void as $$
declare
  errors text[] := array(select part || ' ' || e.error
                         from unnest(app_public.template_errors(content)) with ordinality as e(error, n)
                         order by e.n);
begin
  if cardinality(errors) > 0 then
    raise exception 'template errors: %', array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$ language plpgsql immutable;

comment on function app_public.check_template(part text, content text) is 'Raises (22023) "template errors: PART line N: ..." with every error of the text (app_public.template_errors), each prefixed with the part given ("subject", "html", "text").';

revoke all on function app_public.check_template(part text, content text) from public;
grant execute on function app_public.check_template(part text, content text) to :DATABASE_ADMIN;
