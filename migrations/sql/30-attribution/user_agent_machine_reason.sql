create or replace function app_private.user_agent_machine_reason(user_agent text) returns text as $$
  select 'user agent: ' || a.kind || ' (' || a.pattern || ')'
  from app_public.machine_user_agents as a
  where user_agent ~* a.pattern
  order by a.id
  limit 1
$$ language sql stable;

comment on function app_private.user_agent_machine_reason(user_agent text) is 'Why a user agent is a machine (the first matching machine_user_agents row), or NULL.';

revoke all on function app_private.user_agent_machine_reason(user_agent text) from public;
