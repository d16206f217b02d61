create or replace function app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer default 10000)
returns integer as $$
  -- A hit's address is kept whole for older_than, then only its network: the /24 of an IPv4 address, the /48 of an
  -- IPv6 one (in the column and in the payload as received). The machine classification made with the whole
  -- address stays.
  with old as (
    select e.id, network(set_masklen(e.ip_address, case family(e.ip_address) when 4 then 24 else 48 end))::inet as truncated
    from app_public.raw_events as e
    where e.ip_address is not null and masklen(e.ip_address) in (32, 128) and e.received_at < now() - older_than
    order by e.received_at
    limit max_rows
    for update skip locked
  ),
  truncated as (
    update app_public.raw_events as e set
      ip_address = old.truncated,
      event = case when e.event is null then null
                   else jsonb_set(e.event, '{data,ipAddress}', to_jsonb(old.truncated::text)) end
    from old where e.id = old.id
    returning 1
  )
  select count(*)::integer from truncated
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer) is 'Truncates the client address of at most max_rows Mailroom tracking hits received more than older_than ago (to the /24 of IPv4, the /48 of IPv6; in ip_address and in the payload), oldest first; returns how many. Call it until it returns less than max_rows.';

revoke all on function app_private.truncate_tracking_ip_addresses(older_than interval, max_rows integer) from public;
