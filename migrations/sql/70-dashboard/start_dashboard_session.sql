-- Signing in to the dashboard: the API key with this SHA-256 (hex) is checked as app_hidden.authenticate_api_key
-- checks it for GraphQL, and only a valid key opens a session, known by the SHA-256 (hex) of the cookie's random
-- token (the token itself is never stored). The session ends `hours` from now, or when the key expires if that is
-- sooner. Returns one row (state valid, revoked or expired; the key's id, name and role; when the session ends,
-- NULL unless valid), or no row for an unknown key. Called by the dashboard as the authenticator, before any role
-- is taken; the request roles cannot call it.
create or replace function app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision)
returns table (state text, api_key_id bigint, key_name text, role text, expires_at timestamptz) as $$
declare
  key record;
  ends timestamptz;
begin
  select k.id, k.name, k.role, k.expires_at,
    case when k.revoked_at is not null then 'revoked' when k.expires_at <= now() then 'expired' else 'valid' end as state
  into key
  from app_private.api_keys as k
  where k.key_hash = start_dashboard_session.key_hash;
  if not found then
    return;
  end if;
  if key.state = 'valid' then
    -- least() ignores NULL: a key without expiry leaves the session its hours.
    insert into app_private.dashboard_sessions (token_hash, api_key_id, expires_at)
    values (start_dashboard_session.token_hash, key.id, least(now() + make_interval(secs => hours * 3600), key.expires_at))
    returning dashboard_sessions.expires_at into ends;
  end if;
  return query select key.state::text, key.id::bigint, key.name::text, key.role::text, ends;
end;
$$ language plpgsql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) is 'For the authenticator: signs a browser in to the dashboard with the API key of this SHA-256 (hex), when the key is valid, as a session known by the SHA-256 (hex) of its cookie token, lasting `hours` (at most until the key expires). Returns the key''s state (valid, revoked, expired), id, name and role and the session''s end (NULL when not started); no row for an unknown key.';

revoke all on function app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant execute on function app_hidden.start_dashboard_session(key_hash text, token_hash text, hours double precision) to :DATABASE_AUTHENTICATOR;
