// mailroom lists create|list|show, and the one way every command names a row: by id or by name.
//
//   mailroom lists create --name NAME --opt-in single|double [--description TEXT]
//   mailroom lists list
//   mailroom lists show ID|NAME
//
// A list's opt-in is chosen when it is created, never by default: on a double opt-in list only confirmed members
// receive campaigns, so a list created double by accident and filled by an import sends to nobody.
import type pg from "pg";
import { formatRecord, formatTable, notFound, print, usageError, type Command } from "./command.ts";

/** What `findByIdOrName` looks in: a table with id and name columns. */
export interface Named {
  /** The table, e.g. app_public.lists. */
  table: string;
  /** The thing in messages: "list". */
  what: string;
  /** The command that lists them, for the messages: "mailroom lists list". */
  listCommand: string;
  /** A column matched case-insensitively as well as the name (a sender's from-address). */
  alsoBy?: string;
}

export const LISTS: Named = { table: "app_public.lists", what: "list", listCommand: "mailroom lists list" };

const ID = /^[1-9][0-9]{0,18}$/;

/**
 * The row named by `ref`: an id (digits), else a name, compared case-insensitively. Not found: exit 3; a name that
 * several rows share: exit 2 (give the id).
 */
export async function findByIdOrName<T extends { id: string }>(client: pg.ClientBase, named: Named, ref: string): Promise<T> {
  const byId = ID.test(ref);
  const where = byId ? "id = $1" : `lower(name) = lower($1)${named.alsoBy ? ` or lower(${named.alsoBy}) = lower($1)` : ""}`;
  const { rows } = await client.query<T>(`select * from ${named.table} where ${where} order by id`, [ref]);
  if (rows.length === 0) {
    throw notFound(`no ${named.what} ${byId ? `with id ${ref}` : `named ${JSON.stringify(ref)}`} (see ${named.listCommand})`);
  }
  if (rows.length > 1) {
    throw usageError(`${rows.length} ${named.what}s are named ${JSON.stringify(ref)} (ids ${rows.map((r) => r.id).join(", ")}): give the id`);
  }
  return rows[0]!;
}

export interface ListRow {
  id: string;
  name: string;
  description: string;
  opt_in: "single" | "double";
  created_at: Date;
  updated_at: Date;
}

/** A list by id or name (not found: exit 3; an ambiguous name: exit 2). */
export function findList(client: pg.ClientBase, ref: string): Promise<ListRow> {
  return findByIdOrName<ListRow>(client, LISTS, ref);
}

/** How to name a list on a command line: its name when it needs no quoting and is unique, else its id. */
export async function listArgument(client: pg.ClientBase, list: { id: string; name: string }): Promise<string> {
  if (!/^[A-Za-z0-9._@+-]+$/.test(list.name) || ID.test(list.name)) return list.id;
  const { rows } = await client.query("select count(*)::int as n from app_public.lists where lower(name) = lower($1)", [list.name]);
  return rows[0].n === 1 ? list.name : list.id;
}

export const OPT_IN_CHOICE = `--opt-in is required: choose how members of the list receive campaigns:
  single   members receive campaigns at once (whoever is added is confirmed)
  double   members receive campaigns only once they confirm by email (an import adds them
           unconfirmed; mailroom lists send-confirmations LIST asks them)`;

/** The members of lists by status, with the list's columns (app_public.lists_member_counts). */
const LIST_WITH_COUNTS = `select l.id, l.name, l.description, l.opt_in, l.created_at, l.updated_at,
    c.confirmed::int as confirmed, c.unconfirmed::int as unconfirmed, c.unsubscribed::int as unsubscribed,
    case when l.opt_in = 'double' then c.confirmed else c.members end::int as receiving
  from app_public.lists as l, lateral app_public.lists_member_counts(l) as c`;

interface ListWithCounts extends ListRow {
  confirmed: number;
  unconfirmed: number;
  unsubscribed: number;
  /** Members a campaign to the list would go to: confirmed ones (double opt-in) or all but the unsubscribed. */
  receiving: number;
}

