create or replace function app_private.engagement_source(event_type text) returns text as $$
  select case lower(event_type)
    when 'microsoft.communication.emailengagementtrackingreportreceived' then 'azure'
    when 'mailroom.emailengagementtracked' then 'mailroom'
  end
$$ language sql immutable parallel safe;

comment on function app_private.engagement_source(event_type text) is 'Who saw an engagement event: azure (Event Grid''s EmailEngagementTrackingReportReceived) or mailroom (Mailroom''s own open pixel and click redirect); NULL for other event types.';

revoke all on function app_private.engagement_source(event_type text) from public;
