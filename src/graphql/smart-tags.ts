// Smart tags, kept here rather than in SQL comments so the schema's own comments stay prose. Each
// one is listed, with the reason, in docs/graphql.md.
import { jsonPgSmartTags } from "postgraphile/utils";

export const MailroomSmartTagsPlugin = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      // One rollup row per campaign: campaign.rollup rather than campaign.campaignRollupByCampaignId.
      "app_public.campaign_rollups": {
        constraint: {
          campaign_rollups_campaign_id_fkey: { tags: { foreignFieldName: "rollup", fieldName: "campaign" } },
        },
      },
      // Per hour of a campaign: campaign.engagementHourly rather than campaignEngagementHourliesByCampaignId.
      "app_public.campaign_engagement_hourly": {
        constraint: {
          campaign_engagement_hourly_campaign_id_fkey: { tags: { foreignFieldName: "engagementHourly", fieldName: "campaign" } },
        },
      },
      // Views carry no keys; these give them a primary key (cursor pagination, stable order) and a
      // relation to their campaign, so a campaign reads its rates and hourly engagement directly.
      "app_public.campaign_stats": {
        tags: {
          primaryKey: "campaign_id",
          foreignKey: "(campaign_id) references app_public.campaigns (id)|@foreignFieldName stats|@fieldName campaign",
        },
      },
      "app_public.monitor_hourly_engagement": {
        tags: {
          primaryKey: "campaign_id,hour",
          foreignKey: "(campaign_id) references app_public.campaigns (id)|@foreignFieldName hourlyEngagement|@fieldName campaign",
        },
      },
      "app_public.link_clicks": {
        tags: {
          foreignKey: [
            "(message_id) references app_public.messages (id)|@foreignFieldName linkClicks|@fieldName message",
            "(campaign_id) references app_public.campaigns (id)|@foreignFieldName linkClicks|@fieldName campaign",
          ],
        },
      },
      // Filled in by a trigger from the from-address when not given.
      "app_public.senders": {
        attribute: { sending_domain: { tags: { hasDefault: true } } },
      },
      "app_public.unattributed_events": {
        tags: { primaryKey: "id" },
      },
      // The derived ledger tables are read through their campaign, message or subscriber; the
      // generated names are shortened where the relation is unambiguous. messages declares no foreign
      // keys (checked row by row, they slowed starting a campaign down; docs/schema.md says
      // what holds instead): these give GraphQL its relations to campaigns, subscribers and senders.
      "app_public.messages": {
        tags: {
          foreignKey: [
            "(campaign_id) references app_public.campaigns (id)|@foreignFieldName messages|@fieldName campaign",
            "(subscriber_id) references app_public.subscribers (id)|@foreignFieldName messages|@fieldName subscriber",
            "(sender_id) references app_public.senders (id)|@foreignFieldName messages|@fieldName sender",
          ],
        },
      },
      // message_events declares no foreign keys (a check per row costs more than the insert); these
      // give GraphQL the relations anyway: message.events, campaign.events, messageEvent.rawEvent.
      "app_public.message_events": {
        tags: {
          foreignKey: [
            "(message_id) references app_public.messages (id)|@foreignFieldName events|@fieldName message",
            "(campaign_id) references app_public.campaigns (id)|@foreignFieldName events|@fieldName campaign",
            "(raw_event_id) references app_public.raw_events (id)|@foreignFieldName messageEvent|@fieldName rawEvent",
          ],
        },
      },
      "app_public.bounces": {
        constraint: {
          bounces_subscriber_id_fkey: { tags: { foreignFieldName: "bounces", fieldName: "subscriber" } },
          bounces_message_id_fkey: { tags: { foreignFieldName: "bounces", fieldName: "message" } },
          bounces_campaign_id_fkey: { tags: { foreignFieldName: "bounces", fieldName: "campaign" } },
          bounces_raw_event_id_fkey: { tags: { foreignFieldName: "bounce", fieldName: "rawEvent" } },
        },
      },
      "app_public.unsubscribes": {
        constraint: {
          unsubscribes_subscriber_id_fkey: { tags: { foreignFieldName: "unsubscribes", fieldName: "subscriber" } },
          unsubscribes_message_id_fkey: { tags: { foreignFieldName: "unsubscribe", fieldName: "message" } },
          unsubscribes_campaign_id_fkey: { tags: { foreignFieldName: "unsubscribes", fieldName: "campaign" } },
        },
      },
      "app_public.test_sends": {
        constraint: {
          test_sends_campaign_id_fkey: { tags: { foreignFieldName: "testSends", fieldName: "campaign" } },
          test_sends_sender_id_fkey: { tags: { foreignFieldName: "testSends", fieldName: "sender" } },
          test_sends_subscriber_id_fkey: { tags: { foreignFieldName: "testSends", fieldName: "subscriber" } },
        },
      },
      "app_public.list_memberships": {
        constraint: {
          list_memberships_list_id_fkey: { tags: { foreignFieldName: "memberships", fieldName: "list" } },
          list_memberships_subscriber_id_fkey: { tags: { foreignFieldName: "memberships", fieldName: "subscriber" } },
        },
      },
      "app_public.campaign_lists": {
        constraint: {
          campaign_lists_campaign_id_fkey: { tags: { foreignFieldName: "campaignLists", fieldName: "campaign" } },
          campaign_lists_list_id_fkey: { tags: { foreignFieldName: "campaignLists", fieldName: "list" } },
        },
      },
      // Campaigns are few (thousands at most): filter and sort them by these columns although they
      // have no index (PostGraphile v5 offers conditions and orders on indexed columns only).
      "app_public.campaigns": {
        attribute: {
          name: { tags: { isIndexed: true } },
          status: { tags: { isIndexed: true } },
          created_at: { tags: { isIndexed: true } },
          scheduled_at: { tags: { isIndexed: true } },
          started_at: { tags: { isIndexed: true } },
          finished_at: { tags: { isIndexed: true } },
        },
        constraint: {
          campaigns_sender_id_fkey: { tags: { foreignFieldName: "campaigns", fieldName: "sender" } },
          campaigns_template_id_fkey: { tags: { foreignFieldName: "campaigns", fieldName: "template" } },
        },
      },
      // Raw events are read through the message events and bounces they became; their own table is
      // large and unindexed for browsing, so it has no top-level connection.
      "app_public.raw_events": {
        tags: { behavior: ["-query:resource:connection", "-query:resource:list"] },
      },
    },
    // A mutation's payload names what it returns (PostGraphile's default is `result`).
    procedure: {
      "app_public.start_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.schedule_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.unschedule_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.pause_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.resume_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.cancel_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.duplicate_campaign": { tags: { resultFieldName: "campaign" } },
      "app_public.blocklist_subscriber": { tags: { resultFieldName: "subscriber" } },
      "app_public.unblocklist_subscriber": { tags: { resultFieldName: "subscriber" } },
      "app_public.recompute_campaign_rollup": { tags: { resultFieldName: "rollup" } },
      "app_public.import_subscribers": { tags: { resultFieldName: "rows" } },
      "app_public.record_complaint": { tags: { resultFieldName: "recorded" } },
      "app_public.send_test_email": { tags: { resultFieldName: "testSend" } },
    },
  },
});
