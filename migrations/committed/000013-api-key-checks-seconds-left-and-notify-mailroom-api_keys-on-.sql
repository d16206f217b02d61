--! Previous: sha1:ec22421d98dcd893662aa715bb145f3829fd74f3
--! Hash: sha1:72da2f4a8de790105bd1609d588fbcb81c7943bc
--! Message: API key checks: seconds left, and NOTIFY mailroom:api_keys on every change

-- API key checks cached by the GraphQL server for a few seconds (GRAPHQL_API_KEY_CACHE_SECONDS): the check
-- says how long the key has left, and every change to a key is announced at once with NOTIFY, so that a
-- revoked key stops working at every server without waiting for its cache entry to end.

drop trigger if exists _900_notify on app_private.api_keys;
drop function if exists app_private.tg_api_keys__notify();
drop function if exists app_hidden.authenticate_api_key(text);

create function app_hidden.authenticate_api_key(key_hash text)
returns table (api_key_id bigint, role text, state text, seconds_left double precision) as $$
  select k.id, k.role,
    case when k.revoked_at is not null then 'revoked'
         when k.expires_at <= now() then 'expired'
         else 'valid' end,
    extract(epoch from k.expires_at - now())::double precision
  from app_private.api_keys as k
  where k.key_hash = authenticate_api_key.key_hash
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;
comment on function app_hidden.authenticate_api_key(text) is
  'For the authenticator: the key with this SHA-256 (hex), its role, whether it is valid, revoked or expired, and '
  'the seconds until it expires (NULL: never); no row for an unknown key.';
revoke all on function app_hidden.authenticate_api_key(text) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant execute on function app_hidden.authenticate_api_key(text) to :DATABASE_AUTHENTICATOR;

create function app_private.tg_api_keys__notify() returns trigger as $$
begin
  perform pg_notify('mailroom:api_keys', '');
  return null;
end;
$$ language plpgsql set search_path = pg_catalog, public, pg_temp;
comment on function app_private.tg_api_keys__notify() is
  'Trigger function: NOTIFY mailroom:api_keys when keys are changed or removed (a revocation), so that GraphQL '
  'servers forget the key checks they cached.';

create trigger _900_notify after update or delete or truncate on app_private.api_keys
  for each statement execute function app_private.tg_api_keys__notify();
