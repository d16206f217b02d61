--! Previous: sha1:0f5ecc0c7772198ecbdbb90fa57657efd530f970
--! Hash: sha1:be216d6ac1799f202a352f78e50d4d55595c24cd
--! Message: Hourly engagement per campaign, and the dashboard's indexes

-- The dashboard's numbers without reading the ledger: opens and clicks per campaign and hour, kept by the
-- ingestion pipeline like campaign_rollups; and the indexes the dashboard's other queries read by.

-- Opens and clicks per campaign and UTC hour. The views dropped with it (monitor_hourly_engagement reads it) are
-- created again by their files under migrations/sql, applied after the migrations.
drop table if exists app_public.campaign_engagement_hourly cascade;

create table app_public.campaign_engagement_hourly (
  campaign_id bigint not null references app_public.campaigns (id) on delete cascade,
  hour timestamptz not null constraint campaign_engagement_hourly_hour_check
    check (hour = date_bin('1 hour', hour, timestamptz '2000-01-01 00:00+00')),
  opens bigint not null default 0,
  opens_human bigint not null default 0,
  clicks bigint not null default 0,
  clicks_human bigint not null default 0,
  primary key (campaign_id, hour)
) with (fillfactor = 50);

comment on table app_public.campaign_engagement_hourly is 'A campaign''s opens and clicks per hour, for the chart of opens and clicks over time: the engagement events that count (message_events.ignored_reason NULL), each in the UTC hour of its occurred_at (when the person or machine acted). opens and clicks are all of them, *_human those without a machine_reason, so that over all hours they add up to campaign_rollups.opens, opens_human, clicks and clicks_human. Kept current by the ingestion pipeline in the transaction that attributes or re-derives the events (app_private.add_engagement_hourly); rebuilt by recompute_campaign_rollup; campaign_engagement_hourly_from_events computes it from the raw events. An hour whose events were all re-derived as counting nowhere keeps a row of zeros.';
comment on column app_public.campaign_engagement_hourly.hour is 'The start of the hour in UTC: date_bin(''1 hour'', occurred_at, ''2000-01-01 00:00+00''), which unlike date_trunc does not depend on the session''s TimeZone.';
comment on column app_public.campaign_engagement_hourly.opens is 'Views that count in this hour, human and machine; opens_human: those judged human.';
comment on column app_public.campaign_engagement_hourly.clicks is 'Clicks that count in this hour (the honeypot link''s included, as machine), human and machine; clicks_human: those judged human.';

alter table app_public.campaign_engagement_hourly enable row level security;
create policy select_all on app_public.campaign_engagement_hourly for select to :DATABASE_ADMIN, :DATABASE_READONLY using (true);
grant select on table app_public.campaign_engagement_hourly to :DATABASE_ADMIN;
grant select on table app_public.campaign_engagement_hourly to :DATABASE_READONLY;

-- The hours of the campaigns that have engagement already, by the same rule.
insert into app_public.campaign_engagement_hourly (campaign_id, hour, opens, opens_human, clicks, clicks_human)
select me.campaign_id, date_bin('1 hour', me.occurred_at, timestamptz '2000-01-01 00:00+00'),
  count(*) filter (where me.engagement_type = 'view'),
  count(*) filter (where me.engagement_type = 'view' and me.machine_reason is null),
  count(*) filter (where me.engagement_type = 'click'),
  count(*) filter (where me.engagement_type = 'click' and me.machine_reason is null)
from app_public.message_events as me
where me.kind = 'engagement' and me.ignored_reason is null
  and me.campaign_id in (select c.id from app_public.campaigns as c)
group by 1, 2
order by 1, 2;

-- A campaign's bounces and complaints by reason (campaign_bounce_reasons), without reading other campaigns'.
create index if not exists bounces_campaign_id_idx on app_public.bounces (campaign_id);

-- A campaign's messages that were not sent, by reason (campaign_bounce_reasons): only those rows are indexed.
create index if not exists messages_not_sent_idx on app_public.messages (campaign_id)
  where send_status in ('failed', 'skipped');

-- A campaign's clicks per link (link_clicks, campaign_link_clicks): the clicks alone, not every event of the campaign.
create index if not exists message_events_campaign_id_url_idx on app_public.message_events (campaign_id, url)
  where engagement_type = 'click';