function jsonList(row: ListWithCounts) {
  return {
    id: Number(row.id), name: row.name, description: row.description, optIn: row.opt_in,
    members: { confirmed: row.confirmed, unconfirmed: row.unconfirmed, unsubscribed: row.unsubscribed, receiving: row.receiving },
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

const create: Command = {
  noun: "lists",
  verb: "create",
  summary: "create a list (single or double opt-in: the choice is required)",
  usage: "--name NAME --opt-in single|double [--description TEXT]",
  help: `Options:
  --name NAME            the list's name (commands accept it in place of the id)
  --opt-in single|double required: single = members receive campaigns at once;
                         double = only once they confirm by email
  --description TEXT     what the list is for

Prints the new list's id.`,
  options: { name: { type: "string" }, "opt-in": { type: "string" }, description: { type: "string" } },
  async run(context) {
    const name = (context.options.name as string | undefined)?.trim();
    const optIn = context.options["opt-in"] as string | undefined;
    if (!name) throw usageError("--name is required");
    if (optIn === undefined) throw usageError(OPT_IN_CHOICE);
    if (optIn !== "single" && optIn !== "double") throw usageError(`--opt-in ${JSON.stringify(optIn)}: expected single or double\n\n${OPT_IN_CHOICE}`);
    const description = (context.options.description as string | undefined) ?? "";
    const row = await context.database(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.lists (name, opt_in, description) values ($1, $2, $3) returning id", [name, optIn, description]);
      const others = await client.query("select id from app_public.lists where lower(name) = lower($1) and id <> $2 order by id", [name, rows[0]!.id]);
      const list = (await client.query<ListWithCounts>(`${LIST_WITH_COUNTS} where l.id = $1`, [rows[0]!.id])).rows[0]!;
      return { list, sameName: others.rows.map((r) => r.id as string), argument: await listArgument(client, list) };
    });
    print(context, jsonList(row.list), () => [
      `List ${row.list.id} ${JSON.stringify(row.list.name)} created (${optIn} opt-in: ${optIn === "single"
        ? "members receive campaigns at once"
        : "members receive campaigns only once they confirm by email"}).`,
      ...(row.sameName.length > 0 ? [`Note: list${row.sameName.length > 1 ? "s" : ""} ${row.sameName.join(", ")} ha${row.sameName.length > 1 ? "ve" : "s"} the same name: name this one by its id.`] : []),
      `Add subscribers: mailroom subscribers import --list ${row.argument} FILE.csv`,
    ].join("\n"));
  },
};

const list: Command = {
  noun: "lists",
  verb: "list",
  summary: "the lists with their members by status",
  usage: "",
  help: `Columns: id, name, opt-in, receiving (the members a campaign to the list goes to: the confirmed ones of a
double opt-in list, all but the unsubscribed of a single opt-in list), confirmed, unconfirmed, unsubscribed.`,
  async run(context) {
    const rows = await context.database(async (client) => (await client.query<ListWithCounts>(`${LIST_WITH_COUNTS} order by l.id`)).rows);
    print(context, rows.map(jsonList), () => rows.length === 0
      ? "No lists yet (create one with: mailroom lists create --name NAME --opt-in single|double)"
      : formatTable(rows as unknown as Record<string, unknown>[], [
          ["id", "id"], ["name", "name"], ["opt_in", "opt-in"], ["receiving", "receiving"], ["confirmed", "confirmed"],
          ["unconfirmed", "unconfirmed"], ["unsubscribed", "unsubscribed"],
        ]));
  },
};

const show: Command = {
  noun: "lists",
  verb: "show",
  summary: "a list: opt-in, description, members by status, the campaigns that use it",
  usage: "ID|NAME",
  positionals: [1, 1],
  async run(context) {
    const { row, campaigns } = await context.database(async (client) => {
      const found = await findList(client, context.positionals[0]!);
      const row = (await client.query<ListWithCounts>(`${LIST_WITH_COUNTS} where l.id = $1`, [found.id])).rows[0]!;
      const campaigns = (await client.query<{ id: string; name: string; status: string }>(
        `select c.id, c.name, c.status from app_public.campaign_lists as cl join app_public.campaigns as c on c.id = cl.campaign_id
         where cl.list_id = $1 order by c.id`, [found.id])).rows;
      return { row, campaigns };
    });
    print(context, { ...jsonList(row), campaigns: campaigns.map((c) => ({ id: Number(c.id), name: c.name, status: c.status })) }, () => [
      formatRecord({ ...row, opt_in: row.opt_in === "double" ? "double (only confirmed members receive campaigns)" : "single (every member not unsubscribed receives campaigns)" }, [
        ["id", "id"], ["name", "name"], ["description", "description"], ["opt_in", "opt-in"], ["created_at", "created"],
        ["receiving", "receiving"], ["confirmed", "confirmed"], ["unconfirmed", "unconfirmed"], ["unsubscribed", "unsubscribed"],
      ]),
      ...(row.opt_in === "double" && row.unconfirmed > 0
        ? [`${row.unconfirmed} unconfirmed member${row.unconfirmed === 1 ? " does" : "s do"} not receive campaigns until confirmed (mailroom lists send-confirmations ${row.id}).`]
        : []),
      campaigns.length === 0 ? "campaigns:    none" : `campaigns:\n${formatTable(campaigns, [["id", "id"], ["name", "name"], ["status", "status"]]).split("\n").map((l) => `  ${l}`).join("\n")}`,
    ].join("\n"));
  },
};

export const commands: Command[] = [create, list, show];
