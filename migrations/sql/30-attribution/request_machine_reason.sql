create or replace function app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet)
returns text as $$
  select case
    when honeypot then 'honeypot link'
    when http_method = 'HEAD' then 'HEAD request'
    else (select 'IP range: ' || r.kind || ' (' || r.range::text || case when r.description <> '' then ', ' || r.description else '' end || ')'
          from app_public.machine_ip_ranges as r
          where r.range >>= ip_address
          order by masklen(r.range) desc, r.id
          limit 1)
  end
$$ language sql stable parallel safe;

comment on function app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet) is 'Why a Mailroom tracking hit is a machine''s from the request alone: the honeypot link, a HEAD request, or an address in machine_ip_ranges (the narrowest range). NULL otherwise.';

revoke all on function app_private.request_machine_reason(http_method text, honeypot boolean, ip_address inet) from public;
