create or replace function app_private.tg_messages__keys_immutable() returns trigger as $$
begin
  raise exception 'the keys of message % (campaign, subscriber, recipient, Message-ID, operation id) never change', old.id
    using errcode = '55000';
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

revoke all on function app_private.tg_messages__keys_immutable() from public;

create or replace trigger _060_keys_immutable before update on app_public.messages for each row when ((((((new.campaign_id is distinct from old.campaign_id) or (new.subscriber_id is distinct from old.subscriber_id)) or (new.recipient is distinct from old.recipient)) or (new.internet_message_id is distinct from old.internet_message_id)) or (new.operation_id is distinct from old.operation_id))) execute function app_private.tg_messages__keys_immutable();
