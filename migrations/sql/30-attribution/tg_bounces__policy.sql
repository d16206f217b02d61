create or replace function app_private.tg_bounces__policy() returns trigger as $$
begin
  with counted as (
    select b.subscriber_id, b.bounce_type, count(*) as bounces
    from app_public.bounces as b
    where b.subscriber_id in (select subscriber_id from new_bounces)
    group by b.subscriber_id, b.bounce_type
  ),
  acting as (
    select c.subscriber_id, p.action
    from counted as c join app_public.bounce_policies as p on p.bounce_type = c.bounce_type
    where c.bounces >= p.threshold and p.action <> 'none'
  ),
  unsubscribed as (
    -- Rows are locked in key order (subscriber, list), so that concurrent ingestion never deadlocks on them.
    update app_public.list_memberships as lm set status = 'unsubscribed'
    from (select l.list_id, l.subscriber_id from app_public.list_memberships as l
          where l.subscriber_id in (select subscriber_id from acting where action = 'unsubscribe')
            and l.status <> 'unsubscribed'
          order by l.subscriber_id, l.list_id
          for no key update) as l
    where lm.list_id = l.list_id and lm.subscriber_id = l.subscriber_id
  )
  update app_public.subscribers as s set status = 'blocklisted'
  from (select l.id from app_public.subscribers as l
        where l.id in (select subscriber_id from acting where action = 'blocklist') and l.status <> 'blocklisted'
        order by l.id
        for no key update) as l
  where s.id = l.id;
  return null;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.tg_bounces__policy() is 'Statement trigger: applies bounce_policies to the subscribers who just bounced (by subscriber id).';

revoke all on function app_private.tg_bounces__policy() from public;

create or replace trigger _500_policy after insert on app_public.bounces referencing new table as new_bounces for each statement execute function app_private.tg_bounces__policy();
