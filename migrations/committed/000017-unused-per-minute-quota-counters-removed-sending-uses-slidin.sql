--! Previous: sha1:a00aaa2b91679d2326817f33b43c57ca9b68617b
--! Hash: sha1:f8a3ccb0f550137cee409e7cbd2cb13862ae66ba
--! Message: Unused per-minute quota counters removed (sending uses sliding windows over its sends)

-- Sending keeps its quota windows as sliding windows over the ledger (app_private.sender_capacity); the per-minute
-- counters of the first design were never used since.
drop function if exists app_private.reserve_sender_quota(bigint, integer);
drop table if exists app_private.sender_usage;
