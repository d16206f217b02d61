create or replace function app_private.tg_campaign_rollups__notify() returns trigger as $$
begin
  perform pg_notify('mailroom:campaign_rollup:' || new.campaign_id, json_build_object('campaignId', new.campaign_id)::text);
  return null;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.tg_campaign_rollups__notify() is 'Trigger function: NOTIFY mailroom:campaign_rollup:<campaign id> with {"campaignId": id}, for GraphQL subscriptions.';

revoke all on function app_private.tg_campaign_rollups__notify() from public;

create or replace trigger _900_notify after insert or update on app_public.campaign_rollups for each row execute function app_private.tg_campaign_rollups__notify();
