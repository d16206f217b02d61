// mailroom campaigns <verb>: create a campaign from a template and lists, list and show campaigns, send a test
// email, start, schedule, unschedule, pause, resume, cancel and duplicate them; `status` and `recompute` live in
// campaign-numbers.ts, `preview` and `export` with the preview and the exports. Every change is one of the SQL
// functions that GraphQL calls too (app_public.start_campaign, ...), so the database's rules and messages apply
// as they are: a refusal exits 4 with the database's message, an unknown campaign 3.
import type pg from "pg";
import { formatTable, notFound, print, usageError, type Command, type CommandContext } from "./command.ts";
import { inTransaction } from "./database.ts";
import { campaignIdArgument, rate, recomputeCommand, statusCommand } from "./campaign-numbers.ts";
import { findByIdOrName, LISTS } from "./lists.ts";
import { count } from "./progress.ts";
import { SENDERS } from "./senders.ts";
import { TEMPLATES } from "./templates.ts";

const STATUSES = ["draft", "scheduled", "running", "paused", "cancelled", "finished"];
const ENGAGEMENT_TRACKING = ["azure", "mailroom", "both", "off"];
/** How long `test-send` waits for the worker to send the test email, by default. */
const TEST_SEND_TIMEOUT_SECONDS = 60;
const TEST_SEND_POLL_MS = 200;

/** A campaign as every campaigns command prints it (--json): built in one query, numbers as JSON numbers. */
export interface CampaignDetail {
  id: number;
  name: string;
  status: string;
  template: { id: number; name: string } | null;
  /** What the emails' subject is: the campaign's own, else its template's. */
  subject: string;
  sender: { id: number; name: string; from_address: string } | null;
  additional_senders: { id: number; name: string; from_address: string }[];
  lists: { id: number; name: string; opt_in: string; members: number; confirmed: number; unconfirmed: number; receiving: number }[];
  /** The campaign's own setting; before the start, null means the sender's (engagement_tracking_source). */
  engagement_tracking: string | null;
  engagement_tracking_source: "campaign" | "sender" | null;
  /** Messages created by the start (null before). */
  recipients: number | null;
  scheduled_at: string | null;
  created_at: string;
  started_at: string | null;
  paused_at: string | null;
  finished_at: string | null;
  cancelled_at: string | null;
  numbers: Record<string, number | null> | null;
  test_sends: { id: number; recipient: string; status: string; error: string | null; delivery_status: string | null; created_at: string; sent_at: string | null }[];
}

// One statement, so that everything shown is of one moment. campaign_content gives the subject that is sent.
const DETAIL_QUERY = `
select jsonb_build_object(
  'id', c.id, 'name', c.name, 'status', c.status,
  'template', (select jsonb_build_object('id', t.id, 'name', t.name) from app_public.templates as t where t.id = c.template_id),
  'subject', (select content.subject from app_private.campaign_content(c) as content),
  'sender', (select jsonb_build_object('id', s.id, 'name', s.name, 'from_address', s.from_address)
             from app_public.senders as s where s.id = c.sender_id),
  'additional_senders', coalesce((
    select jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'from_address', s.from_address) order by s.id)
    from app_public.campaign_senders as cs join app_public.senders as s on s.id = cs.sender_id
    where cs.campaign_id = c.id and cs.sender_id is distinct from c.sender_id), '[]'),
  'lists', coalesce((
    select jsonb_agg(jsonb_build_object('id', l.id, 'name', l.name, 'opt_in', l.opt_in, 'members', n.members,
      'confirmed', n.confirmed, 'unconfirmed', n.unconfirmed,
      'receiving', case l.opt_in when 'double' then n.confirmed else n.members end) order by l.id)
    from app_public.campaign_lists as cl join app_public.lists as l on l.id = cl.list_id
    cross join lateral app_public.lists_member_counts(l) as n
    where cl.campaign_id = c.id), '[]'),
  'engagement_tracking', coalesce(c.engagement_tracking, (select s.engagement_tracking from app_public.senders as s where s.id = c.sender_id)),
  'engagement_tracking_source', case when c.engagement_tracking is not null then 'campaign' when c.sender_id is not null then 'sender' end,
  'recipients', r.recipients,
  'scheduled_at', c.scheduled_at, 'created_at', c.created_at, 'started_at', c.started_at, 'paused_at', c.paused_at,
  'finished_at', c.finished_at, 'cancelled_at', c.cancelled_at,
  'numbers', case when r.campaign_id is not null then jsonb_build_object(
    'recipients', r.recipients, 'accepted', r.accepted, 'send_failed', r.send_failed, 'delivered', r.delivered,
    'bounced', r.bounced_hard + r.bounced_soft, 'suppressed', r.suppressed,
    'opened', r.unique_opens_human, 'clicked', r.unique_clicks_human, 'unsubscribes', r.unsubscribes,
    'complaints', r.complaints,
    'open_rate', round(r.unique_opens_human::numeric / nullif(r.delivered, 0), 4),
    'click_rate', round(r.unique_clicks_human::numeric / nullif(r.delivered, 0), 4)) end,
  'test_sends', coalesce((
    select jsonb_agg(jsonb_build_object('id', t.id, 'recipient', t.recipient, 'status', t.status, 'error', t.error,
      'delivery_status', t.delivery_status, 'created_at', t.created_at, 'sent_at', t.sent_at) order by t.id desc)
    from (select * from app_public.test_sends as t where t.campaign_id = c.id order by t.id desc limit 5) as t), '[]')
) as campaign
from app_public.campaigns as c left join app_public.campaign_rollups as r on r.campaign_id = c.id
where c.id = $1`;

