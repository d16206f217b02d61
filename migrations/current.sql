-- Enter migration here

-- == sending: signing secret race ==

-- The secret of that name, stored as the candidate on first use. Three statements, not one: when another
-- transaction stores the secret at the same moment, the insert waits for it and then does nothing, and only a
-- statement begun after that commit can see its row (one statement's snapshot predates it, and returned NULL).
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
comment on function app_private.signing_secret(text, text) is
  'The secret of that name, stored as the candidate (a fresh random value) on first use. Never NULL: when another transaction stores it at the same time, that transaction''s secret is returned once it commits (in READ COMMITTED, which every caller uses).';
