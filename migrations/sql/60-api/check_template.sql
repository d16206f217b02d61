create or replace function app_public.check_template(part text, content text) returns void as $$
declare
  errors text[] := app_public.template_errors(content);
begin
  if cardinality(errors) > 0 then
    raise exception 'the % of the campaign has errors: %', part, array_to_string(errors, '; ') using errcode = '22023',
      hint = 'Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY, list.id, list.name, '
             'campaign.id, campaign.name, unsubscribe_url; {{ field }} is HTML-escaped, {{{ field }}} is not.';
  end if;
end;
$$ language plpgsql immutable;

revoke all on function app_public.check_template(part text, content text) from public;
grant execute on function app_public.check_template(part text, content text) to :DATABASE_ADMIN;
