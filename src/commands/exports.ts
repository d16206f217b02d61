// Streamed exports (src/commands/export-stream.ts: a server-side cursor, backpressure, constant memory):
//
//   mailroom lists export LIST [--status confirmed|unconfirmed|unsubscribed] [--output FILE]
//   mailroom campaigns export ID [--output FILE]
//   mailroom subscribers timeline ID|EMAIL [--output FILE]
//
// CSV (RFC 4180, a header row, UTF-8, CRLF) by default, JSON lines with --json; to stdout, or to FILE atomically.
// A campaign's export has one row per message, and its numeric columns and flags add up to the campaign's rollup
// (app_public.campaign_rollups) exactly: the same message columns the rollup is made of (rollup_delta_query).
import { notFound, usageError, type Command, type CommandContext } from "./command.ts";
import { parseId } from "./database.ts";
import { streamExport, type ExportColumn, type ExportQuery } from "./export-stream.ts";
import { findList } from "./lists.ts";
import { findSubscriber } from "./subscribers.ts";

const OUTPUT_HELP = `  --output FILE    write to FILE (first to FILE.partial, renamed when complete) instead of stdout

CSV as in RFC 4180: UTF-8, a header row, fields quoted when they hold a comma, a quote or a line
break, records ended by CRLF; NULL is an empty field, an empty text "". Times are ISO 8601 in UTC.
With --json: JSON lines, one object per row and per line, the same names. The data goes to stdout
(or FILE), a one-line summary (rows, seconds) to stderr. Rows are read in batches through a cursor
and written as the reader takes them: memory stays the same however many rows. Closing stdout
early (| head) ends the export quietly (exit 0).`;

const OUTPUT_OPTIONS = { output: { type: "string", short: "o" } } as const;

function outputOption(context: CommandContext): string | undefined {
  const output = context.options.output as string | undefined;
  if (output === "") throw usageError("--output needs a file name");
  return output;
}

export const LIST_EXPORT_COLUMNS: ExportColumn[] = [
  { name: "id", sql: "s.id" },
  { name: "email", sql: "s.email" },
  { name: "name", sql: "s.name" },
  { name: "attributes", sql: "s.attributes" },
  { name: "subscriber_status", sql: "s.status" },
  { name: "membership_status", sql: "lm.status" },
  { name: "joined_at", sql: "lm.created_at", time: true },
  { name: "confirmed_at", sql: "lm.confirmed_at", time: true },
  { name: "unsubscribed_at", sql: "lm.unsubscribed_at", time: true },
  { name: "created_at", sql: "s.created_at", time: true },
];

const MEMBERSHIP_STATUSES = ["confirmed", "unconfirmed", "unsubscribed"];

export function listExportQuery(listId: string, status: string | undefined): ExportQuery {
  return {
    columns: LIST_EXPORT_COLUMNS,
    from: `from app_public.list_memberships as lm join app_public.subscribers as s on s.id = lm.subscriber_id
      where lm.list_id = $1${status ? " and lm.status = $2" : ""} order by lm.subscriber_id`,
    params: status ? [listId, status] : [listId],
  };
}

/**
 * One row per message. The numbers are the message's own columns, which are what the rollup adds up
 * (app_private.rollup_delta_query): summed over the export, each equals the campaign_rollups column of the same
 * name (opens = opens_human + opens_machine; opened, opened_human, clicked, clicked_human, unsubscribed and
 * complained counted where true are unique_opens, unique_opens_human, unique_clicks, unique_clicks_human,
 * unsubscribes and complaints).
 */
export const CAMPAIGN_EXPORT_COLUMNS: ExportColumn[] = [
  { name: "message_id", sql: "m.id" },
  { name: "subscriber_id", sql: "m.subscriber_id" },
  { name: "email", sql: "m.recipient" },
  { name: "internet_message_id", sql: "m.internet_message_id" },
  { name: "operation_id", sql: "m.operation_id" },
  { name: "send_status", sql: "m.send_status" },
  { name: "send_status_reason", sql: "coalesce(m.send_status_reason, m.last_error)" },
  { name: "accepted_at", sql: "m.accepted_at", time: true },
  { name: "delivery_status", sql: "m.delivery_status" },
  { name: "delivery_status_at", sql: "m.delivery_status_at", time: true },
  { name: "delivery_status_message", sql: "m.delivery_status_message" },
  { name: "bounce_type", sql: "m.bounce_type" },
  { name: "opens_human", sql: "m.opens_human" },
  { name: "opens_machine", sql: "m.opens_machine" },
  { name: "opens_human_azure", sql: "m.opens_human - m.opens_human_mailroom" },
  { name: "opens_human_mailroom", sql: "m.opens_human_mailroom" },
  { name: "clicks_human", sql: "m.clicks_human" },
  { name: "clicks_machine", sql: "m.clicks_machine" },
  { name: "clicks_human_azure", sql: "m.clicks_human - m.clicks_human_mailroom" },
  { name: "clicks_human_mailroom", sql: "m.clicks_human_mailroom" },
  { name: "opened", sql: "m.opens_human + m.opens_machine > 0" },
  { name: "opened_human", sql: "m.opens_human > 0" },
  { name: "clicked", sql: "m.clicks_human + m.clicks_machine > 0" },
  { name: "clicked_human", sql: "m.clicks_human > 0" },
  { name: "first_opened_at", sql: "m.first_opened_at", time: true },
  { name: "last_opened_at", sql: "m.last_opened_at", time: true },
  { name: "first_clicked_at", sql: "m.first_clicked_at", time: true },
  { name: "last_clicked_at", sql: "m.last_clicked_at", time: true },
  { name: "unsubscribed", sql: "m.unsubscribed_at is not null" },
  { name: "unsubscribed_at", sql: "m.unsubscribed_at", time: true },
  { name: "complained", sql: "m.complained_at is not null" },
  { name: "complained_at", sql: "m.complained_at", time: true },
];

