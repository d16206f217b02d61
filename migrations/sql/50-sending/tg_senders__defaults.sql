create or replace function app_private.tg_senders__defaults() returns trigger as $$
begin
  new.from_address = btrim(new.from_address);
  new.sending_domain = lower(coalesce(nullif(btrim(new.sending_domain), ''), split_part(new.from_address, '@', 2)));
  if new.send_window_time_zone is not null
     and not exists (select 1 from pg_catalog.pg_timezone_names where name = new.send_window_time_zone) then
    raise exception 'unknown time zone "%"', new.send_window_time_zone using errcode = '22023',
      hint = 'Use an IANA time zone name such as Europe/Paris.';
  end if;
  return new;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

revoke all on function app_private.tg_senders__defaults() from public;

create or replace trigger _200_defaults before insert or update on app_public.senders for each row execute function app_private.tg_senders__defaults();
