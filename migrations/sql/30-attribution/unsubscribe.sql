create or replace function app_private.unsubscribe(operation_id uuid, source text default 'one_click') returns boolean as $$
declare
  message app_public.messages;
begin
  select * into message from app_public.messages as m where m.operation_id = unsubscribe.operation_id;
  if not found then
    return false;
  end if;
  update app_public.list_memberships set status = 'unsubscribed'
  where subscriber_id = message.subscriber_id and status <> 'unsubscribed'
    and list_id in (select list_id from app_public.campaign_lists where campaign_id = message.campaign_id);
  insert into app_public.unsubscribes (subscriber_id, message_id, campaign_id, source)
  values (message.subscriber_id, message.id, message.campaign_id, unsubscribe.source)
  on conflict (message_id) do nothing;
  update app_public.messages set unsubscribed_at = now() where id = message.id and unsubscribed_at is null;
  return true;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.unsubscribe(operation_id uuid, source text) is 'Unsubscribes the recipient of the message with this operation id from the campaign''s lists (RFC 8058 one-click or a link); counted once per message. False when no message has this operation id.';

revoke all on function app_private.unsubscribe(operation_id uuid, source text) from public;
