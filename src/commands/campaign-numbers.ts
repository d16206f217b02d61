// mailroom campaigns status <id>: a campaign's numbers from its rollup (app_public.campaign_stats).
// mailroom campaigns recompute <id>: rebuilds them from the events (app_public.recompute_campaign_rollup) and
// prints what changed. The old names `campaign-status` and `recompute` run the same commands (src/cli.ts).
import type pg from "pg";
import { notFound, print, usageError, type Command } from "./command.ts";
import { inTransaction } from "./database.ts";
import { count } from "./progress.ts";

type Row = Record<string, string | number | null>;

/**
 * One line of the numbers: a rollup column (or a derived number, see withDerivedNumbers), its label, the number
 * its share is taken of, and whether it is a part of the line above ("of which ...", indented) rather than a
 * number of its own.
 */
interface NumberLine {
  key: string;
  label: string;
  base?: string;
  part?: boolean;
}

/**
 * A section is a partition when its top-level lines with the same base never overlap: each message counts in at
 * most one of them, so their shares add up to at most 100% (they are rounded so that they still do). The "of which"
 * lines are subsets of the line above them and are not added.
 */
interface Section {
  title: string;
  partition: boolean;
  lines: NumberLine[];
}

// Delivery: a message has one delivery status (the report of highest rank), so delivered, expanded, suppressed,
// unknown and the bounces never overlap. Bounces are the statuses the bounce rules classify as hard or soft (as
// shipped: Bounced, Failed, Quarantined and FilteredSpam; Suppressed blocklists without counting a bounce), so
// failed, quarantined and filtered as spam are parts of the bounces, not numbers beside them: counted beside them
// (as before) the shares of one campaign added up to 104.5%.
const SECTIONS: Section[] = [
  {
    title: "Sending (share of recipients)",
    partition: true,
    lines: [
      { key: "recipients", label: "recipients" },
      { key: "queued", label: "queued", base: "recipients" },
      { key: "sending", label: "sending", base: "recipients" },
      { key: "accepted", label: "accepted by ACS", base: "recipients" },
      { key: "send_failed", label: "send failed", base: "recipients" },
      { key: "cancelled", label: "cancelled", base: "recipients" },
      { key: "skipped", label: "skipped", base: "recipients" },
    ],
  },
  {
    title: "Delivery (share of accepted)",
    partition: true,
    lines: [
      { key: "delivered", label: "delivered", base: "accepted" },
      { key: "expanded", label: "expanded", base: "accepted" },
      { key: "bounced", label: "bounced", base: "accepted" },
      { key: "bounced_hard", label: "of which hard", base: "accepted", part: true },
      { key: "bounced_soft", label: "of which soft", base: "accepted", part: true },
      { key: "delivery_failed", label: "of which failed", base: "accepted", part: true },
      { key: "quarantined", label: "of which quarantined", base: "accepted", part: true },
      { key: "filtered_spam", label: "of which filtered as spam", base: "accepted", part: true },
      { key: "suppressed", label: "suppressed", base: "accepted" },
      { key: "unknown_status", label: "unknown status", base: "accepted" },
      { key: "awaiting_report", label: "no report yet", base: "accepted" },
    ],
  },
  {
    // Not a partition: who clicked usually opened too, and people who unsubscribed may have done both.
    title: "Engagement (share of delivered)",
    partition: false,
    lines: [
      { key: "unique_opens", label: "opened", base: "delivered" },
      { key: "unique_opens_human", label: "of which by people", base: "delivered", part: true },
      { key: "unique_clicks", label: "clicked", base: "delivered" },
      { key: "unique_clicks_human", label: "of which by people", base: "delivered", part: true },
      { key: "unsubscribes", label: "unsubscribed", base: "delivered" },
      { key: "complaints", label: "complained", base: "delivered" },
      { key: "opens", label: "opens" },
      { key: "opens_human", label: "of which by people", part: true },
      { key: "clicks", label: "clicks" },
      { key: "clicks_human", label: "of which by people", part: true },
    ],
  },
  {
    // Which source counted the human opens and clicks (an open seen by both counts once, as Mailroom's).
    title: "Engagement by source (people)",
    partition: true,
    lines: [
      { key: "opens_human_azure", label: "opens seen by Azure", base: "opens_human" },
      { key: "opens_human_mailroom", label: "opens seen by Mailroom", base: "opens_human" },
      { key: "clicks_human_azure", label: "clicks seen by Azure", base: "clicks_human" },
      { key: "clicks_human_mailroom", label: "clicks seen by Mailroom", base: "clicks_human" },
    ],
  },
];

