create or replace function app_private.tg_messages__internet_message_id() returns trigger
language plpgsql
set search_path to pg_catalog, public, pg_temp
as $$
begin
  if new.internet_message_id is null then
    new.internet_message_id = app_private.new_internet_message_id(
      (select sending_domain from app_public.senders where id = new.sender_id));
  end if;
  if not coalesce(app_private.is_internet_message_id(new.internet_message_id), false) then
    raise exception 'message Message-ID % is not <uuid@sending-domain> in lower case', new.internet_message_id
      using errcode = '23514', table = 'messages', column = 'internet_message_id';
  end if;
  return new;
end;
$$;

comment on function app_private.tg_messages__internet_message_id() is 'Generates the Message-ID of a message inserted without one (start_campaign generates them in its INSERT), and refuses a malformed one (23514).';

revoke all on function app_private.tg_messages__internet_message_id() from public;

create or replace trigger _050_internet_message_id before insert on app_public.messages for each row when (((new.internet_message_id is null) or (not coalesce(app_private.is_internet_message_id(new.internet_message_id), false)))) execute function app_private.tg_messages__internet_message_id();
