create or replace function app_private.tg__referred_to_by_messages() returns trigger as $$
begin
  if tg_table_name = 'subscribers' then
    perform pg_advisory_xact_lock(app_hidden.advisory_lock_id('subscriber deletion'));
    perform 1 from app_public.messages as m where m.subscriber_id = old.id limit 1;
  elsif tg_table_name = 'senders' then
    perform 1 from app_public.messages as m where m.sender_id = old.id limit 1;
  else
    perform 1 from app_public.messages as m where m.campaign_id = old.id limit 1;
  end if;
  if found then
    raise exception '% % cannot be deleted: messages refer to it', rtrim(tg_table_name, 's'), old.id
      using errcode = 'foreign_key_violation';
  end if;
  return old;
end;
$$ language plpgsql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.tg__referred_to_by_messages() is 'Refuses to delete a campaign, subscriber or sender that messages refer to (in place of foreign keys on messages).';

revoke all on function app_private.tg__referred_to_by_messages() from public;

create or replace trigger _100_referred_to_by_messages before delete on app_public.campaigns for each row execute function app_private.tg__referred_to_by_messages();

create or replace trigger _100_referred_to_by_messages before delete on app_public.senders for each row execute function app_private.tg__referred_to_by_messages();

create or replace trigger _100_referred_to_by_messages before delete on app_public.subscribers for each row execute function app_private.tg__referred_to_by_messages();
