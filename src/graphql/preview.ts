// campaignPreview(campaignId, subscriberId, email): the campaign rendered exactly as the send task would send it
// (src/sending/preview.ts), the same as `mailroom campaigns preview --json`.
//
// Who may: the caller's role decides, as for every read. The campaign and the subscriber are looked up on the
// request's own connection (its role and claims, row level security): a caller who cannot read them gets "does not
// exist" or the database's refusal. Only then is the message rendered on the server's owner connection, which alone
// may read what rendering needs beyond the rows (the content rule app_private.campaign_content, the signing secrets
// of the unsubscribe and tracking links). Admins and analysts may preview; without credentials /graphql answers 401.
//
// Template errors come back as one GraphQL error: "campaign N has template errors: html line 12: ...; ..." with
// extensions { code: "TEMPLATE_ERRORS", templateErrors: [every error] }.
import type pg from "pg";
import { SafeError, type Step } from "postgraphile/grafast";
import { loadOneWithPgClient, type PgClient, type PgExecutor } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";
import { PreviewNotFound, PreviewRefused, previewCampaign, type CampaignPreview, type PreviewSettings } from "../sending/preview.ts";
import { TemplateError } from "../sending/template.ts";

/** What rendering needs besides the caller's connection: the owner's pool and the sending settings (read at each request). */
export interface PreviewBackend {
  pool: pg.Pool;
  settings: PreviewSettings;
}

interface PreviewArgs {
  campaignId: string;
  subscriberId: string | null | undefined;
  email: string | null | undefined;
}

async function firstRow<T>(client: PgClient, text: string, values: unknown[]): Promise<T | undefined> {
  const { rows } = await client.query<T>({ text, values });
  return rows[0];
}

/** The preview for one request: the rows checked as the caller, then rendered as the owner. */
async function preview(client: PgClient, backend: PreviewBackend | undefined, args: PreviewArgs): Promise<CampaignPreview> {
  if (!backend) throw new SafeError("campaign previews are not available in this process", { code: "UNAVAILABLE" });
  const campaignId = String(args.campaignId);
  const campaign = await firstRow<{ id: string }>(client, "select id::text from app_public.campaigns where id = $1", [campaignId]);
  if (!campaign) throw new SafeError(`campaign ${campaignId} does not exist`, { code: "NOT_FOUND" });
  let subscriberId: string | undefined;
  if (args.subscriberId != null && args.email != null) throw new SafeError("give subscriberId or email, not both", { code: "BAD_USER_INPUT" });
  if (args.subscriberId != null || args.email != null) {
    const found =
      args.subscriberId != null
        ? await firstRow<{ id: string }>(client, "select id::text from app_public.subscribers where id = $1", [String(args.subscriberId)])
        : await firstRow<{ id: string }>(client, "select id::text from app_public.subscribers where lower(email) = lower(btrim($1))", [args.email]);
    if (!found) throw new SafeError(`subscriber ${args.subscriberId ?? args.email} does not exist`, { code: "NOT_FOUND" });
    subscriberId = found.id;
  }
  try {
    return await previewCampaign(
      (text, values) => backend.pool.query(text, values),
      campaign.id,
      subscriberId === undefined ? undefined : { id: subscriberId },
      backend.settings,
    );
  } catch (error) {
    if (error instanceof TemplateError) {
      throw new SafeError(`campaign ${campaign.id} has template errors: ${error.errors.join("; ")}`, {
        code: "TEMPLATE_ERRORS",
        templateErrors: error.errors,
      });
    }
    if (error instanceof PreviewNotFound) throw new SafeError(error.message, { code: "NOT_FOUND" });
    if (error instanceof PreviewRefused) throw new SafeError(error.message, { code: "55000" });
    throw error;
  }
}

export function makeCampaignPreviewPlugin(backend: PreviewBackend | undefined): GraphileConfig.Plugin {
  return extendSchema((build) => {
    const executor = build.input.pgRegistry.pgExecutors.main as PgExecutor | undefined;
    if (!executor) throw new Error("the main PostgreSQL executor is missing from the GraphQL schema");
    return {
      typeDefs: gql`
        "A header of a previewed message, in the order the message carries them."
        type CampaignPreviewHeader {
          name: String!
          value: String!
        }

        "Whom a preview was rendered for."
        type CampaignPreviewRecipient {
          "null for the made-up sample person (the campaign's lists have no eligible recipient)."
          subscriberId: BigInt
          email: String!
          name: String
          "The list that list.id and list.name come from: the first of the campaign's lists the subscriber is on."
          listId: BigInt
          listName: String
          "Whether starting the campaign now would give them a message."
          eligible: Boolean!
        }

        type CampaignPreviewEngagementTracking {
          "The campaign's engagement source: azure, mailroom, both or off (the sender's until the campaign starts)."
          mode: String!
          "Mailroom's tracked links, open pixel and honeypot are in the content."
          mailroomTracking: Boolean!
          "The ACS request turns Azure's engagement tracking off."
          azureTrackingDisabled: Boolean!
        }

        """
        A campaign rendered exactly as the send task would send it. Message-ID and the operation id inside the
        unsubscribe and tracking links are the preview's own (every message gets its own at start): they name no
        message, so the preview's links unsubscribe and count no one.
        """
        type CampaignPreview {
          campaignId: BigInt!
          recipient: CampaignPreviewRecipient!
          "No subscriber was named: the first eligible recipient of the campaign's lists, else a made-up person."
          sample: Boolean!
          subject: String!
          "null when the campaign has no HTML part."
          html: String
          text: String!
          "From, To, Reply-To (when set), Subject, then the headers the ACS request sets."
          headers: [CampaignPreviewHeader!]!
          engagementTracking: CampaignPreviewEngagementTracking!
          "Who was chosen and why, and which values are the preview's own."
          notes: [String!]!
        }

        extend type Query {
          """
          The campaign rendered for a subscriber (by id or email; default: the first eligible recipient of its lists,
          else a made-up sample person), exactly as it will be sent: subject, HTML, text, headers. A template error
          is an error listing every one with its part, line and placeholder (extensions.templateErrors).
          """
          campaignPreview(campaignId: BigInt!, subscriberId: BigInt, email: String): CampaignPreview
        }
      `,
      objects: {
        Query: {
          plans: {
            campaignPreview(_$root: Step, fieldArgs: { getRaw(name: string): Step }) {
              return loadOneWithPgClient(
                executor,
                { campaignId: fieldArgs.getRaw("campaignId"), subscriberId: fieldArgs.getRaw("subscriberId"), email: fieldArgs.getRaw("email") },
                (client, lookups) => lookups.map((args) => preview(client, backend, args as PreviewArgs)),
              );
            },
          },
        },
      },
    };
  });
}
