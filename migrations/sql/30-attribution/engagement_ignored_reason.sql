-- Engagement that counts nowhere (neither human nor machine), from the event and its campaign alone:
--   1. a click on an unsubscribe link (PUBLIC_URL/unsubscribe/TOKEN): an unsubscribe, counted as one when it is made;
--   2. a source the campaign does not count (engagement_tracking azure, mailroom, off).
-- The third case, an Azure event that Mailroom's own hit already counts (campaigns tracking both), depends on the
-- other events of the message: refresh_messages decides it.
create or replace function app_private.engagement_ignored_reason(
  engagement_tracking text, engagement_source text, engagement_type text, url text
) returns text as $$
  select case
    when engagement_type = 'click' and url ~ '/unsubscribe/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{27}([?#]|$)' then 'unsubscribe link'
    when coalesce(engagement_tracking, 'azure') = 'off' then 'the campaign counts no engagement'
    when coalesce(engagement_tracking, 'azure') not in ('both', engagement_source)
      then 'the campaign counts ' || coalesce(engagement_tracking, 'azure') || ' engagement only'
  end
$$ language sql immutable parallel safe;

comment on function app_private.engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text) is 'Why an engagement event counts nowhere, from the event and its campaign''s engagement_tracking: an unsubscribe link, or a source the campaign does not count. NULL = it counts (unless refresh_messages finds it the duplicate of Mailroom''s own hit).';

revoke all on function app_private.engagement_ignored_reason(engagement_tracking text, engagement_source text, engagement_type text, url text) from public;
