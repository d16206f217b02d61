create or replace function app_private.is_internet_message_id(value text) returns boolean
language sql immutable parallel safe
as $$
  select value ~ '^<[-0-9a-f]+@[-.0-9a-z]+>$' and strpos(value, '@') = 38
$$;

comment on function app_private.is_internet_message_id(value text) is 'Whether the text is a Message-ID as Mailroom generates them: <uuid@sending-domain>, in lower case.';

revoke all on function app_private.is_internet_message_id(value text) from public;
