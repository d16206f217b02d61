// mailroom subscribers import --list <id or name> [--status confirmed|unconfirmed] [--update-existing]
//                             [--rejected FILE] <file.csv>        (also: mailroom import-subscribers ...)
//
// The file is parsed as it is read (src/commands/csv.ts) and streamed with COPY into a temporary table; then a
// few set-based statements check every row with the database's own rule (app_hidden.subscriber_email_problem,
// the rule of the subscribers_email_check constraint), add the new subscribers and the list memberships, and
// report. One transaction: an import either happens whole (every good row) or not at all. Idempotent on email
// (case-insensitive): existing subscribers are left as they are (unless --update-existing) and existing
// memberships are never changed, so an unsubscribed member stays unsubscribed. docs/cli.md has the details.
import fs from "node:fs";
import type pg from "pg";
import { print, usageError, type Command } from "./command.ts";
import { copyFrom, copyText } from "./copy-from.ts";
import { CsvParser, type CsvRecord } from "./csv.ts";
import { CommandError } from "./database.ts";
import { findList, listArgument } from "./lists.ts";
import { Progress, count } from "./progress.ts";

const SHOWN_REJECTS = 100;
const FLUSH_BYTES = 512 * 1024;

export interface ImportOptions {
  list: string;
  file: string;
  status?: "confirmed" | "unconfirmed";
  updateExisting?: boolean;
  rejectedFile?: string;
  /** Where progress goes (stderr by default). */
  progress?: { isTTY?: boolean; columns?: number; write(text: string): unknown };
}

export interface ImportReport {
  listId: string;
  listName: string;
  listOptIn: "single" | "double";
  /** How to name the list on a command line (its name, or its id when the name is ambiguous or needs quoting). */
  listArgument: string;
  status: string;
  rows: number;
  rejected: number;
  created: number;
  existing: number;
  updated: number;
  added: number;
  alreadyMembers: number;
  /** The rows that were members of the list already, by the status they kept. */
  alreadyMembersByStatus: { confirmed: number; unconfirmed: number; unsubscribed: number };
  rejects: { line: number; reason: string; email: string | null }[];
  seconds: number;
}

interface Columns {
  count: number;
  email: number;
  name: number;
  attributes: number;
  extra: { index: number; key: string }[];
}

function readHeader(record: CsvRecord): Columns {
  if (record.error) throw new CommandError(`line ${record.line}: the header is malformed: ${record.error}`);
  const names = record.fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, "") : f).trim());
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === "") throw new CommandError(`line ${record.line}: column ${i + 1} of the header has no name`);
    const key = name.toLowerCase();
    if (seen.has(key)) throw new CommandError(`line ${record.line}: the header names "${name}" twice (columns ${seen.get(key)! + 1} and ${i + 1})`);
    seen.set(key, i);
  });
  const email = seen.get("email");
  if (email === undefined) {
    throw new CommandError(`line ${record.line}: the header has no email column (it has: ${names.join(", ")})`);
  }
  const name = seen.get("name") ?? -1;
  const attributes = seen.get("attributes") ?? -1;
  const extra = names
    .map((key, index) => ({ key, index }))
    .filter(({ index }) => index !== email && index !== name && index !== attributes);
  return { count: names.length, email, name, attributes, extra };
}

/** One COPY line: line, email, name, attributes (JSON text), problem. */
function copyLine(record: CsvRecord, columns: Columns): string {
  const f = record.fields;
  let problem = record.error;
  if (problem === undefined && f.length !== columns.count) {
    problem = `${f.length} field${f.length === 1 ? "" : "s"} where the header has ${columns.count}`;
  }
  const email = f[columns.email] ?? null;
  const name = columns.name >= 0 ? (f[columns.name] ?? "") : "";
  let attributes = "{}";
  if (problem === undefined && (columns.attributes >= 0 || columns.extra.length > 0)) {
    let object: Record<string, unknown> = {};
    const json = columns.attributes >= 0 ? f[columns.attributes]!.trim() : "";
    if (json !== "") {
      try {
        object = JSON.parse(json) as Record<string, unknown>;
      } catch {
        problem = "attributes is not valid JSON";
      }
      if (problem === undefined && (object === null || typeof object !== "object" || Array.isArray(object))) {
        problem = "attributes must be a JSON object";
        object = {};
      }
    }
    for (const { index, key } of columns.extra) {
      if (f[index] !== "") object[key] = f[index];
    }
    attributes = JSON.stringify(object);
  }
  if (problem === undefined && `${email}${name}${attributes}`.includes("\u0000")) problem = "contains a NUL character";
  if (problem !== undefined) {
    return `${record.line}\t${copyText(email?.replace(/\u0000/g, "") ?? null)}\t\\N\t\\N\t${copyText(problem)}\n`;
  }
  return `${record.line}\t${copyText(email)}\t${copyText(name)}\t${copyText(attributes)}\t\\N\n`;
}

