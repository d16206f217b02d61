create or replace function app_public.template_errors(content text) returns text[] as $$
  select coalesce(array_agg(error order by n), '{}')
  from (
    select n, format('unknown field "%s"', tag[1]) as error
    from regexp_matches(coalesce(content, ''), '\{\{\{?\s*([^{}]*?)\s*\}?\}\}', 'g') with ordinality as t(tag, n)
    where tag[1] !~ '^(subscriber\.(email|name|id|attributes\.[A-Za-z0-9_-]+)|list\.(id|name)|campaign\.(id|name)|unsubscribe_url)$'
    union all
    select 1000000, 'unbalanced braces: "{{" or "}}" outside a {{ field }}'
    where regexp_replace(coalesce(content, ''), '\{\{\{\s*[^{}]*?\s*\}\}\}|\{\{(?!\{)\s*[^{}]*?\s*\}\}', '', 'g') ~ '\{\{|\}\}'
  ) as errors
$$ language sql immutable;

comment on function app_public.template_errors(content text) is 'The errors of a template text (subject, HTML or text part): unknown fields and unbalanced braces; empty when valid.';

revoke all on function app_public.template_errors(content text) from public;
grant execute on function app_public.template_errors(content text) to :DATABASE_ADMIN;