export function campaignExportQuery(campaignId: string): ExportQuery {
  // In the order of the unique index (campaign_id, subscriber_id): read in order, nothing to sort.
  return {
    columns: CAMPAIGN_EXPORT_COLUMNS,
    from: "from app_public.messages as m where m.campaign_id = $1 order by m.subscriber_id",
    params: [campaignId],
  };
}

export const TIMELINE_COLUMNS: ExportColumn[] = [
  { name: "at", sql: "t.at", time: true },
  ...["kind", "campaign_id", "campaign_name", "message_id", "list_id", "list_name", "status", "detail", "bounce_type",
    "url", "machine", "machine_reason", "source", "ignored_reason", "raw_event_id"].map((name) => ({ name, sql: `t.${name}` })),
];

export function timelineQuery(subscriberId: string): ExportQuery {
  return {
    columns: TIMELINE_COLUMNS,
    from: "from app_public.subscriber_timeline($1) with ordinality as t order by t.ordinality",
    params: [subscriberId],
  };
}

export const commands: Command[] = [
  {
    noun: "lists",
    verb: "export",
    summary: "a list's members as CSV or JSON lines, streamed",
    usage: "LIST [--status confirmed|unconfirmed|unsubscribed] [--output FILE] [--json]",
    help: `LIST is the list's id or name. One row per member, in subscriber id order: id, email, name, attributes
(a JSON object), subscriber_status (enabled, blocklisted), membership_status, joined_at (added to the list),
confirmed_at, unsubscribed_at, created_at (the subscriber).

  --status STATUS  only members with this membership status: confirmed, unconfirmed or unsubscribed
${OUTPUT_HELP}`,
    options: { status: { type: "string" }, ...OUTPUT_OPTIONS },
    positionals: [1, 1],
    async run(context) {
      const status = context.options.status as string | undefined;
      if (status !== undefined && !MEMBERSHIP_STATUSES.includes(status)) {
        throw usageError(`--status ${JSON.stringify(status)}: expected ${MEMBERSHIP_STATUSES.join(", ")}`);
      }
      const output = outputOption(context);
      await context.database(async (client) => {
        const list = await findList(client, context.positionals[0]!);
        await streamExport(client, listExportQuery(list.id, status), { json: context.json, output });
      });
    },
  },
  {
    noun: "campaigns",
    verb: "export",
    summary: "every message of a campaign with its delivery and engagement, as CSV or JSON lines, streamed",
    usage: "ID [--output FILE] [--json]",
    help: `One row per message, in subscriber id order: message_id, subscriber_id, email (the address it was sent to),
internet_message_id, operation_id, send_status, send_status_reason (why skipped, or the last error),
accepted_at, delivery_status, delivery_status_at, delivery_status_message, bounce_type (hard, soft),
opens_human, opens_machine, opens_human_azure, opens_human_mailroom, clicks_human, clicks_machine,
clicks_human_azure, clicks_human_mailroom, opened, opened_human, clicked, clicked_human (true or false),
first_opened_at, last_opened_at, first_clicked_at, last_clicked_at (human engagement), unsubscribed,
unsubscribed_at, complained, complained_at. Summed over the export, each number equals the campaign's
rollup (mailroom campaigns status); the true flags count its unique opens, clicks, unsubscribes, complaints.

${OUTPUT_HELP}`,
    options: OUTPUT_OPTIONS,
    positionals: [1, 1],
    async run(context) {
      const id = parseId(context.positionals[0], "the campaign");
      const output = outputOption(context);
      await context.database(async (client) => {
        const { rowCount } = await client.query("select 1 from app_public.campaigns where id = $1", [id]);
        if (!rowCount) throw notFound(`campaign ${id} does not exist`);
        await streamExport(client, campaignExportQuery(id), { json: context.json, output });
      });
    },
  },
  {
    noun: "subscribers",
    verb: "timeline",
    summary: "everything that happened to a subscriber across campaigns and lists, in time order",
    usage: "ID|EMAIL [--output FILE] [--json]",
    help: `One row per fact, oldest first (app_public.subscriber_timeline): at, kind, campaign_id, campaign_name,
message_id, list_id, list_name, status, detail, bounce_type, url, machine, machine_reason, source,
ignored_reason, raw_event_id. Kinds: message (sent, or not: status is the send status), delivery_report
(status, detail = its status message, bounce_type), open and click (url; machine true with its
machine_reason, or false = human; source azure or mailroom; ignored_reason when it counts nowhere),
unsubscribe (source), complaint, bounce (recorded without a delivery report), list_joined,
list_confirmed, list_unsubscribed (list_id, list_name; status = the membership's status now).

${OUTPUT_HELP}`,
    options: OUTPUT_OPTIONS,
    positionals: [1, 1],
    async run(context) {
      const output = outputOption(context);
      await context.database(async (client) => {
        const subscriber = await findSubscriber(client, context.positionals[0]!);
        await streamExport(client, timelineQuery(subscriber.id), { json: context.json, output });
      });
    },
  },
];
