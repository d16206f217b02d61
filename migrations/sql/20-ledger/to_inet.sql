create or replace function app_private.to_inet(value text) returns inet as $$
begin
  if value is null or value !~ '^[0-9A-Fa-f:.]{2,45}$' then
    return null;
  end if;
  -- An IPv4 address casts without a doubt, and without the subtransaction of the handler below.
  if value ~ '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$' then
    return value::inet;
  end if;
  begin
    return value::inet;
  exception when invalid_text_representation then
    return null;
  end;
end;
$$ language plpgsql immutable parallel safe;

comment on function app_private.to_inet(value text) is 'The address in a text, or NULL when it is not one (no error).';

revoke all on function app_private.to_inet(value text) from public;
