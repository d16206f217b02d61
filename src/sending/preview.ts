// Preview: a campaign rendered for one subscriber exactly as the send task would render it, so template errors
// (unknown fields, stray braces, empty parts) show before the campaign is started.
import type pg from "pg";
import { CAMPAIGN_CONTENT_SQL, type CampaignContentRow } from "./send-campaign.ts";
import { compileCampaign, type RenderedContent } from "./template.ts";

export interface Preview extends RenderedContent {
  recipient: string;
}

/** Renders the campaign for the subscriber (default: the first member of its lists); throws TemplateError. */
export async function previewCampaign(pool: pg.Pool, campaignId: string | number, subscriberId?: string | number): Promise<Preview> {
  const { rows } = await pool.query<CampaignContentRow>(CAMPAIGN_CONTENT_SQL, [campaignId]);
  if (!rows[0]) throw new Error(`campaign ${campaignId} does not exist`);
  const campaign = compileCampaign(rows[0]);
  const { rows: people } = await pool.query(
    `select s.id, s.email, s.name, s.attributes, l.id as list_id, l.name as list_name
     from app_public.subscribers as s
     left join lateral (
       select l.id, l.name from app_public.campaign_lists as cl
       join app_public.list_memberships as lm on lm.list_id = cl.list_id and lm.subscriber_id = s.id
       join app_public.lists as l on l.id = cl.list_id
       where cl.campaign_id = $1 order by l.id limit 1
     ) as l on true
     where ($2::bigint is not null and s.id = $2) or ($2::bigint is null and l.id is not null)
     order by s.id limit 1`,
    [campaignId, subscriberId ?? null],
  );
  const person = people[0] ?? { id: 0, email: "someone@example.com", name: "Someone", attributes: {}, list_id: null, list_name: null };
  const rendered = campaign.render({
    subscriber: { id: person.id, email: person.email, name: person.name, attributes: person.attributes },
    list: person.list_id === null ? null : { id: person.list_id, name: person.list_name },
    campaign: { id: rows[0].id, name: rows[0].name },
    unsubscribeUrl: "https://example.invalid/unsubscribe/PREVIEW",
  });
  return { recipient: person.email, ...rendered };
}
