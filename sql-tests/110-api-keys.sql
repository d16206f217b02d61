-- API keys: only the hash is stored; the authenticator may check a hash and nothing else; revoked and expired
-- keys are reported as such, unknown keys not at all.
insert into app_private.api_keys (name, role, key_hash, key_prefix, expires_at, revoked_at) values
  ('dashboard', 'analyst', repeat('a', 64), 'mrk_aaaaaa', null, null),
  ('old', 'admin', repeat('b', 64), 'mrk_bbbbbb', null, now()),
  ('temporary', 'admin', repeat('c', 64), 'mrk_cccccc', now() - interval '1 second', null);

set local role mailroom_authenticator;
do $$
begin
  assert (select (role, state) = ('analyst', 'valid') from app_hidden.authenticate_api_key(repeat('a', 64))), 'valid';
  assert (select state from app_hidden.authenticate_api_key(repeat('b', 64))) = 'revoked', 'revoked';
  assert (select state from app_hidden.authenticate_api_key(repeat('c', 64))) = 'expired', 'expired';
  assert not exists (select from app_hidden.authenticate_api_key(repeat('d', 64))), 'unknown: no row';
  begin
    perform count(*) from app_private.api_keys;
    assert false, 'the authenticator cannot read the keys';
  exception when insufficient_privilege then null;
  end;
end
$$;
reset role;

set local role mailroom_admin;
do $$
begin
  perform app_hidden.authenticate_api_key(repeat('a', 64));
  assert false, 'request roles cannot check keys';
exception when insufficient_privilege then null;
end
$$;
reset role;

do $$
begin
  insert into app_private.api_keys (name, role, key_hash, key_prefix) values ('bad', 'owner', repeat('e', 64), 'mrk_');
  assert false, 'roles are admin or analyst';
exception when check_violation then null;
end
$$;
