-- The link a Mailroom click-tracking URL stands for. Mailroom's tracking token is base64url(payload) "." base64url(MAC)
-- with payload = version (1 byte), kind (1 byte: o open, c click, h honeypot), key id (4), operation id (16),
-- link number (2), then the URL in UTF-8 (src/tracking/token.ts). An Azure click event of a campaign tracking both
-- reports the tracking URL it wrapped; its link is the URL inside. The MAC is not checked here: the event came
-- authenticated from Event Grid, and the URL only names the link in the numbers.
create or replace function app_private.tracked_link(url text) returns text as $$
declare
  token text;
  payload bytea;
begin
  -- Most URLs are no tracking URL: answered before the block below, whose exception handler costs a subtransaction.
  token := substring(url from '/t/c/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+(?:[?#].*)?$');
  if token is null then
    return url;
  end if;
  begin
    payload := decode(rpad(translate(token, '-_', '+/'), (length(token) + 3) / 4 * 4, '='), 'base64');
    if length(payload) <= 24 or get_byte(payload, 0) <> 1 or get_byte(payload, 1) <> ascii('c') then
      return url;
    end if;
    return convert_from(substring(payload from 25), 'UTF8');
  exception when others then
    return url;
  end;
end;
$$ language plpgsql immutable parallel safe;

comment on function app_private.tracked_link(url text) is 'The original URL inside a Mailroom click-tracking URL (.../t/c/TOKEN), or the URL itself.';

revoke all on function app_private.tracked_link(url text) from public;
