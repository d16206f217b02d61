create or replace function app_private.normalize_delivery_status(value text) returns text as $$
declare
  trimmed text := btrim(value);
begin
  return case lower(trimmed)
    when 'delivered' then 'Delivered'
    when 'expanded' then 'Expanded'
    when 'bounced' then 'Bounced'
    when 'suppressed' then 'Suppressed'
    when 'filteredspam' then 'FilteredSpam'
    when 'quarantined' then 'Quarantined'
    when 'failed' then 'Failed'
    else nullif(trimmed, '')
  end;
end;
$$ language plpgsql immutable parallel safe;

comment on function app_private.normalize_delivery_status(value text) is 'A delivery report status in ACS''s documented spelling whatever its case (delivered -> Delivered); an unknown status is returned as received, trimmed.';

revoke all on function app_private.normalize_delivery_status(value text) from public;
