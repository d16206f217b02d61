create or replace function app_private.event_kind(event_type text) returns text as $$
  select case lower(event_type)
    when 'microsoft.communication.emaildeliveryreportreceived' then 'delivery_report'
    when 'microsoft.communication.emailengagementtrackingreportreceived' then 'engagement'
    when 'mailroom.emailengagementtracked' then 'engagement'
  end
$$ language sql immutable parallel safe;

comment on function app_private.event_kind(event_type text) is 'delivery_report, engagement (Azure''s engagement events and Mailroom''s own tracking hits, Mailroom.EmailEngagementTracked), or NULL for an event type Mailroom does not attribute.';

revoke all on function app_private.event_kind(event_type text) from public;
