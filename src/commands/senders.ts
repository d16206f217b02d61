// mailroom senders create|update|list|show: ACS senders (an Email resource and a from-address) with their quotas,
// send window and connection string.
//
// The connection string is a secret: it is never accepted on the command line (where `ps` and the shell's history
// would show it), only from a named environment variable (--connection-string-env VAR) or from one line on stdin
// (--connection-string-stdin); it is stored with app_public.set_sender_connection_string and never printed. A
// sender without one sends through ACS_CONNECTION_STRING, or the built-in sandbox when that is unset.
import type pg from "pg";
import { parseAcsConnectionString } from "../config.ts";
import { formatRecord, formatTable, print, refused, usageError, type Command, type OptionValues } from "./command.ts";
import { inTransaction } from "./database.ts";
import { findByIdOrName, type Named } from "./lists.ts";

export const SENDERS: Named = { table: "app_public.senders", what: "sender", listCommand: "mailroom senders list", alsoBy: "from_address" };

interface SenderRow {
  id: string;
  name: string;
  from_address: string;
  display_name: string;
  sending_domain: string;
  acs_endpoint: string | null;
  per_minute_limit: number | null;
  per_hour_limit: number | null;
  per_day_limit: number | null;
  send_window_start: string | null;
  send_window_end: string | null;
  send_window_time_zone: string | null;
  created_at: Date;
  updated_at: Date;
}

interface SenderDetails extends SenderRow {
  own_connection_string: boolean;
  window: string | null;
}

interface QuotaUse {
  sent_last_minute: number;
  sent_last_hour: number;
  sent_last_day: number;
  remaining_last_minute: number | null;
  remaining_last_hour: number | null;
  remaining_last_day: number | null;
  capacity_now: number;
  paused_until: Date | null;
  window_open: boolean;
}

const SELECT_SENDER = `select s.*, exists (select 1 from app_private.sender_secrets as ss where ss.sender_id = s.id) as own_connection_string,
    case when s.send_window_start is null then null
      else to_char(s.send_window_start, 'HH24:MI') || '-' || to_char(s.send_window_end, 'HH24:MI') end as window
  from app_public.senders as s`;

const OPTIONS = {
  name: { type: "string" },
  from: { type: "string" },
  "display-name": { type: "string" },
  "sending-domain": { type: "string" },
  "per-minute": { type: "string" },
  "per-hour": { type: "string" },
  "per-day": { type: "string" },
  window: { type: "string" },
  "time-zone": { type: "string" },
  "connection-string-env": { type: "string" },
  "connection-string-stdin": { type: "boolean" },
} as const;

const OPTIONS_HELP = `  --name NAME                  the sender's name (commands accept it, or the from-address, in place of the id)
  --from ADDRESS               the from-address (a verified MailFrom address of the ACS domain)
  --display-name TEXT          the name shown with the from-address ("" for none)
  --sending-domain DOMAIN      the domain of the Message-IDs (default: the from-address's)
  --per-minute N|none          quota: messages per minute (default 30, ACS's for a custom domain)
  --per-hour N|none            quota: messages per hour (default 100, ACS's for a custom domain)
  --per-day N|none             quota: messages per day (default: none)
  --window HH:MM-HH:MM|none    send only between these local times (may cross midnight, e.g. 22:00-06:00);
                               none: at any time
  --time-zone ZONE             the IANA time zone of the window (e.g. Europe/Paris); required with a new window
  --connection-string-env VAR  the sender's ACS connection string, read from environment variable VAR
  --connection-string-stdin    the sender's ACS connection string, read from the first line of stdin
The connection string (endpoint=https://NAME.communication.azure.com/;accesskey=KEY) is never accepted as an
argument and never printed. Without one of its own, the sender sends through ACS_CONNECTION_STRING, or through
the built-in sandbox when that is unset.`;

/** A quota option: a positive integer, or none (no quota): null. Undefined when the option is not given. */
function quota(options: OptionValues, option: string): number | null | undefined {
  const value = options[option] as string | undefined;
  if (value === undefined) return undefined;
  if (value.trim().toLowerCase() === "none") return null;
  if (!/^[1-9][0-9]{0,8}$/.test(value.trim())) throw usageError(`--${option} ${JSON.stringify(value)}: expected a positive number of messages, or none`);
  return Number(value);
}