export async function campaignDetail(client: pg.Client, id: string): Promise<CampaignDetail> {
  const { rows } = await client.query<{ campaign: CampaignDetail }>(DETAIL_QUERY, [id]);
  if (rows.length === 0) throw notFound(`campaign ${id} does not exist`);
  return rows[0]!.campaign;
}

type Named = { id: string; name: string };

function when(value: string | null): string {
  return value === null ? "" : new Date(value).toISOString();
}

const address = (s: { id: number; name: string; from_address: string }) =>
  `${s.id} ${s.name === s.from_address ? s.from_address : `${s.name} <${s.from_address}>`}`;

/** The campaign for people: what it sends, to whom, through what, when, and its key numbers. */
export function formatCampaign(c: CampaignDetail): string {
  const fields: [string, string][] = [
    ["template", c.template ? `${c.template.id} ${JSON.stringify(c.template.name)}` : "none (the campaign's own content)"],
    ["subject", c.subject],
    ["sender", c.sender ? address(c.sender) : "none: give one before the start"],
    ...c.additional_senders.map((s): [string, string] => ["also sends", address(s)]),
    ...(c.lists.length === 0
      ? [["lists", "none: give one before the start"] as [string, string]]
      : c.lists.map((l, i): [string, string] => [i === 0 ? "lists" : "", `${l.id} ${JSON.stringify(l.name)}: ${l.opt_in} opt-in, ${count(l.receiving)} of ${count(l.members)} members receive it${l.opt_in === "double" && l.unconfirmed > 0 ? ` (${count(l.unconfirmed)} not confirmed)` : ""}`])),
    ["tracking", c.engagement_tracking === null ? "the sender's (none yet)"
      : `${c.engagement_tracking}${c.engagement_tracking_source === "sender" ? " (the sender's; fixed at the start)" : ""}`],
    ["recipients", c.recipients === null ? "counted at the start (members who receive it, once each, enabled, not stopped by bounces)" : count(c.recipients)],
  ];
  if (c.scheduled_at) fields.push(["scheduled for", when(c.scheduled_at)]);
  fields.push(["created", when(c.created_at)]);
  for (const [key, label] of [["started_at", "started"], ["paused_at", "paused"], ["finished_at", "finished"], ["cancelled_at", "cancelled"]] as const) {
    if (c[key]) fields.push([label, when(c[key])]);
  }
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  const lines = [`Campaign ${c.id} ${JSON.stringify(c.name)}: ${c.status}`, ...fields.map(([label, value]) => `  ${(label ? `${label}:` : "").padEnd(width)}${value}`)];
  const n = c.numbers;
  if (n) {
    const of = (value: number | null | undefined, base: number | null | undefined) =>
      base ? ` (${((100 * Number(value ?? 0)) / base).toFixed(1)}%)` : "";
    lines.push("Numbers (mailroom campaigns status " + c.id + " shows them all):",
      `  accepted by ACS ${count(n.accepted ?? 0)}${of(n.accepted, n.recipients)}, send failed ${count(n.send_failed ?? 0)}`,
      `  delivered ${count(n.delivered ?? 0)}${of(n.delivered, n.accepted)}, bounced ${count(n.bounced ?? 0)}${of(n.bounced, n.accepted)}, suppressed ${count(n.suppressed ?? 0)}${of(n.suppressed, n.accepted)}`,
      `  opened by people ${count(n.opened ?? 0)} (open rate ${rate(n.open_rate)}), clicked ${count(n.clicked ?? 0)} (click rate ${rate(n.click_rate)})`,
      `  unsubscribed ${count(n.unsubscribes ?? 0)}, complained ${count(n.complaints ?? 0)}`);
  }
  if (c.test_sends.length > 0) {
    lines.push("Test emails (latest first):");
    for (const t of c.test_sends) {
      const outcome = t.status === "failed" ? `failed: ${t.error}` : t.status === "accepted" ? `accepted${t.delivery_status ? `, ${t.delivery_status}` : ""}` : "queued";
      lines.push(`  ${t.id}  ${when(t.created_at)}  ${t.recipient}  ${outcome}`);
    }
  }
  return lines.join("\n");
}

