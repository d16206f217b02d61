create or replace function app_private.to_uuid(value text) returns uuid
language plpgsql immutable parallel safe
as $$
declare
  digits text := value;
begin
  -- 32 hexadecimal digits, with the four hyphens of the standard form or none, in braces or not.
  if digits like '{%}' then
    digits := substr(digits, 2, length(digits) - 2);
  end if;
  if (digits like '________-____-____-____-____________' or octet_length(digits) = 32)
     and octet_length(replace(digits, '-', '')) = 32 and digits ~ '^[-0-9A-Fa-f]+$' then
    return digits::uuid;
  end if;
  return null;
end;
$$;

comment on function app_private.to_uuid(value text) is 'The text as a UUID (32 hexadecimal digits in either case, with the four hyphens or none, in braces or not), or NULL. Never raises.';

revoke all on function app_private.to_uuid(value text) from public;
