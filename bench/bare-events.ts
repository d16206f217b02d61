// The "bare" figure the benchmarks set beside Mailroom's ingestion (bench/sql-core.ts, bench/receiver.ts): the same
// events written by one plain INSERT into bench_bare_events, a copy of app_public.raw_events with its columns,
// defaults, constraints and indexes but no trigger, and nothing else done with them.

/** Creates bench_bare_events in the current database. */
export const CREATE_BARE_EVENTS_TABLE =
  "create table bench_bare_events (like app_public.raw_events including defaults including identity including constraints including indexes)";

/** Inserts the events of an ingest payload ($1, see ingestPayload) into bench_bare_events. */
export const BARE_INSERT_SQL = `insert into bench_bare_events (source, event_id, event_schema, event_type, subject, event_time, event,
    internet_message_id, operation_id, recipient, sender, status, engagement_type, occurred_at, received_at, last_received_at)
  select e->>'topic', e->>'id', 'eventgrid', e->>'eventType', e->>'subject', (e->>'eventTime')::timestamptz, e,
    e->'data'->>'internetMessageId', (e->'data'->>'messageId')::uuid, e->'data'->>'recipient', e->'data'->>'sender',
    e->'data'->>'status', e->'data'->>'engagementType',
    coalesce(e->'data'->>'deliveryAttemptTimestamp', e->'data'->>'userActionTimestamp')::timestamptz, now(), now()
  from jsonb_array_elements($1::jsonb -> 'events') as e
  on conflict (lower(source), event_id) do nothing`;

/**
 * A delivery of Event Grid events as an ingest job carries it (app_private.ingest_events reads the same):
 * `eventsJson` is the JSON text of the array of events.
 */
export function ingestPayload(eventsJson: string): string {
  return `{"schema":"eventgrid","receivedAt":"${new Date().toISOString()}","deliveryCount":0,"subscriptionName":"bench","events":${eventsJson}}`;
}