/** --window HH:MM-HH:MM, or none (null). */
function window(options: OptionValues): { start: string; end: string } | null | undefined {
  const value = options.window as string | undefined;
  if (value === undefined) return undefined;
  if (value.trim().toLowerCase() === "none") return null;
  const match = /^\s*((?:[01][0-9]|2[0-3]):[0-5][0-9])\s*-\s*((?:[01][0-9]|2[0-3]):[0-5][0-9])\s*$/.exec(value);
  if (!match) throw usageError(`--window ${JSON.stringify(value)}: expected local times HH:MM-HH:MM (e.g. 08:00-18:00), or none`);
  if (match[1] === match[2]) throw usageError(`--window ${value}: the start and the end are the same time (leave the window out, or none, to send at any time)`);
  return { start: match[1]!, end: match[2]! };
}

/** The connection string from the environment variable or stdin; never from argv. Undefined when not asked for. */
async function connectionString(options: OptionValues): Promise<{ value: string; endpoint: string } | undefined> {
  const variable = options["connection-string-env"] as string | undefined;
  const stdin = options["connection-string-stdin"] === true;
  if (variable !== undefined && stdin) throw usageError("give --connection-string-env VAR or --connection-string-stdin, not both");
  let value: string | undefined;
  let source: string;
  if (variable !== undefined) {
    source = `environment variable ${variable}`;
    value = process.env[variable]?.trim();
    if (!value) throw usageError(`--connection-string-env ${variable}: the environment variable ${variable} is not set or empty`);
  } else if (stdin) {
    source = "stdin";
    if (process.stdin.isTTY) process.stderr.write("ACS connection string (endpoint=...;accesskey=...), then Enter: ");
    value = (await readFirstLine()).trim();
    if (!value) throw usageError("--connection-string-stdin: stdin held no connection string");
  } else {
    return undefined;
  }
  try {
    return { value, endpoint: parseAcsConnectionString(value).endpoint };
  } catch {
    // The value is a secret: the message never shows it.
    throw usageError(`the connection string from ${source} is not of the form endpoint=https://NAME.communication.azure.com/;accesskey=KEY`);
  }
}

/** The first line of stdin (reading stops there). */
async function readFirstLine(): Promise<string> {
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) {
    text += chunk as string;
    const end = text.search(/\r?\n/);
    if (end >= 0) {
      process.stdin.destroy();
      return text.slice(0, end);
    }
  }
  return text;
}

/** The column values the options give (only those given). */
function columns(options: OptionValues, current?: SenderRow): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const text = (option: string, column: string) => {
    const value = options[option] as string | undefined;
    if (value !== undefined) values[column] = value.trim();
  };
  text("name", "name");
  text("from", "from_address");
  text("display-name", "display_name");
  text("sending-domain", "sending_domain");
  for (const [option, column] of [["per-minute", "per_minute_limit"], ["per-hour", "per_hour_limit"], ["per-day", "per_day_limit"]] as const) {
    const value = quota(options, option);
    if (value !== undefined) values[column] = value;
  }
  const hours = window(options);
  const zone = (options["time-zone"] as string | undefined)?.trim();
  if (hours === null) {
    if (zone !== undefined) throw usageError("--window none clears the time zone too: leave --time-zone out");
    Object.assign(values, { send_window_start: null, send_window_end: null, send_window_time_zone: null });
  } else if (hours !== undefined) {
    const timeZone = zone ?? current?.send_window_time_zone ?? undefined;
    if (!timeZone) throw usageError(`--window ${options.window} needs --time-zone ZONE (an IANA name such as Europe/Paris): the local times are in it`);
    Object.assign(values, { send_window_start: hours.start, send_window_end: hours.end, send_window_time_zone: timeZone });
  } else if (zone !== undefined) {
    if (!current?.send_window_start) throw usageError("--time-zone is the time zone of a send window: give --window HH:MM-HH:MM with it");
    values.send_window_time_zone = zone;
  }
  return values;
}

/** Friendlier messages for the senders table's rules (the database's own message otherwise). */
function senderRefusal(error: unknown, values: Record<string, unknown>): never {
  const constraint = (error as { constraint?: string }).constraint;
  if (constraint === "senders_from_address_check") throw refused(`--from ${JSON.stringify(values.from_address)} is not an email address`);
  if (constraint === "senders_sending_domain_check") throw refused(`--sending-domain ${JSON.stringify(values.sending_domain ?? "")} is not a domain name (lower-case letters, digits, hyphens and dots)`);
  if (constraint === "senders_from_address_key") throw refused(`a sender with the from-address ${JSON.stringify(values.from_address)} exists already (mailroom senders list)`);
  const hint = (error as { hint?: string }).hint;
  if ((error as { code?: string }).code === "22023" && hint) throw refused(`${(error as Error).message}. ${hint}`);
  throw error;
}

