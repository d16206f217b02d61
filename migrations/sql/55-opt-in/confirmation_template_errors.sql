-- The fields of a confirmation email are fewer than a campaign's: who is asked, which list, and the link.
create or replace function app_hidden.confirmation_template_errors(content text) returns text[] as $$
  select coalesce(array_agg(error order by n), '{}')
  from (
    select n, format('unknown field "%s" (a confirmation email knows subscriber.email, subscriber.name, list.id, list.name, confirm_url)', tag[1]) as error
    from regexp_matches(coalesce(content, ''), '\{\{\{?\s*([^{}]*?)\s*\}?\}\}', 'g') with ordinality as t(tag, n)
    where tag[1] !~ '^(subscriber\.(email|name)|list\.(id|name)|confirm_url)$'
    union all
    select 1000000, 'unbalanced braces: "{{" or "}}" outside a {{ field }}'
    where regexp_replace(coalesce(content, ''), '\{\{\{\s*[^{}]*?\s*\}\}\}|\{\{(?!\{)\s*[^{}]*?\s*\}\}', '', 'g') ~ '\{\{|\}\}'
  ) as errors
$$ language sql immutable;

comment on function app_hidden.confirmation_template_errors(content text) is 'The errors of a confirmation email''s subject, HTML or text (unknown fields, unbalanced braces); empty when valid. Fields: subscriber.email, subscriber.name, list.id, list.name, confirm_url.';

revoke all on function app_hidden.confirmation_template_errors(content text) from public;
grant execute on function app_hidden.confirmation_template_errors(content text) to :DATABASE_ADMIN;