/** Streams the file into import_rows; returns the number of records. */
async function copyFile(client: pg.Client, file: string, progressStream: NonNullable<ImportOptions["progress"]>): Promise<number> {
  const size = fs.statSync(file).size;
  const input = fs.createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  const parser = new CsvParser();
  const copy = copyFrom(client, "copy import_rows (line, email, name, attributes, problem) from stdin");
  const progress = new Progress(progressStream, "Reading", size);
  let columns: Columns | undefined;
  let rows = 0;
  let pending = "";
  const records: CsvRecord[] = [];
  const take = async () => {
    for (const record of records) {
      if (!columns) {
        columns = readHeader(record);
        continue;
      }
      rows++;
      pending += copyLine(record, columns);
    }
    records.length = 0;
    if (pending.length >= FLUSH_BYTES) {
      await copy.write(Buffer.from(pending, "utf8"));
      pending = "";
    }
  };
  try {
    for await (const chunk of input) {
      parser.push(chunk as string, records);
      await take();
      progress.update(input.bytesRead, `${count(rows)} rows`);
    }
    parser.end(records);
    await take();
    if (!columns) throw new CommandError(`${file} is empty: a header row with an email column is expected`);
    if (pending) await copy.write(Buffer.from(pending, "utf8"));
    await copy.end();
  } catch (error) {
    input.destroy();
    await copy.abort(error instanceof Error ? error.message : String(error));
    throw error;
  }
  progress.finish(`${count(rows)} rows, ${(size / 1e6).toFixed(1)} MB`);
  return rows;
}

