-- The template rule in SQL, the same as src/sending/template.ts (templateErrors) with the same messages, so that
-- a campaign with a bad placeholder is refused when it is scheduled or started, before any message exists.
--
--   {{ field }}  or  {{{ field }}}   a placeholder; field one of the names in `fields` below
--
-- The text is read from left to right, one placeholder after the other, as the renderer reads it. Each error
-- names its line (1 + the line breaks before it):
--   line 12: unknown field "subscriber.nmae" in {{ subscriber.nmae }}      (the placeholder as written)
--   line 3: unbalanced braces: "{{" outside a {{ field }}                  (the first stray "{{" or "}}" between
--                                                                            two placeholders)
-- regexp_instr and regexp_substr need PostgreSQL 15.
create or replace function app_public.template_errors(content text) returns text[] as $$
declare
  -- {{{ field }}} (inserted as is) or {{ field }} (HTML-escaped in the HTML part); group 1 or 2 is the field.
  tag constant text := '\{\{\{\s*([^{}]*?)\s*\}\}\}|\{\{(?!\{)\s*([^{}]*?)\s*\}\}';
  fields constant text := '^(subscriber\.(email|name|id|attributes\.[A-Za-z0-9_-]+)|list\.(id|name)|campaign\.(id|name)|unsubscribe_url)$';
  source constant text := coalesce(content, '');
  errors text[] := '{}';
  at integer := 1;      -- the first character not read yet
  found integer;        -- where the next placeholder starts; 0 when there is none
  between text;         -- the literal text from `at` to the next placeholder (or the end)
  stray integer;
  placeholder text;
  field text;
  before text;
begin
  loop
    found := regexp_instr(source, tag, at);
    between := substr(source, at, case when found = 0 then length(source) + 1 - at else found - at end);
    stray := regexp_instr(between, '\{\{|\}\}');
    if stray > 0 then
      before := left(source, at + stray - 2);
      errors := errors || format('line %s: unbalanced braces: "%s" outside a {{ field }}',
                                 1 + length(before) - length(replace(before, E'\n', '')), substr(between, stray, 2));
    end if;
    exit when found = 0;
    placeholder := regexp_substr(source, tag, at);
    field := coalesce(regexp_substr(source, tag, at, 1, '', 1), regexp_substr(source, tag, at, 1, '', 2));
    if field !~ fields then
      before := left(source, found - 1);
      errors := errors || format('line %s: unknown field "%s" in %s',
                                 1 + length(before) - length(replace(before, E'\n', '')), field,
                                 regexp_replace(placeholder, '\s+', ' ', 'g'));
    end if;
    at := found + length(placeholder);
  end loop;
  return errors;
end;
$$ language plpgsql immutable;

comment on function app_public.template_errors(content text) is 'The errors of a template text (subject, HTML or text part), each "line N: ...": unknown fields with the placeholder as written, and unbalanced braces; empty when valid. The same list as the renderer''s (src/sending/template.ts).';

revoke all on function app_public.template_errors(content text) from public;
grant execute on function app_public.template_errors(content text) to :DATABASE_ADMIN;
