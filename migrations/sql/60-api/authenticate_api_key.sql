create or replace function app_hidden.authenticate_api_key(key_hash text)
returns table (api_key_id bigint, role text, state text, seconds_left double precision) as $$
  select k.id, k.role,
    case when k.revoked_at is not null then 'revoked'
         when k.expires_at <= now() then 'expired'
         else 'valid' end,
    extract(epoch from k.expires_at - now())::double precision
  from app_private.api_keys as k
  where k.key_hash = authenticate_api_key.key_hash
$$ language sql stable security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.authenticate_api_key(key_hash text) is 'For the authenticator: the key with this SHA-256 (hex), its role, whether it is valid, revoked or expired, and the seconds until it expires (NULL: never); no row for an unknown key.';

revoke all on function app_hidden.authenticate_api_key(key_hash text) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant execute on function app_hidden.authenticate_api_key(key_hash text) to :DATABASE_AUTHENTICATOR;