async function writeSender(client: pg.ClientBase, id: string | undefined, values: Record<string, unknown>, secret: { value: string; endpoint: string } | undefined, removeSecret: boolean): Promise<string> {
  try {
    return await inTransaction(client, async () => {
      let senderId = id;
      if (secret) values.acs_endpoint = secret.endpoint;
      else if (removeSecret) values.acs_endpoint = null;
      const names = Object.keys(values);
      if (senderId === undefined) {
        const { rows } = await client.query<{ id: string }>(
          `insert into app_public.senders (${names.join(", ")}) values (${names.map((_, i) => `$${i + 1}`).join(", ")}) returning id`,
          names.map((n) => values[n]));
        senderId = rows[0]!.id;
      } else if (names.length > 0) {
        await client.query(`update app_public.senders set ${names.map((n, i) => `${n} = $${i + 2}`).join(", ")} where id = $1`,
          [senderId, ...names.map((n) => values[n])]);
      }
      if (secret) await client.query("select app_public.set_sender_connection_string($1, $2)", [senderId, secret.value]);
      if (removeSecret) await client.query("delete from app_private.sender_secrets where sender_id = $1", [senderId]);
      return senderId;
    });
  } catch (error) {
    senderRefusal(error, values);
  }
}

async function loadSender(client: pg.ClientBase, id: string): Promise<SenderDetails> {
  return (await client.query<SenderDetails>(`${SELECT_SENDER} where s.id = $1`, [id])).rows[0]!;
}

function connectionText(s: SenderDetails): string {
  return s.own_connection_string
    ? `its own${s.acs_endpoint ? ` (${s.acs_endpoint})` : ""}`
    : "none of its own: sends through ACS_CONNECTION_STRING, or the built-in sandbox when that is unset";
}

function jsonSender(s: SenderDetails) {
  return {
    id: Number(s.id), name: s.name, fromAddress: s.from_address, displayName: s.display_name, sendingDomain: s.sending_domain,
    quotas: { perMinute: s.per_minute_limit, perHour: s.per_hour_limit, perDay: s.per_day_limit },
    sendWindow: s.send_window_start === null ? null : { start: s.window!.split("-")[0], end: s.window!.split("-")[1], timeZone: s.send_window_time_zone },
    connection: s.own_connection_string ? "own" : "default",
    ownConnectionString: s.own_connection_string,
    acsEndpoint: s.own_connection_string ? s.acs_endpoint : null,
    createdAt: s.created_at, updatedAt: s.updated_at,
  };
}

const limit = (n: number | null) => (n === null ? "none" : String(n));
const windowText = (s: SenderDetails) => (s.window === null ? "none (sends at any time)" : `${s.window} ${s.send_window_time_zone}`);

function senderRecord(s: SenderDetails, more: Record<string, string> = {}): string {
  return formatRecord({
    ...more, ...s, quotas: `${limit(s.per_minute_limit)} per minute, ${limit(s.per_hour_limit)} per hour, ${limit(s.per_day_limit)} per day`,
    window: windowText(s), connection: connectionText(s),
  }, [
    ["id", "id"], ["name", "name"], ["from_address", "from"], ["display_name", "display name"], ["sending_domain", "sending domain"],
    ["quotas", "quotas"], ["window", "send window"], ["connection", "connection string"], ["created_at", "created"],
    ...Object.keys(more).map((key): [string, string] => [key, key]),
  ]);
}

const create: Command = {
  noun: "senders",
  verb: "create",
  summary: "create a sender: from-address, quotas, send window, connection string",
  usage: "--name NAME --from ADDRESS [options]",
  help: `Options:\n${OPTIONS_HELP}`,
  options: OPTIONS,
  async run(context) {
    const o = context.options;
    if (!(o.name as string | undefined)?.trim()) throw usageError("--name is required");
    if (!(o.from as string | undefined)?.trim()) throw usageError("--from ADDRESS is required: the from-address of the sender's emails");
    const values = columns(o);
    const secret = await connectionString(o);
    const sender = await context.database(async (client) => loadSender(client, await writeSender(client, undefined, values, secret, false)));
    print(context, jsonSender(sender), () => `Sender ${sender.id} ${JSON.stringify(sender.name)} created.\n${senderRecord(sender)}`);
  },
};

