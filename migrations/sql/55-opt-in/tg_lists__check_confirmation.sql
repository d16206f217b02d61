-- A list's confirmation content is checked when it is written, not when the first confirmation is sent: unknown
-- fields, stray braces, and a body without its link are refused (22023) with the part named.
create or replace function app_private.tg_lists__check_confirmation() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
declare
  part record;
  errors text[];
begin
  for part in
    select * from (values ('subject', new.confirmation_subject), ('HTML part', new.confirmation_html), ('text part', new.confirmation_text)) as p(name, content)
    where p.content is not null
  loop
    if btrim(part.content) = '' then
      raise exception 'the confirmation % of list "%" is empty (NULL gives the built-in one)', part.name, new.name using errcode = '22023';
    end if;
    errors := app_hidden.confirmation_template_errors(part.content);
    if cardinality(errors) > 0 then
      raise exception 'the confirmation % of list "%" has errors: %', part.name, new.name, array_to_string(errors, '; ')
        using errcode = '22023';
    end if;
    if part.name <> 'subject' and part.content !~ '\{\{\{?\s*confirm_url\s*\}?\}\}' then
      raise exception 'the confirmation % of list "%" has no {{ confirm_url }}: the person could not confirm', part.name, new.name
        using errcode = '22023';
    end if;
  end loop;
  return new;
end;
$$;

comment on function app_private.tg_lists__check_confirmation() is 'Trigger: refuses a list whose confirmation subject, HTML or text has template errors, or whose HTML or text part lacks {{ confirm_url }}.';

revoke all on function app_private.tg_lists__check_confirmation() from public;

create or replace trigger _300_check_confirmation before insert or update of confirmation_subject, confirmation_html, confirmation_text
  on app_public.lists for each row execute function app_private.tg_lists__check_confirmation();
