// mailroom campaign-status <id> [--json]: a campaign's numbers from its rollup (app_public.campaign_stats).
// mailroom recompute <id>: rebuilds them from the events (app_public.recompute_campaign_rollup) and prints
// what changed.
import { parseArgs } from "node:util";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { CommandError, parseId, runCommand, withDatabase } from "./database.ts";
import { count } from "./progress.ts";

/** The rollup's numbers in display order: column, label, and what a share is taken of. */
const NUMBERS: { section: string; rows: [column: string, label: string, base?: string][] }[] = [
  {
    section: "Sending",
    rows: [
      ["recipients", "recipients"],
      ["queued", "queued", "recipients"],
      ["sending", "sending", "recipients"],
      ["accepted", "accepted by ACS", "recipients"],
      ["send_failed", "send failed", "recipients"],
      ["cancelled", "cancelled", "recipients"],
      ["skipped", "skipped", "recipients"],
    ],
  },
  {
    section: "Delivery (share of accepted)",
    rows: [
      ["delivered", "delivered", "accepted"],
      ["expanded", "expanded", "accepted"],
      ["bounced_hard", "bounced (hard)", "accepted"],
      ["bounced_soft", "bounced (soft)", "accepted"],
      ["suppressed", "suppressed", "accepted"],
      ["filtered_spam", "filtered as spam", "accepted"],
      ["quarantined", "quarantined", "accepted"],
      ["delivery_failed", "failed", "accepted"],
      ["unknown_status", "unknown status", "accepted"],
    ],
  },
  {
    section: "Engagement (share of delivered)",
    rows: [
      ["unique_opens_human", "opened (human)", "delivered"],
      ["unique_opens", "opened (all)", "delivered"],
      ["opens_human", "opens (human)"],
      ["opens", "opens (all)"],
      ["unique_clicks_human", "clicked (human)", "delivered"],
      ["unique_clicks", "clicked (all)", "delivered"],
      ["clicks_human", "clicks (human)"],
      ["clicks", "clicks (all)"],
      ["unsubscribes", "unsubscribed", "delivered"],
      ["complaints", "complaints", "delivered"],
    ],
  },
  {
    // Which source counted the human opens and clicks (an open seen by both counts once, as Mailroom's).
    section: "Engagement by source (human)",
    rows: [
      ["opens_human_azure", "opens seen by Azure", "opens_human"],
      ["opens_human_mailroom", "opens seen by Mailroom", "opens_human"],
      ["clicks_human_azure", "clicks seen by Azure", "clicks_human"],
      ["clicks_human_mailroom", "clicks seen by Mailroom", "clicks_human"],
    ],
  },
];

export const ROLLUP_COLUMNS = NUMBERS.flatMap((s) => s.rows.map(([column]) => column));

type Row = Record<string, string | number | null>;

function share(value: number, base: number | undefined): string {
  if (base === undefined || base === 0) return "";
  return `${((100 * value) / base).toFixed(1)}%`;
}

/** The numbers as a table with a share column. */
export function formatNumbers(rollup: Row): string {
  const lines: string[] = [];
  const labelWidth = Math.max(...NUMBERS.flatMap((s) => s.rows.map(([, label]) => label.length))) + 2;
  const valueWidth = Math.max(8, ...ROLLUP_COLUMNS.map((c) => count(Number(rollup[c] ?? 0)).length));
  for (const { section, rows } of NUMBERS) {
    lines.push(section);
    for (const [column, label, base] of rows) {
      const value = Number(rollup[column] ?? 0);
      const baseValue = base === undefined ? undefined : Number(rollup[base] ?? 0);
      lines.push(`  ${label.padEnd(labelWidth)}${count(value).padStart(valueWidth)}  ${share(value, baseValue).padStart(6)}`.trimEnd());
    }
  }
  return lines.join("\n");
}

async function campaignHeader(client: pg.Client, id: string): Promise<Row> {
  const { rows } = await client.query<Row>(
    `select c.id, c.name, c.status, c.started_at, c.finished_at, r.campaign_id is not null as has_rollup
     from app_public.campaigns as c left join app_public.campaign_rollups as r on r.campaign_id = c.id
     where c.id = $1`,
    [id],
  );
  if (rows.length === 0) throw new CommandError(`campaign ${id} does not exist`);
  return rows[0]!;
}

