-- Every dashboard request: the session of this cookie token hash and its API key, checked together in one
-- statement. state is valid only when the session has not been ended (signed out), has not expired, and its key
-- is neither revoked nor expired; otherwise it says which: ended, expired, key revoked, key expired. No row for a
-- token that was never issued. last_seen_at is written at most once a minute per session, so that a page's
-- requests do not each write a row.
create or replace function app_hidden.dashboard_session(token_hash text)
returns table (state text, api_key_id bigint, key_name text, role text, expires_at timestamptz) as $$
  with session as (
    select s.token_hash, s.api_key_id, k.name, k.role, s.expires_at, s.last_seen_at,
      case when s.ended_at is not null then 'ended'
           when s.expires_at <= now() then 'expired'
           when k.revoked_at is not null then 'key revoked'
           when k.expires_at <= now() then 'key expired'
           else 'valid' end as state
    from app_private.dashboard_sessions as s
    join app_private.api_keys as k on k.id = s.api_key_id
    where s.token_hash = dashboard_session.token_hash
  ), seen as (
    update app_private.dashboard_sessions as d set last_seen_at = now()
    from session
    where d.token_hash = session.token_hash and session.state = 'valid' and session.last_seen_at < now() - interval '1 minute'
  )
  select session.state, session.api_key_id, session.name, session.role, session.expires_at from session
$$ language sql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.dashboard_session(token_hash text) is 'For the authenticator: the dashboard session of the cookie token with this SHA-256 (hex) and its API key, checked together: state valid, ended, expired, key revoked or key expired; the key''s id, name and role; when the session ends. No row for an unknown token. Notes last_seen_at at most once a minute.';

revoke all on function app_hidden.dashboard_session(token_hash text) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant execute on function app_hidden.dashboard_session(token_hash text) to :DATABASE_AUTHENTICATOR;
