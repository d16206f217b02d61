create or replace view app_public.campaign_stats with (security_invoker = true) as
select r.*, c.name, c.status,
  round(r.unique_opens_human::numeric / nullif(r.delivered, 0), 4) as open_rate,
  round(r.unique_clicks_human::numeric / nullif(r.delivered, 0), 4) as click_rate
from app_public.campaign_rollups as r join app_public.campaigns as c on c.id = r.campaign_id;

comment on view app_public.campaign_stats is 'A campaign''s rollup with its rates: open_rate and click_rate are unique human opens / clicks over delivered messages.';

grant select on app_public.campaign_stats to :DATABASE_ADMIN;
grant select on app_public.campaign_stats to :DATABASE_READONLY;