function headline(c: Row): string {
  const when = c.finished_at ? `, finished ${new Date(c.finished_at as string).toISOString()}`
    : c.started_at ? `, started ${new Date(c.started_at as string).toISOString()}` : "";
  return `Campaign ${c.id} ${JSON.stringify(c.name)}: ${c.status}${when}`;
}

export async function campaignStatus(client: pg.Client, id: string): Promise<{ campaign: Row; stats: Row | undefined }> {
  const campaign = await campaignHeader(client, id);
  const { rows } = await client.query<Row>("select * from app_public.campaign_stats where campaign_id = $1", [id]);
  return { campaign, stats: rows[0] };
}

export interface RecomputeResult {
  campaign: Row;
  before: Row | undefined;
  after: Row;
  changed: { column: string; before: number; after: number }[];
  messagesChanged: number;
}

export async function recompute(client: pg.Client, id: string): Promise<RecomputeResult> {
  const campaign = await campaignHeader(client, id);
  await client.query("begin");
  try {
    const before = (await client.query<Row>("select * from app_public.campaign_rollups where campaign_id = $1 for update", [id])).rows[0];
    const after = (await client.query<Row>("select * from app_public.recompute_campaign_rollup($1)", [id])).rows[0]!;
    // recompute re-derives each message's state; the ones it changed carry this transaction's time.
    const messagesChanged = Number((await client.query(
      "select count(*) from app_public.messages where campaign_id = $1 and updated_at >= now()", [id])).rows[0].count);
    await client.query("commit");
    const changed = ROLLUP_COLUMNS
      .map((column) => ({ column, before: Number(before?.[column] ?? 0), after: Number(after[column] ?? 0) }))
      .filter((c) => c.before !== c.after);
    return { campaign, before, after, changed, messagesChanged };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

const STATUS_USAGE = "Usage: mailroom campaign-status <campaign id> [--json]";
const RECOMPUTE_USAGE = "Usage: mailroom recompute <campaign id> [--json]";

function parse(args: string[]): { id: string; json: boolean } | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: true });
  } catch (error) {
    console.error((error as Error).message);
    return undefined;
  }
  if (parsed.positionals.length !== 1) return undefined;
  return { id: parseId(parsed.positionals[0], "the campaign id"), json: parsed.values.json ?? false };
}

const plain = (row: Row | undefined) =>
  row && Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v]));

export async function runCampaignStatusCommand(args: string[], config: Config, log: Log): Promise<number> {
  return runCommand(async () => {
    const options = parse(args);
    if (!options) {
      console.error(STATUS_USAGE);
      return 2;
    }
    const { campaign, stats } = await withDatabase(config, log, (client) => campaignStatus(client, options.id));
    if (options.json) {
      console.log(JSON.stringify(plain(stats ?? campaign), null, 2));
      return 0;
    }
    console.log(headline(campaign));
    if (!stats) {
      console.log("No messages yet: the numbers start when the campaign starts.");
      return 0;
    }
    console.log(formatNumbers(stats));
    const rate = (v: unknown) => (v === null || v === undefined ? "-" : `${(100 * Number(v)).toFixed(1)}%`);
    console.log(`Open rate ${rate(stats.open_rate)}, click rate ${rate(stats.click_rate)} (unique human opens and clicks over delivered)`);
    return 0;
  });
}

export async function runRecomputeCommand(args: string[], config: Config, log: Log): Promise<number> {
  return runCommand(async () => {
    const options = parse(args);
    if (!options) {
      console.error(RECOMPUTE_USAGE);
      return 2;
    }
    const result = await withDatabase(config, log, (client) => recompute(client, options.id));
    if (options.json) {
      console.log(JSON.stringify({ changed: result.changed, messagesChanged: result.messagesChanged, rollup: plain(result.after) }, null, 2));
      return 0;
    }
    console.log(`${headline(result.campaign)}: recomputed from the raw events`);
    if (result.changed.length === 0) {
      console.log("No change: the numbers already matched the raw events.");
    } else {
      const width = Math.max(...result.changed.map((c) => c.column.length));
      console.log(`${result.changed.length} number${result.changed.length === 1 ? "" : "s"} changed:`);
      for (const c of result.changed) {
        const delta = c.after - c.before;
        console.log(`  ${c.column.padEnd(width)}  ${count(c.before)} -> ${count(c.after)} (${delta > 0 ? "+" : ""}${count(delta)})`);
      }
    }
    console.log(`Messages whose derived state changed: ${count(result.messagesChanged)}`);
    return 0;
  });
}
