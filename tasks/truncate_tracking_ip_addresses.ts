// truncate_tracking_ip_addresses {"retentionDays": N}: scheduled every hour by the worker unless
// TRACKING_IP_RETENTION_DAYS is 0 (src/retention.ts; default 30). Truncates the client address of tracking hits
// received more than N days ago to its /24 (IPv4) or /48 (IPv6), in raw_events.ip_address and in the payload
// (app_private.truncate_tracking_ip_addresses), 10,000 rows per statement, oldest first.
import { IP_RETENTION_TASK, runInBatches } from "../src/retention.ts";
import { retentionTask } from "./remove_raw_event_payloads.ts";

export default retentionTask(
  IP_RETENTION_TASK,
  (query, days) => runInBatches(query, "app_private.truncate_tracking_ip_addresses", days),
  (changed, days) => `truncated the addresses of ${changed} tracking hits received more than ${days} days ago`,
);
