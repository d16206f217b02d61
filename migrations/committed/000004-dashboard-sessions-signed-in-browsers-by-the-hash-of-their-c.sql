--! Previous: sha1:26372fe3be140f96e7598f6047d46faaf08844ae
--! Hash: sha1:0f5ecc0c7772198ecbdbb90fa57657efd530f970
--! Message: Dashboard sessions: signed-in browsers by the hash of their cookie token

-- Dashboard sessions: a browser signed in with an API key, known by the SHA-256 of its cookie's random token
-- (the token itself is never stored). A session lasts until it is ended (signing out), expires, or its API key is
-- revoked or expires; every request checks all three.

drop table if exists app_private.dashboard_sessions;

create table app_private.dashboard_sessions (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  api_key_id bigint not null references app_private.api_keys (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ended_at timestamptz,
  check (expires_at > created_at)
);

create index dashboard_sessions_api_key_id_idx on app_private.dashboard_sessions (api_key_id);

comment on table app_private.dashboard_sessions is 'Dashboard sign-ins: the SHA-256 (hex) of the session cookie''s token, the API key signed in with (its role decides what the pages show and allow, through the same roles and row-level security as GraphQL), when it expires and when it was ended by signing out.';
