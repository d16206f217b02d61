create or replace function app_private.new_internet_message_id(sending_domain text) returns text as $$
  select '<' || app_private.uuid_v7() || '@' || sending_domain || '>'
$$ language sql volatile parallel safe;

comment on function app_private.new_internet_message_id(sending_domain text) is 'A new RFC 5322 Message-ID for the sending domain: <uuid@domain>, the UUID a version 7 one (time-ordered).';

revoke all on function app_private.new_internet_message_id(sending_domain text) from public;