/** Prints the campaign (its detail as JSON with --json), after the given line for people. */
async function printCampaign(context: CommandContext, client: pg.Client, id: string, headline?: (c: CampaignDetail) => string): Promise<CampaignDetail> {
  const campaign = await campaignDetail(client, id);
  print(context, campaign, () => [...(headline ? [headline(campaign)] : []), formatCampaign(campaign)].join("\n"));
  return campaign;
}

/** An ISO 8601 time with its offset (Z or ±HH:MM): the moment it names, or a usage error. */
export function parseIsoTime(value: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(value.trim());
  const problem = `--at ${JSON.stringify(value)}: expected an ISO 8601 time with its offset, e.g. 2026-03-01T09:00:00+01:00 or 2026-03-01T08:00:00Z`;
  if (!match) throw usageError(problem);
  const [, y, mo, d, h, mi, s = "00", fraction = "", offset] = match;
  if (offset === undefined) throw usageError(`${problem} (without an offset the time is ambiguous: add Z for UTC or your offset)`);
  const local = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  const valid = local.getUTCFullYear() === Number(y) && local.getUTCMonth() === Number(mo) - 1 && local.getUTCDate() === Number(d)
    && local.getUTCHours() === Number(h) && local.getUTCMinutes() === Number(mi) && local.getUTCSeconds() === Number(s);
  let offsetMinutes = 0;
  if (offset.toUpperCase() !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || "0")];
    if (oh > 15 || om > 59) throw usageError(problem);
    offsetMinutes = (offset.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  if (!valid) throw usageError(`${problem} (no such date or time)`);
  return new Date(local.getTime() - offsetMinutes * 60_000 + Math.floor(Number(`0${fraction}`) * 1000));
}