/** The rollup's own columns, as campaign_rollups has them. */
export const ROLLUP_COLUMNS = [
  "recipients", "queued", "sending", "accepted", "send_failed", "cancelled", "skipped",
  "delivered", "expanded", "bounced_hard", "bounced_soft", "suppressed", "filtered_spam", "quarantined", "delivery_failed", "unknown_status",
  "unique_opens_human", "unique_opens", "opens_human", "opens", "unique_clicks_human", "unique_clicks", "clicks_human", "clicks",
  "unsubscribes", "complaints", "opens_human_azure", "opens_human_mailroom", "clicks_human_azure", "clicks_human_mailroom",
];

const number = (row: Row, key: string) => Number(row[key] ?? 0);

/**
 * The rollup with the two numbers the delivery lines derive from it: bounced (hard and soft together) and
 * awaiting_report (accepted messages without a delivery report yet; never below 0, in case a report came for a
 * message whose acceptance is not recorded).
 */
export function withDerivedNumbers(rollup: Row): Row {
  const bounced = number(rollup, "bounced_hard") + number(rollup, "bounced_soft");
  const reported = number(rollup, "delivered") + number(rollup, "expanded") + bounced + number(rollup, "suppressed") + number(rollup, "unknown_status");
  return { ...rollup, bounced, awaiting_report: Math.max(0, number(rollup, "accepted") - reported) };
}

/**
 * Shares in tenths of a percent, rounded so that lines that never overlap still add up to what their counts do
 * (the largest remainders get the tenths that rounding down left over): 1/6 six times is 16.7% four times and
 * 16.6% twice, not 100.2%.
 */
export function partitionShares(values: number[], base: number): number[] {
  const exact = values.map((v) => (1000 * v) / base);
  const shares = exact.map(Math.floor);
  let left = Math.round((1000 * values.reduce((a, b) => a + b, 0)) / base) - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, remainder: e - Math.floor(e) })).sort((a, b) => b.remainder - a.remainder);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    shares[i]! += 1;
    left -= 1;
  }
  return shares;
}

/** The numbers as a table: label, count, share of its base; parts indented under what they are part of. */
export function formatNumbers(stats: Row): string {
  const rollup = withDerivedNumbers(stats);
  const label = (line: NumberLine) => `${line.part ? "  " : ""}${line.label}`;
  const labelWidth = Math.max(...SECTIONS.flatMap((s) => s.lines.map((l) => label(l).length))) + 2;
  const valueWidth = Math.max(8, ...SECTIONS.flatMap((s) => s.lines.map((l) => count(number(rollup, l.key)).length)));
  const lines: string[] = [];
  for (const section of SECTIONS) {
    // Tenths of a percent of each line, by line index.
    const tenths = new Map<number, number>();
    const bases = new Set(section.lines.map((l) => l.base).filter((b) => b !== undefined));
    for (const base of bases) {
      const baseValue = number(rollup, base);
      if (baseValue === 0) continue;
      const indexes = section.lines.flatMap((l, i) => (l.base === base ? [i] : []));
      const whole = indexes.filter((i) => section.partition && !section.lines[i]!.part);
      const shares = partitionShares(whole.map((i) => number(rollup, section.lines[i]!.key)), baseValue);
      whole.forEach((i, k) => tenths.set(i, shares[k]!));
      for (const i of indexes) if (!tenths.has(i)) tenths.set(i, Math.round((1000 * number(rollup, section.lines[i]!.key)) / baseValue));
    }
    lines.push(section.title);
    section.lines.forEach((line, i) => {
      const share = tenths.has(i) ? `${(tenths.get(i)! / 10).toFixed(1)}%` : "";
      lines.push(`  ${label(line).padEnd(labelWidth)}${count(number(rollup, line.key)).padStart(valueWidth)}  ${share.padStart(6)}`.trimEnd());
    });
  }
  return lines.join("\n");
}

/** A rate (0.1234) as a percentage (12.3%), or "-" when there is none yet. */
export function rate(value: unknown): string {
  return value === null || value === undefined ? "-" : `${(100 * Number(value)).toFixed(1)}%`;
}

/** A command-line campaign id: a positive integer (exit 2 otherwise). */
export function campaignIdArgument(value: string | undefined): string {
  if (value === undefined || !/^[1-9][0-9]{0,18}$/.test(value)) {
    throw usageError(`the campaign id must be a positive integer${value === undefined ? "" : ` (got "${value}")`}`);
  }
  return value;
}

interface CampaignHeader {
  id: string;
  name: string;
  status: string;
  started_at: Date | null;
  finished_at: Date | null;
}

async function campaignHeader(client: pg.Client, id: string): Promise<CampaignHeader> {
  const { rows } = await client.query<CampaignHeader>(
    "select c.id, c.name, c.status, c.started_at, c.finished_at from app_public.campaigns as c where c.id = $1", [id]);
  if (rows.length === 0) throw notFound(`campaign ${id} does not exist`);
  return rows[0]!;
}

function headline(c: CampaignHeader): string {
  const when = c.finished_at ? `, finished ${c.finished_at.toISOString()}` : c.started_at ? `, started ${c.started_at.toISOString()}` : "";
  return `Campaign ${c.id} ${JSON.stringify(c.name)}: ${c.status}${when}`;
}

