create or replace function app_private.ingest_job(job_id bigint)
  returns table (received integer, inserted integer, duplicates integer)
  language plpgsql
  set search_path to app_public, app_private, app_hidden, public
as $$
declare
  payload json;
  deliveries jsonb;
  delivery json;
  header jsonb;
  event jsonb;
  result record;
  stored boolean;
begin
  -- The job's payload as the receiver wrote it, read here: it is not parsed and written again on the way.
  select case json_typeof(j.payload) when 'array' then j.payload else json_build_array(j.payload) end
    into payload
  from graphile_worker._private_jobs as j where j.id = job_id;
  if payload is null then
    raise exception 'job % does not exist', job_id using errcode = 'P0002';
  end if;
  received := 0; inserted := 0; duplicates := 0;

  -- 1. Parse. The receiver sets aside every event PostgreSQL cannot hold as jsonb (see "unstorable" below), so
  --    this fails only for a job written some other way; then each delivery that cannot be parsed is kept as text.
  begin
    deliveries := payload::jsonb;
  exception when data_exception or program_limit_exceeded then
    deliveries := '[]';
    for delivery in select d.value from json_array_elements(payload) as d loop
      begin
        deliveries := deliveries || jsonb_build_array(delivery::jsonb);
      exception when data_exception or program_limit_exceeded then
        select * into result from app_private.store_unreadable_event(delivery::text, null, null, null,
          'delivery cannot be stored as JSON: ' || sqlerrm);
        received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
      end;
    end loop;
  end;

  -- 2. Store every event in one statement; the triggers on raw_events attribute them.
  begin
    select * into result from app_private.ingest_events(deliveries);
    stored := true;
  exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
    stored := false;
  end;
  if stored then
    received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
  else
    -- Some content cannot be stored: isolate it, event by event. A content error never fails the job, so
    -- the job is never retried for it and no other event waits for it.
    for header, event in
      select d.value - 'events' - 'unstorable', e.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'events') when 'array' then d.value->'events' else '[]' end) as e
    loop
      begin
        select * into result from app_private.ingest_events(header || jsonb_build_object('events', jsonb_build_array(event)));
      exception when data_exception or program_limit_exceeded or integrity_constraint_violation then
        select * into result from app_private.store_unreadable_event(event::text, event->>'id',
          case when header->>'schema' = 'cloudevents' then coalesce(event->>'source', event->>'topic')
               else coalesce(event->>'topic', event->>'source') end,
          header, 'cannot be stored: ' || sqlerrm);
      end;
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;

  -- 3. The events the receiver set aside, kept as text with the receiver's reason.
  if strpos(payload::text, '"unstorable"') > 0 then
    for header, event in
      select d.value - 'events' - 'unstorable', u.value
      from jsonb_array_elements(deliveries) as d,
        jsonb_array_elements(case jsonb_typeof(d.value->'unstorable') when 'array' then d.value->'unstorable' else '[]' end) as u
    loop
      select * into result from app_private.store_unreadable_event(event->>'text', event->>'id', event->>'source',
        header, coalesce(event->>'problem', 'cannot be stored as JSON'));
      received := received + result.received; inserted := inserted + result.inserted; duplicates := duplicates + result.duplicates;
    end loop;
  end if;
  return next;
end;
$$;

comment on function app_private.ingest_job(job_id bigint) is 'Stores the deliveries of one ingest_events job (its payload in graphile_worker._private_jobs, read as written; the public jobs view leaves the payload out). One statement for the whole job. When some content cannot be stored, the job is split event by event and each event that still cannot be stored is kept as text with its problem (store_unreadable_event); the events the receiver set aside as "unstorable" (nested too deep, a NUL character, a lone surrogate, an id or source too long) are kept the same way. Content never fails the job; only a transient error does, and graphile-worker retries it.';

revoke all on function app_private.ingest_job(job_id bigint) from public;
