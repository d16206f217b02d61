// Live campaign numbers: the subscription `campaignNumbers(campaignId)` sends the campaign's rollup
// row each time it changes. A trigger on app_public.campaign_rollups NOTIFYs
// mailroom:campaign_rollup:<id>; PostGraphile LISTENs on the authenticator's pool and re-reads the row
// as the subscriber's role, so row level security applies to every update sent.
import { context, lambda, listen, type Step } from "postgraphile/grafast";
import { jsonParse } from "postgraphile/@dataplan/json";
import { extendSchema, gql } from "postgraphile/utils";

export const CAMPAIGN_NUMBERS_CHANNEL_PREFIX = "mailroom:campaign_rollup:";

export const LiveNumbersPlugin = extendSchema((build) => {
  const rollups = build.input.pgRegistry.pgResources.campaign_rollups;
  if (!rollups) throw new Error("app_public.campaign_rollups is missing from the GraphQL schema");
  return {
    typeDefs: gql`
      extend type Subscription {
        """
        The campaign's numbers (its rollup row) each time they change: after every batch of sends,
        delivery reports or engagement events. Query the numbers first; this sends only changes.
        """
        campaignNumbers(campaignId: BigInt!): CampaignRollup
      }
    `,
    objects: {
      Subscription: {
        plans: {
          campaignNumbers: {
            subscribePlan(_$root: Step, fieldArgs: { getRaw(name: string): Step }) {
              const $topic = lambda(fieldArgs.getRaw("campaignId"), (id) => `${CAMPAIGN_NUMBERS_CHANNEL_PREFIX}${String(id)}`);
              return listen(context().get("pgSubscriber") as never, $topic, jsonParse);
            },
            plan($event: Step & { get(key: string): Step }) {
              return rollups.get({ campaign_id: $event.get("campaignId") });
            },
          },
        },
      },
    },
  };
});
