create or replace function app_private.normalize_internet_message_id(value text) returns text as $$
declare
  trimmed text := lower(btrim(value));
begin
  if trimmed is null or trimmed = '' then
    return null;
  elsif trimmed like '<%>' then
    return trimmed;
  end if;
  return '<' || trimmed || '>';
end;
$$ language plpgsql immutable parallel safe;

comment on function app_private.normalize_internet_message_id(value text) is 'The key an RFC Message-ID is matched by: trimmed, lower case, in angle brackets. Mailroom generates its Message-IDs in lower case, so this is exactly the value stored on the message.';

revoke all on function app_private.normalize_internet_message_id(value text) from public;
