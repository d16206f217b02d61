create or replace function app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) returns timestamptz as $$
  insert into app_private.sender_throttles as t (sender_id, paused_until, reason)
  values (pause_sender.sender_id, now() + interval '1 millisecond' * greatest(pause_ms, 0), pause_sender.reason)
  on conflict (sender_id) do update
    set paused_until = greatest(t.paused_until, excluded.paused_until), reason = excluded.reason
  returning paused_until
$$ language sql volatile set search_path to pg_catalog, public, pg_temp;

comment on function app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) is 'Pauses a sender for pause_ms (ACS''s Retry-After after a 429) unless it is paused longer already; claims give it no messages until then. Run in its own transaction, before the outcomes are recorded.';

revoke all on function app_private.pause_sender(sender_id bigint, pause_ms bigint, reason text) from public;
