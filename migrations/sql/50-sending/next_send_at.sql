create or replace function app_private.next_send_at(campaign_id bigint) returns timestamptz as $$
  select least(
    -- messages in doubt are looked up when their lease ends, whatever the campaign's status
    (select min(m.lease_expires_at) from app_public.messages as m
     where m.campaign_id = c.id and m.send_status = 'sending'),
    -- queued messages of a running campaign go when one of its senders has capacity
    case when c.status = 'running' and exists (
           select 1 from app_public.messages as m where m.campaign_id = c.id and m.send_status = 'queued')
      then (select min(app_private.sender_available_at(s)) from app_public.senders as s
            where s.id = c.sender_id
               or s.id in (select cs.sender_id from app_public.campaign_senders as cs where cs.campaign_id = c.id))
    end)
  from app_public.campaigns as c
  where c.id = next_send_at.campaign_id
$$ language sql stable set search_path to pg_catalog, public, pg_temp;

comment on function app_private.next_send_at(campaign_id bigint) is 'When the campaign''s send job has something to do next: a lease of a message in doubt ends, or a sender has capacity for its queued messages (running campaigns only). NULL when there is nothing left to do.';

revoke all on function app_private.next_send_at(campaign_id bigint) from public;
