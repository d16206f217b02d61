// `mailroom start --demo`: everything `start` does, plus a demo sender, a list of generated
// subscribers and a campaign to them, started at once and sent through the sandbox, so that delivery
// reports, opens and clicks arrive in the numbers within a minute. It prints an API key and a GraphQL
// query to watch them, and a line of numbers every few seconds in the terminal.
//
// The demo only ever sends to the sandbox (its addresses are under demo.mailroom.test, a reserved
// name): with ACS_CONNECTION_STRING set it refuses to run.
import type pg from "pg";
import { createApiKey } from "./graphql/api-keys.ts";
import type { Log } from "./log.ts";

export const DEMO_DOMAIN = "demo.mailroom.test";

/**
 * Settings the demo gives the in-process sandbox unless the environment says otherwise. Applied by `mailroom demo`,
 * and again by any start that finds a demo campaign unfinished (resumeDemoSettings), so that a demo stopped
 * mid-campaign resumes as it ran rather than under the sandbox's default quotas (100 emails an hour).
 */
export function demoSandboxEnvironment(env: NodeJS.ProcessEnv): void {
  env.SANDBOX_QUOTA_PER_MINUTE ??= "off";
  env.SANDBOX_QUOTA_PER_HOUR ??= "off";
  // Azure's timing (engagement seconds after sending, delivery reports minutes after), ten times faster.
  env.SANDBOX_TIME_SCALE ??= "0.1";
  env.SANDBOX_DELIVERY_DELAY_SECONDS ??= "20-200";
  // People read seconds to minutes after delivery: at this time scale 3 to 90 s, above the 2 s within which only
  // machines open (the sandbox keeps one clock: docs/sandbox.md).
  env.SANDBOX_ENGAGEMENT_DELAY_SECONDS ??= "30-900";
  // Engagement events as Azure's samples show them: messageId (the operation id) on all, internetMessageId on some.
  env.SANDBOX_ENGAGEMENT_MESSAGE_ID ??= "operation-id";
  // Some readers unsubscribe (a one-click POST to the List-Unsubscribe URL), so the demo counts unsubscribes.
  env.SANDBOX_UNSUBSCRIBE_RATE ??= "0.02";
}

/** The demo's campaigns that still have messages to send: sent by the demo's sender and running or paused. */
export async function unfinishedDemoCampaigns(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `select c.id from app_public.campaigns as c join app_public.senders as s on s.id = c.sender_id
     where lower(s.from_address) = lower($1) and c.status in ('running', 'paused')
     order by c.id`,
    [`news@${DEMO_DOMAIN}`],
  );
  return rows.map((r) => r.id);
}

/**
 * At a start without --demo, on a database where a demo campaign is unfinished (the demo was stopped mid-campaign):
 * the in-process sandbox gets the demo's settings again (what the environment sets still wins), and a line says so.
 * Returns the campaigns that made it so.
 */
export async function resumeDemoSettings(pool: pg.Pool, env: NodeJS.ProcessEnv, log: Log): Promise<string[]> {
  const campaigns = await unfinishedDemoCampaigns(pool);
  if (campaigns.length === 0) return campaigns;
  demoSandboxEnvironment(env);
  log.info(
    { campaigns },
    `demo campaign${campaigns.length === 1 ? "" : "s"} ${campaigns.join(", ")} unfinished: the sandbox runs with the demo's settings ` +
      `(quotas ${env.SANDBOX_QUOTA_PER_MINUTE}/${env.SANDBOX_QUOTA_PER_HOUR}, time scale ${env.SANDBOX_TIME_SCALE}) until it ends`,
  );
  return campaigns;
}

const FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken", "Radia", "Tim"];

const HTML = `<p>Hello {{ subscriber.name }},</p>
<p>This is the Mailroom demo, sent to the list <b>{{ list.name }}</b> through the local sandbox.</p>
<p><a href="https://example.com/news">Read the news</a> · <a href="https://example.com/offers">See the offers</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`;

export interface DemoCampaign {
  campaignId: string;
  messages: number;
  apiKey: string;
}

