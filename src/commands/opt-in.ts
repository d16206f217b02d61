// Double opt-in from the command line (docs/cli.md, docs/opt-in.md):
//   mailroom lists set-opt-in LIST [--mode single|double] [--confirmation-sender ID] [--subject TEXT] [--html FILE]
//                                  [--text FILE] [--default-content] [--resend-after MINUTES] [--public-subscribe on|off]
//   mailroom lists send-confirmations LIST
//   mailroom subscribers confirm --list LIST (--all | --file FILE | EMAIL...)
// The work is done by SQL functions GraphQL exposes too (app_public.send_confirmations, confirm_list_members,
// confirm_all_list_members); set-opt-in writes the list's columns, checked by the database.
import type pg from "pg";
import { CsvParser, type CsvRecord } from "./csv.ts";
import { formatRecord, notFound, print, readTextFile, usageError, type Command, type CommandContext } from "./command.ts";
import { inTransaction } from "./database.ts";
import { findList } from "./lists.ts";


interface OptInSettings {
  id: string;
  name: string;
  opt_in: string;
  confirmation_sender_id: string | null;
  confirmation_sender: string | null;
  confirmation_subject: string | null;
  confirmation_html: string | null;
  confirmation_text: string | null;
  confirmation_resend_minutes: number;
  public_subscribe: boolean;
  subscribe_url: string | null;
  unconfirmed: number;
  confirmations_waiting: number;
}

function publicUrl(context: CommandContext): string {
  return context.config.sending.publicUrl ?? `http://${context.config.host}:${context.config.port}`;
}

async function optInSettings(client: pg.Client, listId: string, base: string): Promise<OptInSettings> {
  const { rows } = await client.query<OptInSettings>(
    `select l.id, l.name, l.opt_in, l.confirmation_sender_id, s.from_address as confirmation_sender,
       l.confirmation_subject, l.confirmation_html, l.confirmation_text,
       (extract(epoch from l.confirmation_resend_interval) / 60)::float8 as confirmation_resend_minutes,
       l.public_subscribe, case when l.public_subscribe then $2 || '/subscribe/' || l.id end as subscribe_url,
       (select count(*)::int from app_public.list_memberships as lm where lm.list_id = l.id and lm.status = 'unconfirmed') as unconfirmed,
       (select count(*)::int from app_public.confirmations as c where c.list_id = l.id and c.status in ('queued', 'sending')) as confirmations_waiting
     from app_public.lists as l left join app_public.senders as s on s.id = l.confirmation_sender_id
     where l.id = $1`,
    [listId, base.replace(/\/+$/, "")],
  );
  return rows[0];
}

function describeContent(value: string | null, builtIn: string): string {
  return value === null ? builtIn : `${value.length} characters`;
}

function formatSettings(s: OptInSettings): string {
  return formatRecord(
    {
      ...s,
      list: `${s.id} ${JSON.stringify(s.name)}`,
      sender: s.confirmation_sender_id === null ? "none (no confirmation can be sent)" : `${s.confirmation_sender_id} (${s.confirmation_sender})`,
      subject: s.confirmation_subject ?? "(built-in) Please confirm your subscription to {{ list.name }}",
      html: describeContent(s.confirmation_html, s.confirmation_text === null ? "(built-in)" : "none (text only)"),
      text: describeContent(s.confirmation_text, "(derived from the HTML part)"),
      resend: `after ${s.confirmation_resend_minutes} minutes`,
      form: s.public_subscribe ? `on: ${s.subscribe_url}` : "off",
    },
    [
      ["list", "list"],
      ["opt_in", "opt-in"],
      ["sender", "confirmation sender"],
      ["subject", "subject"],
      ["html", "HTML part"],
      ["text", "text part"],
      ["resend", "resend"],
      ["form", "public subscribe"],
      ["unconfirmed", "unconfirmed members"],
      ["confirmations_waiting", "confirmations waiting"],
    ],
  );
}

/** The settings as --json prints them (camelCase, as the other commands). */
function settingsJson(s: OptInSettings) {
  return {
    id: s.id,
    name: s.name,
    optIn: s.opt_in,
    confirmationSenderId: s.confirmation_sender_id,
    confirmationSender: s.confirmation_sender,
    confirmationSubject: s.confirmation_subject,
    confirmationHtml: s.confirmation_html,
    confirmationText: s.confirmation_text,
    confirmationResendMinutes: s.confirmation_resend_minutes,
    publicSubscribe: s.public_subscribe,
    subscribeUrl: s.subscribe_url,
    unconfirmed: s.unconfirmed,
    confirmationsWaiting: s.confirmations_waiting,
  };
}


