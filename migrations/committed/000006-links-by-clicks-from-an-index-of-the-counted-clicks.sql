--! Previous: sha1:be216d6ac1799f202a352f78e50d4d55595c24cd
--! Hash: sha1:56042046392eba261afceacd7da60a21f86d781a
--! Message: Links by clicks from an index of the counted clicks

-- Links by clicks (link_clicks, grouped by URL on the campaign report) from the index alone: the clicks that count,
-- keyed by campaign, link and message, with their machine reason, replace the index of all clicks by campaign and
-- link. An index-only scan reads them in the order the view groups them, without visiting the table.
drop index if exists app_public.message_events_campaign_id_url_idx;
create index if not exists message_events_counted_clicks_idx on app_public.message_events (campaign_id, url, message_id)
  include (machine_reason)
  where kind = 'engagement' and engagement_type = 'click' and ignored_reason is null and not honeypot;
