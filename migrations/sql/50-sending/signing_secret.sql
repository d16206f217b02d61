create or replace function app_private.signing_secret(name text, candidate text) returns text
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  stored text;
begin
  select s.secret into stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  if found then
    return stored;
  end if;
  insert into app_private.signing_secrets (name, secret) values (signing_secret.name, candidate)
  on conflict do nothing
  returning secret into stored;
  if found then
    return stored;
  end if;
  select s.secret into strict stored from app_private.signing_secrets as s where s.name = signing_secret.name;
  return stored;
end;
$$;

comment on function app_private.signing_secret(name text, candidate text) is 'The secret of that name, stored as the candidate (a fresh random value) on first use. Never NULL: when another transaction stores it at the same time, that transaction''s secret is returned once it commits (in READ COMMITTED, which every caller uses).';

revoke all on function app_private.signing_secret(name text, candidate text) from public;
