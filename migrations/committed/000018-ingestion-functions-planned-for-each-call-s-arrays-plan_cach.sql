--! Previous: sha1:f8a3ccb0f550137cee409e7cbd2cb13862ae66ba
--! Hash: sha1:3504f3cdb34b92a27a4580b66cd5ef2b4c8ffc0a
--! Message: Ingestion functions planned for each call's arrays (plan_cache_mode = force_custom_plan)

-- The ingestion functions take arrays of ids whose length changes with every batch. After a few calls on one
-- connection PostgreSQL may switch their statements to a generic plan, which cannot see the array and, depending
-- on the table statistics, scans far more than the batch's rows (measured: 481 ms instead of 42 ms per batch of
-- 1,000 for the statement that re-derives the messages, on a worker's long-lived connection). Each call is planned
-- for its own arrays instead.
alter function app_private.refresh_messages(bigint[]) set plan_cache_mode = force_custom_plan;
alter function app_private.record_attributions(bigint[], bigint[], text[]) set plan_cache_mode = force_custom_plan;
