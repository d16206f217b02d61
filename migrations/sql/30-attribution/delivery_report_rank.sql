-- Which delivery report of a message wins: the highest rank. First the status's precedence (delivery_statuses),
-- then the report's time, then its content (status, then status message, compared byte by byte): two reports
-- of equal rank say the same thing, so the final state is the same in every arrival order, ties included.
create or replace function app_private.delivery_report_rank(precedence integer, occurred_at timestamptz, status text,
                                                            status_message text)
returns app_private.delivery_report_rank
language sql immutable parallel safe
as $$
  select row(coalesce(precedence, 0), occurred_at, coalesce(status, ''), coalesce(status_message, ''))::app_private.delivery_report_rank
$$;

comment on function app_private.delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text) is 'The rank of a delivery report (precedence of its status, 0 when unknown; time; status; status message, compared in the C collation): the message''s delivery status is the report of highest rank. Used by attribution, refresh_messages and campaign_rollup_from_events.';

revoke all on function app_private.delivery_report_rank(precedence integer, occurred_at timestamp with time zone, status text, status_message text) from public;