export async function importSubscribers(client: pg.Client, options: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const progressStream = options.progress ?? process.stderr;
  if (!fs.existsSync(options.file)) throw new CommandError(`${options.file}: no such file`);
  const list = await findList(client, options.list);
  const status = options.status ?? (list.opt_in === "double" ? "unconfirmed" : "confirmed");
  const step = <T>(label: string, work: () => Promise<T>) => Progress.step(progressStream, label, work);

  // Memory for the hash joins and the temporary tables of a large file (this session only).
  await client.query("set temp_buffers = '256MB'");
  await client.query("begin");
  try {
    await client.query("set local work_mem = '256MB'");
    await client.query(`create temporary table import_rows (
      line integer not null, email text, name text, attributes text, problem text) on commit drop`);
    const rows = await copyFile(client, options.file, progressStream);

    await step("Checking rows", async () => {
      // Each row's problem: from the file, else the email rule, else a repeat of an earlier valid row.
      await client.query(`create temporary table import_checked on commit drop as
        with validated as (
          select r.line, btrim(r.email) as email, lower(btrim(r.email)) as key, r.name, r.attributes,
            coalesce(r.problem, app_hidden.subscriber_email_problem(btrim(r.email))) as problem
          from import_rows as r
        ),
        first_line as (
          select v.key, min(v.line) as line from validated as v where v.problem is null group by v.key
        )
        select v.line, v.email, v.key, v.name, v.attributes,
          coalesce(v.problem, case when f.line <> v.line then 'the same email as line ' || f.line end) as problem
        from validated as v left join first_line as f on f.key = v.key`);
      await client.query("analyze import_checked");
      // Fresh statistics, so that the planner finds existing subscribers with a hash or an index, never by
      // scanning the table once per row (it may have grown since autovacuum last looked, e.g. by an import).
      await client.query("analyze app_public.subscribers");
    });

    const { created, existing, updated } = await step("Adding subscribers", async () => {
      // Two tables, so that no statement reads the table it writes (with a growing table and no statistics
      // yet, the planner could scan it once per row).
      await client.query(`create temporary table import_existing on commit drop as
        select c.key, s.id as subscriber_id
        from import_checked as c join app_public.subscribers as s on lower(s.email) = c.key
        where c.problem is null`);
      await client.query("analyze import_existing");
      // No ON CONFLICT: it costs a third more per row. An address added by someone else meanwhile makes the
      // statement fail on subscribers_email_key; the whole import is then rolled back and says so.
      await client.query(`create temporary table import_new (key text not null, subscriber_id bigint not null) on commit drop`);
      const added = await client.query(`with added as (
          insert into app_public.subscribers (email, name, attributes)
          select c.email, c.name, c.attributes::jsonb
          from import_checked as c
          where c.problem is null and not exists (select 1 from import_existing as e where e.key = c.key)
          returning id, lower(email) as key
        )
        insert into import_new (key, subscriber_id) select key, id from added`).catch((error: unknown) => {
        if ((error as { constraint?: string }).constraint === "subscribers_email_key") {
          throw new CommandError("another import or user added one of these addresses while this import ran; nothing was imported: run it again");
        }
        throw error;
      });
      let updatedCount = 0;
      if (options.updateExisting) {
        // A non-empty name replaces the subscriber's; attributes are merged (the file's keys win).
        updatedCount = (await client.query(`update app_public.subscribers as s
          set name = coalesce(nullif(c.name, ''), s.name), attributes = s.attributes || c.attributes::jsonb
          from import_existing as e join import_checked as c on c.key = e.key and c.problem is null
          where s.id = e.subscriber_id
            and (s.name, s.attributes) is distinct from
                (coalesce(nullif(c.name, ''), s.name), s.attributes || c.attributes::jsonb)`)).rowCount ?? 0;
      }
      const existingCount = Number((await client.query("select count(*) from import_existing")).rows[0].count);
      return { created: added.rowCount ?? 0, existing: existingCount, updated: updatedCount };
    });

    // The memberships the file's existing subscribers have already: they keep their status, whatever --status says.
    const alreadyMembersByStatus = { confirmed: 0, unconfirmed: 0, unsubscribed: 0 };
    for (const row of (await client.query<{ status: keyof typeof alreadyMembersByStatus; n: number }>(
      `select m.status, count(*)::int as n from import_existing as e
       join app_public.list_memberships as m on m.list_id = $1 and m.subscriber_id = e.subscriber_id group by m.status`,
      [list.id])).rows) alreadyMembersByStatus[row.status] = row.n;

    const added = await step("Adding to the list", async () => {
      // New subscribers have no memberships yet: a plain INSERT, cheaper than one that checks for conflicts.
      // Existing memberships (whatever their status, unsubscribed included) are left exactly as they are.
      const forNew = await client.query(
        `insert into app_public.list_memberships (list_id, subscriber_id, status)
         select $1, n.subscriber_id, $2 from import_new as n`,
        [list.id, status],
      );
      const forExisting = await client.query(
        `insert into app_public.list_memberships (list_id, subscriber_id, status)
         select $1, e.subscriber_id, $2 from import_existing as e
         on conflict (list_id, subscriber_id) do nothing`,
        [list.id, status],
      );
      return (forNew.rowCount ?? 0) + (forExisting.rowCount ?? 0);
    });

    const rejectedCount = Number((await client.query("select count(*) from import_checked where problem is not null")).rows[0].count);
    const rejects = (await client.query<{ line: number; reason: string; email: string | null }>(
      `select line, problem as reason, email from import_checked where problem is not null order by line
       ${options.rejectedFile ? "" : `limit ${SHOWN_REJECTS}`}`,
    )).rows;
    await client.query("commit");
    if (options.rejectedFile) {
      const csv = (v: string | number | null) => (v === null ? "" : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
      fs.writeFileSync(options.rejectedFile, ["line,reason,email", ...rejects.map((r) => `${r.line},${csv(r.reason)},${csv(r.email)}`)].join("\n") + "\n");
    }
    const memberships = created + existing;
    return {
      listId: list.id,
      listName: list.name,
      listOptIn: list.opt_in,
      listArgument: await listArgument(client, list),
      status,
      rows,
      rejected: rejectedCount,
      created,
      existing,
      updated,
      added,
      alreadyMembers: memberships - added,
      alreadyMembersByStatus,
      rejects,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

export function formatReport(file: string, r: ImportReport, rejectedFile?: string): string {
  const lines: string[] = [];
  lines.push(`${file} -> list ${r.listId} ${JSON.stringify(r.listName)} (${r.listOptIn} opt-in; new memberships ${r.status}) in ${r.seconds.toFixed(1)} s`);
  const rows: [string, number][] = [
    ["rows read", r.rows],
    ["rejected", r.rejected],
    ["subscribers created", r.created],
    ["already subscribers", r.existing],
    ...(r.updated > 0 ? [["subscribers updated", r.updated] as [string, number]] : []),
    ["added to the list", r.added],
    ["already on the list", r.alreadyMembers],
  ];
  const width = Math.max(...rows.map(([, n]) => count(n).length));
  for (const [label, n] of rows) lines.push(`  ${label.padEnd(20)} ${count(n).padStart(width)}`);
  if (r.created === 0 && r.updated === 0 && r.added === 0) {
    lines.push(r.rows - r.rejected > 0
      ? "Nothing changed: every good row was imported before (the subscribers and their memberships exist)."
      : "Nothing changed.");
  }
  lines.push(...membershipNotes(r));
  if (r.rejected > 0) {
    lines.push(`Rejected rows (line: reason):`);
    for (const x of r.rejects.slice(0, SHOWN_REJECTS)) {
      lines.push(`  line ${x.line}: ${x.reason}${x.email ? ` (${JSON.stringify(x.email.length > 80 ? `${x.email.slice(0, 80)}...` : x.email)})` : ""}`);
    }
    if (r.rejected > SHOWN_REJECTS) {
      lines.push(rejectedFile
        ? `  ... and ${count(r.rejected - SHOWN_REJECTS)} more, all in ${rejectedFile}`
        : `  ... and ${count(r.rejected - SHOWN_REJECTS)} more (--rejected FILE writes them all)`);
    } else if (rejectedFile) {
      lines.push(`  (also written to ${rejectedFile})`);
    }
  }
  return lines.join("\n");
}

/**
 * What the memberships mean for sending, said plainly: members added unconfirmed to a double opt-in list receive
 * nothing until they confirm, and rows that were members already kept their status (--status never changes it).
 */
export function membershipNotes(r: ImportReport): string[] {
  const notes: string[] = [];
  const list = r.listArgument;
  const unconfirmedAdded = r.status === "unconfirmed" ? r.added : 0;
  if (r.listOptIn === "double" && unconfirmedAdded > 0) {
    notes.push(
      `${count(unconfirmedAdded)} new member${unconfirmedAdded === 1 ? " is" : "s are"} unconfirmed: on this double opt-in list ${unconfirmedAdded === 1 ? "it" : "they"} will NOT receive campaigns until ${unconfirmedAdded === 1 ? "it confirms" : "they confirm"}.`,
      `  To ask them by email:                  mailroom lists send-confirmations ${list}`,
      `  If they confirmed elsewhere already:   mailroom subscribers confirm --list ${list} --all`,
    );
  }
  if (r.alreadyMembers > 0) {
    const by = r.alreadyMembersByStatus;
    const statuses = (["confirmed", "unconfirmed", "unsubscribed"] as const).filter((s) => by[s] > 0).map((s) => `${count(by[s])} ${s}`);
    notes.push(
      `${count(r.alreadyMembers)} row${r.alreadyMembers === 1 ? " was" : "s were"} already on the list and kept ${r.alreadyMembers === 1 ? "its" : "their"} existing status (${statuses.join(", ")}): --status never changes existing memberships.`,
    );
    if (r.listOptIn === "double" && by.unconfirmed > 0) {
      notes.push(`  Importing again with --status confirmed changes nothing; to confirm them: mailroom subscribers confirm --list ${list} --all`);
    }
  }
  return notes;
}

const importCommand: Command = {
  noun: "subscribers",
  verb: "import",
  summary: "import subscribers from a CSV file into a list (also: mailroom import-subscribers)",
  usage: "--list ID|NAME [--status confirmed|unconfirmed] [--update-existing] [--rejected FILE] FILE.csv",
  help: `Adds the subscribers of a CSV file (RFC 4180, UTF-8, a header row) to a list. Columns: email (required),
name, attributes (a JSON object); every other column becomes a string attribute named after its header.
Bad rows are reported with their line numbers and reasons; the rest is imported. Importing the same file
again changes nothing.

Options:
  --list ID|NAME       the list (it must exist: mailroom lists create)
  --status STATUS      confirmed or unconfirmed: the status of new memberships (default: unconfirmed on a
                       double opt-in list, who then receive no campaign until they confirm; confirmed on a
                       single opt-in list). Existing memberships never change: to confirm members, use
                       mailroom subscribers confirm
  --update-existing    also update subscribers that exist already: a non-empty name replaces theirs,
                       attributes are merged into theirs (the file's keys win)
  --rejected FILE      write every rejected row to FILE (CSV: line, reason, email)

Exit codes: 0 imported (bad rows are reported, not an error), 2 usage, a missing file or a malformed header,
3 no such list.`,
  options: {
    list: { type: "string" },
    status: { type: "string" },
    "update-existing": { type: "boolean" },
    rejected: { type: "string" },
  },
  positionals: [1, 1],
  async run(context) {
    const list = context.options.list as string | undefined;
    const status = context.options.status as string | undefined;
    const rejectedFile = context.options.rejected as string | undefined;
    if (!list) throw usageError("--list ID|NAME is required: the list to import into (mailroom lists list shows them)");
    if (status !== undefined && status !== "confirmed" && status !== "unconfirmed") {
      throw usageError(`--status must be confirmed or unconfirmed (got "${status}")`);
    }
    const file = context.positionals[0]!;
    if (!fs.existsSync(file)) throw new CommandError(`${file}: no such file`);
    const report = await context.database((client) =>
      importSubscribers(client, { list, file, status, updateExisting: context.options["update-existing"] === true, rejectedFile }));
    print(context, { ...report, notes: membershipNotes(report) }, () => formatReport(file, report, rejectedFile));
  },
};

export const commands: Command[] = [importCommand];