const setOptIn: Command = {
  noun: "lists",
  verb: "set-opt-in",
  summary: "double opt-in settings of a list: confirmation sender and content, public subscribe form",
  usage: "LIST [--mode single|double] [--confirmation-sender ID] [--subject TEXT] [--html FILE] [--text FILE] [--default-content] [--resend-after MINUTES] [--public-subscribe on|off]",
  help: `Changes what is given and prints the list's opt-in settings (with no option: prints them). LIST is an id or a name.
  --mode single|double       single: members receive campaigns at once; double: only once confirmed
  --confirmation-sender ID   the sender of the confirmation emails (its quotas and send window apply)
  --subject TEXT             subject of the confirmation email
  --html FILE, --text FILE   its HTML and text parts (each must contain {{ confirm_url }})
  --default-content          back to the built-in subject and parts
  --resend-after MINUTES     a member gets another confirmation only this long after the last (default 60)
  --public-subscribe on|off  the form at PUBLIC_URL/subscribe/LIST_ID (a double opt-in list needs a sender)
Fields of the subject and parts: {{ subscriber.email }}, {{ subscriber.name }}, {{ list.id }}, {{ list.name }},
{{ confirm_url }}. Without a text part one is derived from the HTML; with only a text part, the email is text only.`,
  options: {
    mode: { type: "string" },
    "confirmation-sender": { type: "string" },
    subject: { type: "string" },
    html: { type: "string" },
    text: { type: "string" },
    "default-content": { type: "boolean" },
    "resend-after": { type: "string" },
    "public-subscribe": { type: "string" },
  },
  positionals: [1, 1],
  async run(context) {
    const o = context.options as Record<string, string | boolean | undefined>;
    const changes: [column: string, value: unknown][] = [];
    if (o.mode !== undefined) {
      if (o.mode !== "single" && o.mode !== "double") throw usageError(`--mode must be single or double (got "${o.mode}")`);
      changes.push(["opt_in", o.mode]);
    }
    if (o["default-content"] && (o.subject !== undefined || o.html !== undefined || o.text !== undefined)) {
      throw usageError("--default-content goes without --subject, --html and --text");
    }
    if (o["default-content"]) changes.push(["confirmation_subject", null], ["confirmation_html", null], ["confirmation_text", null]);
    if (o.subject !== undefined) changes.push(["confirmation_subject", o.subject]);
    if (o.html !== undefined) changes.push(["confirmation_html", readTextFile("html", String(o.html))]);
    if (o.text !== undefined) changes.push(["confirmation_text", readTextFile("text", String(o.text))]);
    if (o["resend-after"] !== undefined) {
      const minutes = String(o["resend-after"]);
      if (!/^[1-9][0-9]{0,6}$/.test(minutes)) throw usageError(`--resend-after must be a whole number of minutes, at least 1 (got "${minutes}")`);
      changes.push(["confirmation_resend_interval", `${minutes} minutes`]);
    }
    if (o["public-subscribe"] !== undefined) {
      if (o["public-subscribe"] !== "on" && o["public-subscribe"] !== "off") throw usageError(`--public-subscribe must be on or off (got "${o["public-subscribe"]}")`);
      changes.push(["public_subscribe", o["public-subscribe"] === "on"]);
    }
    const settings = await context.database(async (client) => {
      const list = await findList(client, context.positionals[0]!);
      if (o["confirmation-sender"] !== undefined) {
        const id = String(o["confirmation-sender"]);
        if (!/^[1-9][0-9]{0,18}$/.test(id)) throw usageError(`--confirmation-sender must be a sender id (got "${id}")`);
        const { rowCount } = await client.query("select 1 from app_public.senders where id = $1", [id]);
        if (!rowCount) throw notFound(`no sender with id ${id}`);
        changes.push(["confirmation_sender_id", id]);
      }
      if (changes.length > 0) {
        await client.query(
          `update app_public.lists set ${changes.map(([column], i) => `${column} = $${i + 2}`).join(", ")} where id = $1`,
          [list.id, ...changes.map(([, value]) => value)],
        );
      }
      return optInSettings(client, list.id, publicUrl(context));
    });
    print(context, settingsJson(settings), () => formatSettings(settings));
  },
};

const sendConfirmations: Command = {
  noun: "lists",
  verb: "send-confirmations",
  summary: "email a confirmation link to every unconfirmed member of a double opt-in list",
  usage: "LIST",
  help: `Queues a confirmation email, through the list's confirmation sender and within its quotas and send window, to
each unconfirmed member who has none waiting and none sent within the list's resend interval (blocklisted
subscribers get none). The worker sends them; each member becomes confirmed when they press the button behind
their link. Prints how many were queued and why the others were not.`,
  positionals: [1, 1],
  async run(context) {
    const result = await context.database(async (client) => {
      const list = await findList(client, context.positionals[0]!);
      const { rows } = await client.query<{ queued: number; already_pending: number; sent_recently: number; blocklisted: number }>(
        "select * from app_public.send_confirmations($1)",
        [list.id],
      );
      const r = rows[0];
      return { listId: list.id, listName: list.name, queued: r.queued, alreadyPending: r.already_pending, sentRecently: r.sent_recently, blocklisted: r.blocklisted };
    });
    print(context, result, () =>
      [
        `Queued ${result.queued} confirmation email${result.queued === 1 ? "" : "s"} for list ${result.listId} ${JSON.stringify(result.listName)}.`,
        ...(result.alreadyPending ? [`${result.alreadyPending} unconfirmed member(s) have one waiting already.`] : []),
        ...(result.sentRecently ? [`${result.sentRecently} were sent one within the resend interval.`] : []),
        ...(result.blocklisted ? [`${result.blocklisted} are blocklisted and get none.`] : []),
      ].join("\n"),
    );
  },
};