const update: Command = {
  noun: "senders",
  verb: "update",
  summary: "change a sender: only the options given change",
  usage: "ID|NAME|FROM [options]",
  help: `Options (only those given change):\n${OPTIONS_HELP}
  --no-connection-string       remove the sender's own connection string (it then sends through
                               ACS_CONNECTION_STRING, or the sandbox)`,
  options: { ...OPTIONS, "no-connection-string": { type: "boolean" } },
  positionals: [1, 1],
  async run(context) {
    const o = context.options;
    const removeSecret = o["no-connection-string"] === true;
    if (removeSecret && (o["connection-string-env"] !== undefined || o["connection-string-stdin"] === true)) {
      throw usageError("--no-connection-string removes the connection string: leave out --connection-string-env and --connection-string-stdin");
    }
    if (Object.keys(o).length === 0) throw usageError("nothing to change: give at least one option (mailroom senders update --help)");
    if (o.name !== undefined && !(o.name as string).trim()) throw usageError("--name cannot be empty");
    const secret = await connectionString(o);
    const sender = await context.database(async (client) => {
      const current = await findByIdOrName<SenderRow>(client, SENDERS, context.positionals[0]!);
      return loadSender(client, await writeSender(client, current.id, columns(o, current), secret, removeSecret));
    });
    print(context, jsonSender(sender), () => `Sender ${sender.id} ${JSON.stringify(sender.name)} updated.\n${senderRecord(sender)}`);
  },
};

const list: Command = {
  noun: "senders",
  verb: "list",
  summary: "the senders with their quotas, window and whether they have a connection string",
  usage: "",
  async run(context) {
    const rows = await context.database(async (client) => (await client.query<SenderDetails>(`${SELECT_SENDER} order by s.id`)).rows);
    print(context, rows.map(jsonSender), () => rows.length === 0
      ? "No senders yet (create one with: mailroom senders create --name NAME --from ADDRESS)"
      : formatTable(rows.map((s) => ({
          ...s, per_minute_limit: limit(s.per_minute_limit), per_hour_limit: limit(s.per_hour_limit), per_day_limit: limit(s.per_day_limit),
          window: s.window === null ? "" : `${s.window} ${s.send_window_time_zone}`, connection: s.own_connection_string ? "own" : "default",
        })), [
          ["id", "id"], ["name", "name"], ["from_address", "from"], ["per_minute_limit", "per minute"], ["per_hour_limit", "per hour"],
          ["per_day_limit", "per day"], ["window", "send window"], ["connection", "connection"],
        ]));
  },
};

const show: Command = {
  noun: "senders",
  verb: "show",
  summary: "a sender: settings, quota use now, its connection (never the string)",
  usage: "ID|NAME|FROM",
  help: `Quota use is app_public.senders_quota_use: messages handed to ACS in the sliding minute, hour and day,
what each quota leaves, how many may be sent right now (0 outside the send window or while paused after
ACS answered 429), and whether the window is open.`,
  positionals: [1, 1],
  async run(context) {
    const { sender, use, campaigns } = await context.database(async (client) => {
      const found = await findByIdOrName<SenderRow>(client, SENDERS, context.positionals[0]!);
      const sender = await loadSender(client, found.id);
      const use = (await client.query<QuotaUse>("select (app_public.senders_quota_use(s)).* from app_public.senders as s where s.id = $1", [found.id])).rows[0]!;
      const campaigns = (await client.query<{ status: string; n: number }>(
        `select c.status, count(*)::int as n from app_public.campaigns as c
         where c.sender_id = $1 or exists (select 1 from app_public.campaign_senders as cs where cs.campaign_id = c.id and cs.sender_id = $1)
         group by c.status order by c.status`, [found.id])).rows;
      return { sender, use, campaigns };
    });
    const json = {
      ...jsonSender(sender),
      quotaUse: {
        sentLastMinute: use.sent_last_minute, sentLastHour: use.sent_last_hour, sentLastDay: use.sent_last_day,
        remainingLastMinute: use.remaining_last_minute, remainingLastHour: use.remaining_last_hour, remainingLastDay: use.remaining_last_day,
        capacityNow: use.capacity_now, pausedUntil: use.paused_until, windowOpen: use.window_open,
      },
      campaigns: Object.fromEntries(campaigns.map((c) => [c.status, c.n])),
    };
    const left = (n: number | null) => (n === null ? "no quota" : `${n} left`);
    print(context, json, () => [
      senderRecord(sender, {
        "sent last minute": `${use.sent_last_minute} (${left(use.remaining_last_minute)})`,
        "sent last hour": `${use.sent_last_hour} (${left(use.remaining_last_hour)})`,
        "sent last day": `${use.sent_last_day} (${left(use.remaining_last_day)})`,
        "capacity now": `${use.capacity_now}${use.paused_until ? `; paused until ${use.paused_until.toISOString()} (ACS answered 429)` : ""}${sender.window === null ? "" : use.window_open ? "; the window is open" : "; outside the send window"}`,
        campaigns: campaigns.length === 0 ? "none" : campaigns.map((c) => `${c.n} ${c.status}`).join(", "),
      }),
    ].join("\n"));
  },
};

export const commands: Command[] = [create, update, list, show];
