create or replace function app_private.to_inet(value text) returns inet as $$
begin
  if value is null or value !~ '^[0-9A-Fa-f:.]{2,45}$' then
    return null;
  end if;
  return value::inet;
exception when invalid_text_representation then
  return null;
end;
$$ language plpgsql immutable parallel safe;

comment on function app_private.to_inet(value text) is 'The address in a text, or NULL when it is not one (no error).';

revoke all on function app_private.to_inet(value text) from public;
