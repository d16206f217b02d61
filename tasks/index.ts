// The worker's tasks, one file per task identifier, given to graphile-worker as its taskList (src/worker.ts).
// The send tasks are built over the sending settings of the process (src/sending/settings.ts); the others
// need nothing but their payload.
import type { TaskList } from "graphile-worker";
import type { SendingSettings } from "../src/sending/settings.ts";
import ingestEvents from "./ingest_events.ts";
import removeRawEventPayloads from "./remove_raw_event_payloads.ts";
import sendCampaignTask from "./send_campaign.ts";
import sendConfirmationsTask from "./send_confirmations.ts";
import sendTestEmailTask from "./send_test_email.ts";
import startScheduledCampaign from "./start_scheduled_campaign.ts";
import truncateTrackingIpAddresses from "./truncate_tracking_ip_addresses.ts";

export function createTaskList(sending: SendingSettings): TaskList {
  return {
    ingest_events: ingestEvents,
    remove_raw_event_payloads: removeRawEventPayloads,
    send_campaign: sendCampaignTask(sending),
    send_confirmations: sendConfirmationsTask(sending),
    send_test_email: sendTestEmailTask(sending),
    start_scheduled_campaign: startScheduledCampaign,
    truncate_tracking_ip_addresses: truncateTrackingIpAddresses,
  };
}
