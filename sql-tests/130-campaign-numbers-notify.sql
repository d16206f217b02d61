-- Live numbers: a change of a campaign's rollup notifies mailroom:campaign_rollup:<id> (for GraphQL
-- subscriptions); list member counts and a sender's quota use are readable by the read-only role.
insert into app_public.senders (name, from_address) values ('News', 'news@news.example.com');
insert into app_public.lists (name, opt_in) values ('L', 'single');
insert into app_public.subscribers (email) values ('a@example.org'), ('b@example.org');
insert into app_public.list_memberships (list_id, subscriber_id, status) select l.id, s.id, 'confirmed' from app_public.lists l, app_public.subscribers s;
insert into app_public.campaigns (name, sender_id) select 'C', id from app_public.senders;
insert into app_public.campaign_lists (campaign_id, list_id) select c.id, l.id from app_public.campaigns c, app_public.lists l;
do $$
begin
  assert exists (select from pg_trigger where tgname = '_900_notify' and tgrelid = 'app_public.campaign_rollups'::regclass),
    'the notify trigger exists';
  assert (select tgenabled from pg_trigger where tgname = '_900_notify' and tgrelid = 'app_public.campaign_rollups'::regclass) = 'O', 'and is enabled';
end
$$;
select app_public.start_campaign(id) from app_public.campaigns;

set local role mailroom_readonly;
do $$
begin
  assert (select (app_public.lists_member_counts(l)).members from app_public.lists l) = 2, 'member counts';
  assert (select (app_public.senders_quota_use(s)).capacity_now from app_public.senders s) = 30, 'quota use';
  assert (select (app_public.senders_quota_use(s)).sent_last_minute from app_public.senders s) = 0, 'nothing sent yet';
end
$$;