/** Numeric columns (bigint, numeric: strings from pg) as JSON numbers; the rest as they are. */
function plain(row: Row, numeric: string[]): Row {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, numeric.includes(k) && v !== null ? Number(v) : v]));
}

const STATS_NUMERIC = ["campaign_id", ...ROLLUP_COLUMNS, "bounced", "awaiting_report", "open_rate", "click_rate"];

export async function campaignStatus(client: pg.Client, id: string): Promise<{ campaign: CampaignHeader; stats: Row | undefined }> {
  const campaign = await campaignHeader(client, id);
  const { rows } = await client.query<Row>("select * from app_public.campaign_stats where campaign_id = $1", [id]);
  return { campaign, stats: rows[0] && plain(withDerivedNumbers(rows[0]), STATS_NUMERIC) };
}

export interface RecomputeResult {
  campaign: CampaignHeader;
  after: Row;
  changed: { column: string; before: number; after: number }[];
  messagesChanged: number;
}

export async function recompute(client: pg.Client, id: string): Promise<RecomputeResult> {
  const campaign = await campaignHeader(client, id);
  return inTransaction(client, async () => {
    const before = (await client.query<Row>("select * from app_public.campaign_rollups where campaign_id = $1 for update", [id])).rows[0];
    const after = (await client.query<Row>("select * from app_public.recompute_campaign_rollup($1)", [id])).rows[0]!;
    // recompute re-derives each message's state; the ones it changed carry this transaction's time.
    const messagesChanged = Number((await client.query(
      "select count(*) from app_public.messages where campaign_id = $1 and updated_at >= now()", [id])).rows[0].count);
    const changed = ROLLUP_COLUMNS
      .map((column) => ({ column, before: Number(before?.[column] ?? 0), after: Number(after[column] ?? 0) }))
      .filter((c) => c.before !== c.after);
    return { campaign, after: plain(after, ["campaign_id", ...ROLLUP_COLUMNS]), changed, messagesChanged };
  });
}

export const statusCommand: Command = {
  noun: "campaigns",
  verb: "status",
  summary: "a campaign's numbers: sending, delivery, engagement, with their shares",
  usage: "ID",
  help: `The numbers come from the campaign's rollup (app_public.campaign_stats), kept current as events arrive.
Sending lines are shares of the recipients, delivery lines of the messages ACS accepted, engagement lines of
the delivered. Lines marked "of which" are parts of the line above (bounces by type and by status, people
among all opens and clicks); the other lines of a section never overlap, so their shares add up to at most 100%.
--json prints the campaign_stats row, plus bounced (hard and soft) and awaiting_report (accepted, no delivery
report yet). Old name: mailroom campaign-status ID.`,
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    const { campaign, stats } = await context.database((client) => campaignStatus(client, id));
    if (context.json) {
      // Before the start there is no rollup: the campaign's id, name and status.
      print(context, stats ?? { campaign_id: Number(campaign.id), name: campaign.name, status: campaign.status }, () => "");
      return;
    }
    console.log(headline(campaign));
    if (!stats) {
      console.log("No messages yet: the numbers start when the campaign starts.");
      return;
    }
    console.log(formatNumbers(stats));
    console.log(`Open rate ${rate(stats.open_rate)}, click rate ${rate(stats.click_rate)} (opened and clicked by people, of delivered)`);
  },
};

export const recomputeCommand: Command = {
  noun: "campaigns",
  verb: "recompute",
  summary: "rebuild a campaign's numbers from its events and print what changed",
  usage: "ID",
  help: `Re-derives every message's state from its attributed events and rewrites the rollup by the same rule
as the incremental path (app_public.recompute_campaign_rollup), in one transaction, then prints each number that
changed and how many messages' derived state changed. --json prints {changed, messagesChanged, rollup}.
Old name: mailroom recompute ID.`,
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    const result = await context.database((client) => recompute(client, id));
    print(context, { changed: result.changed, messagesChanged: result.messagesChanged, rollup: result.after }, () => {
      const lines = [`${headline(result.campaign)}: recomputed from the raw events`];
      if (result.changed.length === 0) {
        lines.push("No change: the numbers already matched the raw events.");
      } else {
        const width = Math.max(...result.changed.map((c) => c.column.length));
        lines.push(`${result.changed.length} number${result.changed.length === 1 ? "" : "s"} changed:`);
        for (const c of result.changed) {
          const delta = c.after - c.before;
          lines.push(`  ${c.column.padEnd(width)}  ${count(c.before)} -> ${count(c.after)} (${delta > 0 ? "+" : ""}${count(delta)})`);
        }
      }
      lines.push(`Messages whose derived state changed: ${count(result.messagesChanged)}`);
      return lines.join("\n");
    });
  },
};
