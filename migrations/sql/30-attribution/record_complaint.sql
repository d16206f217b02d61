create or replace function app_public.record_complaint(message_id bigint, detail text default null) returns boolean as $$
declare
  message app_public.messages;
begin
  select * into message from app_public.messages where id = record_complaint.message_id for update;
  if not found then
    raise exception 'message % does not exist', record_complaint.message_id using errcode = 'P0002';
  end if;
  if message.complained_at is not null then
    return false;
  end if;
  insert into app_public.bounces (subscriber_id, message_id, campaign_id, bounce_type, detail)
  values (message.subscriber_id, message.id, message.campaign_id, 'complaint', detail);
  update app_public.messages set complained_at = now() where id = message.id;
  return true;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.record_complaint(message_id bigint, detail text) is 'Records a spam complaint about a message (once per message); the complaint policy then applies.';

revoke all on function app_public.record_complaint(message_id bigint, detail text) from public;
grant execute on function app_public.record_complaint(message_id bigint, detail text) to :DATABASE_ADMIN;
