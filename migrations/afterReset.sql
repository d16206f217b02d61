-- Run by graphile-migrate as the superuser after it (re)creates a database (reset, and the shadow
-- database when committing). The roles themselves are created by Mailroom (src/db/roles.ts).
begin;
revoke all on database :DATABASE_NAME from public;
grant connect on database :DATABASE_NAME to :DATABASE_OWNER, :DATABASE_AUTHENTICATOR, :DATABASE_READONLY;
grant all on database :DATABASE_NAME to :DATABASE_OWNER;
alter schema public owner to :DATABASE_OWNER;
commit;
