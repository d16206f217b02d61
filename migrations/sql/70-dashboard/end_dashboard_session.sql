-- Signing out of the dashboard: the session of this cookie token hash is ended (ended_at), for good. The cookie
-- is refused from then on, even if a copy of it is sent again (app_hidden.dashboard_session says ended). True when
-- this call ended it; false when it was ended already or never existed.
create or replace function app_hidden.end_dashboard_session(token_hash text) returns boolean as $$
  with ended as (
    update app_private.dashboard_sessions as s set ended_at = now()
    where s.token_hash = end_dashboard_session.token_hash and s.ended_at is null
    returning 1
  )
  select exists (select from ended)
$$ language sql volatile security definer set search_path to pg_catalog, public, pg_temp;

comment on function app_hidden.end_dashboard_session(token_hash text) is 'For the authenticator: ends the dashboard session of the cookie token with this SHA-256 (hex) (signing out). True when this call ended it.';

revoke all on function app_hidden.end_dashboard_session(token_hash text) from public, :DATABASE_ADMIN, :DATABASE_READONLY;
grant execute on function app_hidden.end_dashboard_session(token_hash text) to :DATABASE_AUTHENTICATOR;
