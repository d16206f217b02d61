create or replace function app_private.quota_time_scale() returns double precision as $$
  select coalesce(nullif(current_setting('mailroom.quota_time_scale', true), '')::double precision, 1)
$$ language sql stable;

comment on function app_private.quota_time_scale() is 'Length of the quota windows relative to real time (setting mailroom.quota_time_scale, default 1); tests and the sandbox shorten the windows with it, as the sandbox''s timeScale shortens its own.';

revoke all on function app_private.quota_time_scale() from public;
