-- The schemas exist and nothing in them is granted to PUBLIC.
do $$
begin
  assert (select count(*) from pg_namespace where nspname in ('app_public', 'app_hidden', 'app_private')) = 3,
    'the three application schemas exist';
  assert not has_schema_privilege('public', 'app_private', 'usage'), 'PUBLIC cannot use app_private';
  assert not has_schema_privilege('mailroom_admin', 'app_private', 'usage'), 'the admin role cannot use app_private';
  assert has_schema_privilege('mailroom_readonly', 'app_public', 'usage'), 'the read-only role can use app_public';
end
$$;

-- The timestamps trigger function keeps created_at and a strictly increasing updated_at.
create temporary table timestamped (id int primary key, created_at timestamptz, updated_at timestamptz);
create trigger _100_timestamps before insert or update on timestamped
  for each row execute function app_private.tg__timestamps();
insert into timestamped (id, created_at, updated_at) values (1, '2000-01-01', '2000-01-01');

do $$
declare
  before_update timestamptz;
begin
  assert (select created_at from timestamped where id = 1) = now(), 'created_at is set by the database, not the client';
  select updated_at into before_update from timestamped where id = 1;
  update timestamped set created_at = '1999-01-01' where id = 1;
  assert (select created_at from timestamped where id = 1) = now(), 'created_at cannot be changed';
  assert (select updated_at from timestamped where id = 1) > before_update, 'updated_at moves forward on every update';
end
$$;

-- Row triggers on the tables written in bulk (messages, subscribers, list memberships) call functions without a SET
-- clause: a SET clause makes every call save, set and restore the setting, once per row.
do $$
declare
  with_settings text;
begin
  select string_agg(distinct t.tgrelid::regclass || ': ' || p.oid::regprocedure, ', ') into with_settings
  from pg_trigger as t join pg_proc as p on p.oid = t.tgfoid
  where t.tgrelid in ('app_public.messages'::regclass, 'app_public.subscribers'::regclass,
                      'app_public.list_memberships'::regclass)
    and t.tgtype & 1 = 1           -- FOR EACH ROW
    and t.tgtype & (4 | 16) <> 0   -- on INSERT or UPDATE
    and t.tgqual is null           -- not only for rare rows (a WHEN condition)
    and not t.tgisinternal
    and p.proconfig is not null;
  assert with_settings is null, 'row trigger functions with a SET clause: ' || coalesce(with_settings, '');
end
$$;

-- add_job queues a graphile-worker job.
select app_private.add_job('sql_test_job', '{"id": 42}');
do $$
begin
  assert exists (
    select 1
    from graphile_worker._private_jobs as jobs
    join graphile_worker._private_tasks as tasks on tasks.id = jobs.task_id
    where tasks.identifier = 'sql_test_job' and jobs.payload->>'id' = '42'
  ), 'app_private.add_job queues a job';
end
$$;
