create or replace function app_public.blocklist_subscriber(subscriber_id bigint) returns app_public.subscribers as $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'blocklisted'
  where s.id = blocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', blocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_public.blocklist_subscriber(subscriber_id bigint) is 'Blocklists a subscriber: no campaign will send to them (messages still queued are skipped by the sender).';

revoke all on function app_public.blocklist_subscriber(subscriber_id bigint) from public;
grant execute on function app_public.blocklist_subscriber(subscriber_id bigint) to :DATABASE_ADMIN;
