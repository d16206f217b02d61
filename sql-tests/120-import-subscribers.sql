-- Bulk import: one statement, every row reported; invalid rows and repeats rejected with the reason, the rest
-- imported; existing subscribers left alone unless asked; memberships added once; at most 10,000 rows.
insert into app_public.lists (name, opt_in) values ('L', 'single');
insert into app_public.subscribers (email, name) values ('old@example.org', 'Old');

set local role mailroom_admin;
create temporary table report as
select * from app_public.import_subscribers(array[
  ('new@example.org', 'New', '{"a": 1}'),
  ('OLD@example.org', 'Renamed', null),
  ('broken', null, null),
  (null, null, null),
  ('new@EXAMPLE.org', null, null),
  ('list@example.org', null, '[]'),
  ('list@example.org', null, null)
]::app_public.subscriber_import_row[], (select id from app_public.lists), 'confirmed');
do $$
begin
  assert (select array_agg(outcome order by row_number) from report)
    = array['created', 'existing', 'rejected', 'rejected', 'rejected', 'rejected', 'created'], 'outcomes';
  assert (select array_agg(coalesce(error, '-') order by row_number) from report)
    = array['-', '-', 'email is not a valid address', 'email is required', 'the same email as row 1',
            'attributes must be a JSON object', '-'], 'errors';
  assert (select name from app_public.subscribers where email = 'old@example.org') = 'Old', 'existing left alone';
  assert (select count(*) from app_public.list_memberships where status = 'confirmed') = 3, 'memberships';
  assert (select count(*) from report where added_to_list) = 3, 'added_to_list';
  assert (select outcome from app_public.import_subscribers(array[('old@example.org', 'Renamed', null)]::app_public.subscriber_import_row[],
    update_existing => true)) = 'updated', 'update_existing';
  assert (select name from app_public.subscribers where email = 'old@example.org') = 'Renamed', 'updated';
  begin
    perform app_public.import_subscribers(array(select ('x' || i || '@example.org', null, null)::app_public.subscriber_import_row
                                                from generate_series(1, 10001) as i));
    assert false, 'at most 10,000 rows';
  exception when invalid_parameter_value then null;
  end;
end
$$;
reset role;

set local role mailroom_readonly;
do $$
begin
  perform app_public.import_subscribers(array[('r@example.org', null, null)]::app_public.subscriber_import_row[]);
  assert false, 'the read-only role imports nothing';
exception when insufficient_privilege then null;
end
$$;