const create: Command = {
  noun: "campaigns",
  verb: "create",
  summary: "create a draft campaign from a template, lists and a sender",
  usage: "--name NAME --template ID|NAME --list ID|NAME [--list ...] --sender ID|NAME [options]",
  help: `Creates a draft: nothing is sent until "mailroom campaigns start" (or "schedule").
  --name NAME               the campaign's name (required)
  --template ID|NAME        the template whose subject, HTML and text it sends (required)
  --list ID|NAME            a list it goes to (required; repeat for several: each member receives it once)
  --sender ID|NAME|ADDRESS  the sender it goes out through (required); repeat to add senders that share the
                            sending (each takes messages by its remaining quota); the first one's domain is in
                            every Message-ID
  --subject TEXT            a subject of its own instead of the template's (placeholders as in templates)
  --engagement-tracking azure|mailroom|both|off
                            which opens and clicks count (docs/sending.md); default: the sender's, fixed at the start
A number is an id; anything else a name (case-insensitive; a sender's from-address too). Prints the campaign
as "show" does; --json prints it as JSON.`,
  options: {
    name: { type: "string" },
    template: { type: "string" },
    list: { type: "string", multiple: true },
    sender: { type: "string", multiple: true },
    subject: { type: "string" },
    "engagement-tracking": { type: "string" },
  },
  async run(context) {
    const o = context.options as { name?: string; template?: string; list?: string[]; sender?: string[]; subject?: string; "engagement-tracking"?: string };
    const missing = (["name", "template", "list", "sender"] as const).filter((key) => o[key] === undefined);
    if (missing.length > 0) throw usageError(`missing ${missing.map((key) => `--${key}`).join(", ")}`);
    if (o.name!.trim() === "") throw usageError("--name: the campaign needs a name");
    const tracking = o["engagement-tracking"];
    if (tracking !== undefined && !ENGAGEMENT_TRACKING.includes(tracking)) {
      throw usageError(`--engagement-tracking ${JSON.stringify(tracking)}: expected ${ENGAGEMENT_TRACKING.join(", ")}`);
    }
    await context.database(async (client) => {
      const template = await findByIdOrName<Named>(client, TEMPLATES, o.template!);
      const lists: Named[] = [];
      for (const list of o.list!) lists.push(await findByIdOrName<Named>(client, LISTS, list));
      const senders: Named[] = [];
      for (const sender of o.sender!) senders.push(await findByIdOrName<Named>(client, SENDERS, sender));
      const listIds = [...new Set(lists.map((l) => l.id))];
      const additionalSenderIds = [...new Set(senders.slice(1).map((s) => s.id))].filter((id) => id !== senders[0]!.id);
      const id = await inTransaction(client, async () => {
        const created = (await client.query<{ id: string }>(
          `insert into app_public.campaigns (name, template_id, sender_id, subject, engagement_tracking)
           values ($1, $2, $3, $4, $5) returning id`,
          [o.name!.trim(), template.id, senders[0]!.id, o.subject ?? "", tracking ?? null],
        )).rows[0]!.id;
        await client.query("insert into app_public.campaign_lists (campaign_id, list_id) select $1, unnest($2::bigint[])", [created, listIds]);
        await client.query("insert into app_public.campaign_senders (campaign_id, sender_id) select $1, unnest($2::bigint[])", [created, additionalSenderIds]);
        return created;
      });
      await printCampaign(context, client, id, (c) => `Created campaign ${c.id} (a draft). Next: mailroom campaigns test-send ${c.id} --to YOU, then mailroom campaigns start ${c.id}`);
    });
  },
};

const list: Command = {
  noun: "campaigns",
  verb: "list",
  summary: "the campaigns with their status and numbers",
  usage: "[--status STATUS]",
  help: `  --status STATUS   only campaigns in this status: ${STATUSES.join(", ")}
SINCE is when the campaign reached its status. --json prints an array of {id, name, status, template_id,
sender_id, recipients, delivered, open_rate, scheduled_at, created_at, started_at, finished_at,
status_changed_at} (recipients and numbers null before the start).`,
  options: { status: { type: "string" } },
  async run(context) {
    const status = context.options.status as string | undefined;
    if (status !== undefined && !STATUSES.includes(status)) throw usageError(`--status ${JSON.stringify(status)}: expected ${STATUSES.join(", ")}`);
    const rows = await context.database(async (client) => (await client.query<{ campaign: Record<string, unknown> }>(
      `select jsonb_build_object('id', c.id, 'name', c.name, 'status', c.status, 'template_id', c.template_id,
         'sender_id', c.sender_id, 'recipients', r.recipients, 'delivered', r.delivered,
         'open_rate', round(r.unique_opens_human::numeric / nullif(r.delivered, 0), 4),
         'scheduled_at', c.scheduled_at, 'created_at', c.created_at, 'started_at', c.started_at,
         'finished_at', c.finished_at, 'status_changed_at', c.status_changed_at) as campaign
       from app_public.campaigns as c left join app_public.campaign_rollups as r on r.campaign_id = c.id
       where $1::text is null or c.status = $1
       order by c.id`,
      [status ?? null],
    )).rows.map((r) => r.campaign));
    print(context, rows, () => {
      if (rows.length === 0) return status ? `No ${status} campaigns.` : "No campaigns yet: mailroom campaigns create --help";
      return formatTable(rows.map((r) => ({
        ...r,
        recipients: r.recipients === null ? "" : count(r.recipients as number),
        delivered: r.delivered === null ? "" : count(r.delivered as number),
        open_rate: r.recipients === null ? "" : rate(r.open_rate),
        since: when(r.status_changed_at as string),
      })), [["id", "ID"], ["name", "NAME"], ["status", "STATUS"], ["recipients", "RECIPIENTS"], ["delivered", "DELIVERED"],
        ["open_rate", "OPEN RATE"], ["since", "SINCE"]]);
    });
  },
};

