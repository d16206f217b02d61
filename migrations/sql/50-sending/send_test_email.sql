create or replace function app_public.send_test_email(campaign_id bigint, email text) returns app_public.test_sends as $$
declare
  campaign app_public.campaigns;
  address text := btrim(email);
  problem text := app_hidden.subscriber_email_problem(btrim(email));
  content record;
  test_send app_public.test_sends;
begin
  select * into campaign from app_public.campaigns as c where c.id = send_test_email.campaign_id;
  if not found then
    raise exception 'campaign % does not exist', send_test_email.campaign_id using errcode = 'P0002';
  end if;
  if problem is not null then
    raise exception '%', problem using errcode = '22023';
  end if;
  if campaign.sender_id is null then
    raise exception 'campaign % has no sender', campaign.id using errcode = '55000';
  end if;
  select c.subject, c.html_body || c.text_body as bodies into content from app_private.campaign_content(campaign) as c;
  if btrim(content.subject) = '' then
    raise exception 'the subject of campaign % is empty', campaign.id using errcode = '22023';
  elsif btrim(content.bodies) = '' then
    raise exception 'campaign % has no content: its HTML and text parts are both empty', campaign.id using errcode = '22023';
  end if;
  perform app_private.check_campaign_content(campaign);

  insert into app_public.test_sends (campaign_id, sender_id, recipient, subscriber_id, internet_message_id)
  select campaign.id, campaign.sender_id, address,
         (select s.id from app_public.subscribers as s where lower(s.email) = lower(address)),
         app_private.new_internet_message_id(sender.sending_domain)
  from app_public.senders as sender where sender.id = campaign.sender_id
  returning * into test_send;
  perform app_private.add_job('send_test_email', json_build_object('testSendId', test_send.id),
                              max_attempts => 3, job_key => 'send_test_email:' || test_send.id);
  return test_send;
end;
$$ language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp;

comment on function app_public.send_test_email(campaign_id bigint, email text) is 'Sends the campaign to one address as a test (subject prefixed "[Test] "), in any status of the campaign: checks the campaign (it exists, has a sender, its subject and bodies render) and the address (the subscribers'' email rule), records a test send with its own Message-ID and operation id, and queues the graphile-worker job send_test_email {"testSendId": id}. Returns the test send; its status becomes accepted or failed.';

revoke all on function app_public.send_test_email(campaign_id bigint, email text) from public;
grant execute on function app_public.send_test_email(campaign_id bigint, email text) to :DATABASE_ADMIN;