/** Creates (or, on a later run, reuses) the demo sender, list and subscribers, and starts a new campaign. */
export async function createDemoCampaign(pool: pg.Pool, subscribers: number): Promise<DemoCampaign> {
  const client = await pool.connect();
  let campaignId: string;
  try {
    await client.query("begin");
    const sender = await client.query<{ id: string }>(
      // Engagement from both sources: Azure's events (the sandbox emulates a custom domain with tracking on) and
      // Mailroom's own pixel and redirect (the sandbox requests them as recipients and their machines would).
      `insert into app_public.senders (name, from_address, display_name, per_minute_limit, per_hour_limit, engagement_tracking)
       values ('Demo', $1, 'Mailroom demo', null, null, 'both')
       on conflict (lower(from_address)) do update set per_minute_limit = null, per_hour_limit = null, engagement_tracking = 'both'
       returning id`,
      [`news@${DEMO_DOMAIN}`],
    );
    const list = await client.query<{ id: string }>(
      `with found as (select id from app_public.lists where name = 'Demo readers'),
            created as (insert into app_public.lists (name, description, opt_in)
                        select 'Demo readers', 'Generated subscribers of the demo', 'single'
                        where not exists (select 1 from found) returning id)
       select id from found union all select id from created`,
    );
    await client.query(
      `insert into app_public.subscribers (email, name, attributes)
       select 'reader' || i || '@' || $2, ($3::text[])[1 + i % array_length($3::text[], 1)] || ' ' || i,
              jsonb_build_object('source', 'demo')
       from generate_series(1, $1) as i
       on conflict (lower(email)) do nothing`,
      [subscribers, DEMO_DOMAIN, FIRST_NAMES],
    );
    await client.query(
      `insert into app_public.list_memberships (list_id, subscriber_id, status)
       select $1, id, 'confirmed' from app_public.subscribers where email like '%@' || $2
       on conflict do nothing`,
      [list.rows[0].id, DEMO_DOMAIN],
    );
    const campaign = await client.query<{ id: string }>(
      `insert into app_public.campaigns (name, sender_id, subject, html_body)
       values ('Demo ' || to_char(now(), 'YYYY-MM-DD HH24:MI:SS'), $1, 'Hello {{ subscriber.name }}: the Mailroom demo', $2)
       returning id`,
      [sender.rows[0].id, HTML],
    );
    campaignId = campaign.rows[0].id;
    await client.query("insert into app_public.campaign_lists (campaign_id, list_id) values ($1, $2)", [campaignId, list.rows[0].id]);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await pool.query("select app_public.start_campaign($1)", [campaignId]);
  const { rows } = await pool.query<{ recipients: string }>(
    "select recipients from app_public.campaign_rollups where campaign_id = $1",
    [campaignId],
  );
  const { key } = await createApiKey(pool, {
    name: `demo campaign ${campaignId}`,
    role: "admin",
    expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000),
  });
  return { campaignId, messages: Number(rows[0].recipients), apiKey: key };
}

interface Numbers {
  recipients: number;
  queued: number;
  sending: number;
  accepted: number;
  send_failed: number;
  delivered: number;
  bounced: number;
  reported: number;
  unique_opens_human: number;
  opens: number;
  unique_clicks_human: number;
  clicks: number;
}

async function numbers(pool: pg.Pool, campaignId: string): Promise<Numbers> {
  const { rows } = await pool.query(
    `select recipients, queued, sending, accepted, send_failed, delivered,
            bounced_hard + bounced_soft as bounced,
            (select count(*) from app_public.messages m
             where m.campaign_id = r.campaign_id and m.delivery_status is not null) as reported,
            unique_opens_human, opens, unique_clicks_human, clicks
     from app_public.campaign_rollups as r where campaign_id = $1`,
    [campaignId],
  );
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as Numbers;
}

/** Logs the campaign's numbers every few seconds until every accepted message has its delivery report. */
export async function followDemoCampaign(
  pool: pg.Pool,
  campaignId: string,
  log: Log,
  options: { intervalMs?: number; timeoutMs?: number; stopped?: () => boolean } = {},
): Promise<Numbers> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5000));
    if (options.stopped?.()) throw new Error("stopped");
    const n = await numbers(pool, campaignId);
    const reports = n.reported;
    log.info(
      `demo campaign ${campaignId}: ${n.accepted}/${n.recipients} accepted, ${reports} delivery reports ` +
        `(${n.delivered} delivered, ${n.bounced} bounced hard or soft), ${n.unique_opens_human} opened, ${n.unique_clicks_human} clicked ` +
        `(human; ${n.opens} opens and ${n.clicks} clicks in all)`,
    );
    if (n.queued === 0 && n.sending === 0 && reports >= n.accepted && n.accepted > 0) {
      log.info(`demo campaign ${campaignId}: all ${n.accepted} accepted messages have their delivery reports`);
      return n;
    }
    if (Date.now() > deadline) throw new Error(`demo campaign ${campaignId} did not complete in time`);
  }
}

export function demoInstructions(url: string, demo: DemoCampaign): string {
  const query = `{ campaignById(id: "${demo.campaignId}") { name status rollup { recipients accepted delivered uniqueOpensHuman uniqueClicksHuman } } }`;
  return [
    `demo campaign ${demo.campaignId} started: ${demo.messages} messages through the sandbox`,
    `GraphQL: ${url}/graphql (Ruru in a browser), with the header: Authorization: Bearer ${demo.apiKey}`,
    `  curl -s ${url}/graphql -H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' \\`,
    `    -d '${JSON.stringify({ query })}'`,
  ].join("\n");
}