const show: Command = {
  noun: "campaigns",
  verb: "show",
  summary: "a campaign: status, template, sender, lists, tracking, recipients, times, key numbers, test emails",
  usage: "ID",
  help: `Lists show how many of their members receive the campaign (confirmed members of a double opt-in list,
members not unsubscribed of a single opt-in list). The key numbers appear once the campaign has started
("mailroom campaigns status ID" shows all of them). --json prints the campaign as JSON (the same object every
campaigns command prints with --json).`,
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    await context.database((client) => printCampaign(context, client, id));
  },
};

const testSend: Command = {
  noun: "campaigns",
  verb: "test-send",
  summary: "send the campaign to one address as a test, and wait for ACS's answer",
  usage: "ID --to ADDRESS [--no-wait] [--timeout SECONDS]",
  help: `Sends the campaign, as it is now and in any status, to one address through its sender, with the subject
prefixed "[Test] " (app_public.send_test_email): rendered with the subscriber's fields when the address is a
subscriber's, else with sample values. The worker (mailroom start or mailroom worker) sends it; the test email
is no message of the campaign and counts in none of its numbers.
  --to ADDRESS        where to send it (required)
  --no-wait           queue it and return at once (its outcome appears in "mailroom campaigns show ID")
  --timeout SECONDS   how long to wait for the outcome (default ${TEST_SEND_TIMEOUT_SECONDS})
Exit 0 when ACS accepted it (or queued, with --no-wait); 1 when it failed (the reason is printed) or no
outcome came in time (is a worker running?); 4 when it cannot be sent (no sender, empty subject or content,
a template error, an invalid address). --json prints the test send {id, status, error, internet_message_id, ...}.`,
  options: { to: { type: "string" }, "no-wait": { type: "boolean" }, timeout: { type: "string" } },
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    const to = context.options.to as string | undefined;
    if (to === undefined) throw usageError("missing --to ADDRESS");
    const timeoutText = (context.options.timeout as string | undefined) ?? String(TEST_SEND_TIMEOUT_SECONDS);
    const timeoutSeconds = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText) || timeoutSeconds <= 0 || timeoutSeconds > 3600) {
      throw usageError(`--timeout ${JSON.stringify(timeoutText)}: expected a number of seconds from 1 to 3600`);
    }
    return context.database(async (client) => {
      let testSend = (await client.query<{ test_send: Record<string, unknown> }>(
        "select to_jsonb(t) as test_send from app_public.send_test_email($1, $2) as t", [id, to])).rows[0]!.test_send;
      if (!context.options["no-wait"]) {
        if (!context.json) console.error(`Test email ${testSend.id} to ${testSend.recipient} queued; waiting for the worker to send it ...`);
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (testSend.status === "queued" && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, TEST_SEND_POLL_MS));
          testSend = (await client.query("select to_jsonb(t) as test_send from app_public.test_sends as t where t.id = $1", [testSend.id])).rows[0].test_send;
        }
      }
      print(context, testSend, () => {
        const what = `Test email ${testSend.id} to ${testSend.recipient}`;
        if (testSend.status === "accepted") return `${what}: accepted by ACS (Message-ID ${testSend.internet_message_id})`;
        if (testSend.status === "failed") return `${what}: failed: ${testSend.error}`;
        if (context.options["no-wait"]) return `${what}: queued (Message-ID ${testSend.internet_message_id}); the worker sends it, "mailroom campaigns show ${id}" shows the outcome`;
        return `${what}: still queued after ${timeoutText} s. Is a worker running (mailroom start or mailroom worker)? It is sent when one runs; "mailroom campaigns show ${id}" shows the outcome.`;
      });
      return testSend.status === "accepted" || (testSend.status === "queued" && context.options["no-wait"]) ? 0 : 1;
    });
  },
};

/** A change of status through its SQL function, printing the campaign afterwards. */
function statusChange(verb: string, summary: string, help: string, sql: string, done: (c: CampaignDetail) => string): Command {
  return {
    noun: "campaigns",
    verb,
    summary,
    usage: "ID",
    help: `${help}\nExit 3 for an unknown campaign, 4 when its status does not allow it (the database's message says why).
--json prints the campaign as "show --json" does.`,
    positionals: [1, 1],
    async run(context) {
      const id = campaignIdArgument(context.positionals[0]);
      await context.database(async (client) => {
        await client.query(sql, [id]);
        await printCampaign(context, client, id, done);
      });
    },
  };
}