/** The addresses of a file: the `email` column of a CSV with a header naming it, else the first field of every line. */
export function addressesOf(text: string): string[] {
  const parser = new CsvParser();
  const records: CsvRecord[] = [];
  parser.push(text, records);
  parser.end(records);
  const nonEmpty = records.filter((r) => r.fields.some((f) => f.trim() !== ""));
  if (nonEmpty.length === 0) return [];
  const column = nonEmpty[0].fields.findIndex((f) => f.trim().toLowerCase() === "email");
  const rows = column >= 0 ? nonEmpty.slice(1) : nonEmpty;
  return rows.map((r) => (r.fields[Math.max(column, 0)] ?? "").trim()).filter((e) => e !== "");
}

/** How many addresses go to the database in one call. */
const CONFIRM_CHUNK = 10_000;

const confirm: Command = {
  noun: "subscribers",
  verb: "confirm",
  summary: "confirm members of a double opt-in list whose consent you hold (bulk)",
  usage: "--list LIST (--all | --file FILE | EMAIL...)",
  help: `For people who confirmed elsewhere (another system, a paper form): their memberships become confirmed, so that
campaigns reach them. Unsubscribed members and blocklisted subscribers are left as they are.
  --list LIST   the list (id or name)
  --all         every unconfirmed member of the list
  --file FILE   the addresses of a file: a CSV with an "email" column, or one address per line
  EMAIL...      these addresses
Prints how many were confirmed, were confirmed already, are not members of the list, and were left alone.`,
  options: { list: { type: "string" }, all: { type: "boolean" }, file: { type: "string" } },
  positionals: [0, 1_000_000],
  async run(context) {
    const o = context.options as { list?: string; all?: boolean; file?: string };
    if (!o.list) throw usageError("--list LIST is required");
    const sources = [o.all ? 1 : 0, o.file !== undefined ? 1 : 0, context.positionals.length > 0 ? 1 : 0].reduce((a, b) => a + b, 0);
    if (sources !== 1) throw usageError("give exactly one of --all, --file FILE or EMAIL...");
    // Each address once (case-insensitively), so that the counts of several calls add up.
    const addresses = o.all ? [] : [...new Map((o.file !== undefined ? addressesOf(readTextFile("file", o.file)) : context.positionals).map((e) => [e.trim().toLowerCase(), e.trim()])).values()];
    const result = await context.database(async (client) => {
      const list = await findList(client, o.list!);
      const totals = { confirmed: 0, already_confirmed: 0, not_members: 0, left_alone: 0 };
      await inTransaction(client, async () => {
        const calls = o.all ? [undefined] : Array.from({ length: Math.ceil(addresses.length / CONFIRM_CHUNK) }, (_, i) => addresses.slice(i * CONFIRM_CHUNK, (i + 1) * CONFIRM_CHUNK));
        for (const chunk of calls) {
          const { rows } = chunk === undefined
            ? await client.query<typeof totals>("select * from app_public.confirm_all_list_members($1)", [list.id])
            : await client.query<typeof totals>("select * from app_public.confirm_list_members($1, $2)", [list.id, chunk]);
          for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += Number(rows[0][key]);
        }
      });
      return {
        listId: list.id,
        listName: list.name,
        addresses: o.all ? null : addresses.length,
        confirmed: totals.confirmed,
        alreadyConfirmed: totals.already_confirmed,
        notMembers: totals.not_members,
        leftAlone: totals.left_alone,
      };
    });
    print(context, result, () =>
      [
        `List ${result.listId} ${JSON.stringify(result.listName)}${result.addresses === null ? ", every member" : `, ${result.addresses} address${result.addresses === 1 ? "" : "es"}`}:`,
        `  confirmed now          ${result.confirmed}`,
        `  confirmed already      ${result.alreadyConfirmed}`,
        `  not members            ${result.notMembers}`,
        `  left alone             ${result.leftAlone}  (unsubscribed, or blocklisted)`,
      ].join("\n"),
    );
  },
};

export const commands: Command[] = [setOptIn, sendConfirmations, confirm];
