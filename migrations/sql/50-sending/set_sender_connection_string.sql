create or replace function app_public.set_sender_connection_string(sender_id bigint, connection_string text) returns void as $$
  insert into app_private.sender_secrets (sender_id, connection_string)
  values (set_sender_connection_string.sender_id, set_sender_connection_string.connection_string)
  on conflict (sender_id) do update set connection_string = excluded.connection_string;
$$ language sql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_public.set_sender_connection_string(sender_id bigint, connection_string text) is 'Stores the ACS connection string of a sender; it can be written but never read back through the API.';

revoke all on function app_public.set_sender_connection_string(sender_id bigint, connection_string text) from public;
grant execute on function app_public.set_sender_connection_string(sender_id bigint, connection_string text) to :DATABASE_ADMIN;