const WORKER = "the worker (mailroom start or mailroom worker) sends them";

const start = statusChange("start", "start sending a draft or scheduled campaign now",
  `Creates one message per recipient (members of its lists who receive it, once each, enabled, not stopped by
the bounce policy), each with its Message-ID and operation id, and queues the sending, in one transaction
(app_public.start_campaign); ${WORKER}. Refused when the campaign has started already, is cancelled, has no
sender, no lists, no recipients, or its content has template errors.`,
  "select app_public.start_campaign($1)",
  (c) => `Started campaign ${c.id}: ${count(c.recipients ?? 0)} recipients queued; ${WORKER}. Follow it with: mailroom campaigns status ${c.id}`);

const unschedule = statusChange("unschedule", "turn a scheduled campaign back into a draft",
  "A scheduled campaign becomes a draft again; it starts only when started or scheduled anew (app_public.unschedule_campaign).",
  "select app_public.unschedule_campaign($1)",
  (c) => `Unscheduled campaign ${c.id}: a draft again.`);

const pause = statusChange("pause", "stop sending a running campaign for now",
  "The worker sends no more of its messages until it is resumed; those in flight finish (app_public.pause_campaign).",
  "select app_public.pause_campaign($1)",
  (c) => `Paused campaign ${c.id}: no more of its messages are sent until "mailroom campaigns resume ${c.id}".`);

const resume = statusChange("resume", "go on sending a paused campaign",
  "Queues the sending again (app_public.resume_campaign); a campaign with nothing left to send becomes finished.",
  "select app_public.resume_campaign($1)",
  (c) => `Resumed campaign ${c.id}: ${c.status}.`);

const cancel = statusChange("cancel", "cancel a campaign: its messages not yet sent never are",
  `Its queued messages become cancelled; messages ACS has accepted already stay, and their events keep counting
(app_public.cancel_campaign). A cancelled campaign cannot be started again: duplicate it instead.`,
  "select app_public.cancel_campaign($1)",
  (c) => `Cancelled campaign ${c.id}.`);

const schedule: Command = {
  noun: "campaigns",
  verb: "schedule",
  summary: "start a draft campaign at a given time (or move the time of a scheduled one)",
  usage: "ID --at ISO-TIME",
  help: `  --at ISO-TIME   when to start it: an ISO 8601 time with its offset, e.g. 2026-03-01T09:00:00+01:00 or
                  2026-03-01T08:00Z (required; in the future)
The worker starts it then, as "start" would (app_public.schedule_campaign; a worker must run at that time).
The campaign is checked now as for a start (sender, lists, content). Exit 2 for a malformed time, 3 for an
unknown campaign, 4 for a time in the past or a campaign that cannot be started. --json prints the campaign.`,
  options: { at: { type: "string" } },
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    const at = context.options.at as string | undefined;
    if (at === undefined) throw usageError("missing --at ISO-TIME");
    const startAt = parseIsoTime(at);
    await context.database(async (client) => {
      await client.query("select app_public.schedule_campaign($1, $2)", [id, startAt.toISOString()]);
      await printCampaign(context, client, id, (c) => `Scheduled campaign ${c.id} for ${when(c.scheduled_at)}; the worker starts it then.`);
    });
  },
};

const duplicate: Command = {
  noun: "campaigns",
  verb: "duplicate",
  summary: "a new draft with the same template, content, lists, senders and tracking",
  usage: "ID [--name NAME]",
  help: `Copies a campaign in any status into a new draft (app_public.duplicate_campaign): its template, its own
subject and bodies, its sender and additional senders, its lists and its engagement tracking; nothing of its
sending (schedule, times, messages, numbers, test emails).
  --name NAME   the new campaign's name (default: the original's followed by " (copy)")
--json prints the new campaign.`,
  options: { name: { type: "string" } },
  positionals: [1, 1],
  async run(context) {
    const id = campaignIdArgument(context.positionals[0]);
    await context.database(async (client) => {
      const copyId = (await client.query<{ id: string }>("select (app_public.duplicate_campaign($1, $2)).id", [id, context.options.name ?? null])).rows[0]!.id;
      await printCampaign(context, client, copyId, (c) => `Created campaign ${c.id}, a draft like campaign ${id}.`);
    });
  },
};

export const commands: Command[] = [create, list, show, testSend, start, schedule, unschedule, pause, resume, cancel, duplicate, statusCommand, recomputeCommand];
