create or replace function app_private.to_timestamptz(value text) returns timestamptz
language plpgsql stable parallel safe
as $$
declare
  digits text;
begin
  -- The common form, checked field by field (day of month up to 28: later days go the full way).
  if octet_length(value) between 20 and 38 and value like '____-__-__T__:__:__%' then
    digits := replace(replace(replace(left(value, 19), '-', ''), 'T', ''), ':', '');
    if octet_length(digits) = 14 and digits ~ '^[0-9]+$'
       and substr(digits, 1, 4) <> '0000' and substr(digits, 5, 2) between '01' and '12'
       and substr(digits, 7, 2) between '01' and '28' and substr(digits, 9, 2) <= '23'
       and substr(digits, 11, 2) <= '59' and substr(digits, 13, 2) <= '59'
       and substr(value, 20) ~ '^(\.[0-9]+)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$' then
      return value::timestamptz;
    end if;
  end if;
  -- ISO 8601 (fraction and offset optional), with valid ranges and day of month; at most 38 characters, the
  -- longest such time with 12 digits of fraction (PostgreSQL refuses far longer input with an error).
  if length(value) > 38
     or value !~ '^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:([0-5][0-9]|60)(\.[0-9]+)?)?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$'
     or substr(value, 1, 4) = '0000'
     or substr(value, 9, 2)::integer > extract(day from make_date(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer, 1)
                                                       + interval '1 month - 1 day') then
    return null;
  end if;
  -- With its offset (Z, or a sign after the hour and minute) as given; without one, UTC.
  if upper(right(value, 1)) = 'Z' or strpos(substr(value, 17), '+') > 0 or strpos(substr(value, 17), '-') > 0 then
    return value::timestamptz;
  end if;
  return value::timestamp at time zone 'UTC';
end;
$$;

comment on function app_private.to_timestamptz(value text) is 'An ISO 8601 time as timestamptz (UTC when it has no offset), or NULL when it is not a valid ISO 8601 time or its offset is beyond 15:59. Never raises.';

revoke all on function app_private.to_timestamptz(value text) from public;
