create or replace function app_private.too_soon_after_acceptance(occurred_at timestamptz, accepted_at timestamptz,
                                                                  minimum_seconds numeric)
returns text
language sql stable parallel safe
as $$
  select case when occurred_at < accepted_at + make_interval(secs => minimum_seconds)
              then 'less than ' || minimum_seconds || ' s after acceptance' end
$$;

comment on function app_private.too_soon_after_acceptance(occurred_at timestamp with time zone, accepted_at timestamp with time zone, minimum_seconds numeric) is 'The machine reason of engagement that came sooner than minimum_seconds after ACS accepted the message, or NULL.';

revoke all on function app_private.too_soon_after_acceptance(occurred_at timestamp with time zone, accepted_at timestamp with time zone, minimum_seconds numeric) from public;
