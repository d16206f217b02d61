create or replace function app_public.unblocklist_subscriber(subscriber_id bigint) returns app_public.subscribers as $$
declare
  subscriber app_public.subscribers;
begin
  update app_public.subscribers as s set status = 'enabled'
  where s.id = unblocklist_subscriber.subscriber_id returning * into subscriber;
  if not found then
    raise exception 'subscriber % does not exist', unblocklist_subscriber.subscriber_id using errcode = 'P0002';
  end if;
  return subscriber;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_public.unblocklist_subscriber(subscriber_id bigint) is 'Takes a subscriber off the blocklist. Their bounces stay counted: the bounce policy may still stop sends to them.';

revoke all on function app_public.unblocklist_subscriber(subscriber_id bigint) from public;
grant execute on function app_public.unblocklist_subscriber(subscriber_id bigint) to :DATABASE_ADMIN;
