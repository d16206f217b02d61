// mailroom import-subscribers --list <id or name> [--status confirmed|unconfirmed] [--update-existing]
//                             [--rejected FILE] <file.csv>
//
// The file is parsed as it is read (src/commands/csv.ts) and streamed with COPY into a temporary table; then a
// few set-based statements check every row with the database's own rule (app_hidden.subscriber_email_problem,
// the rule of the subscribers_email_check constraint), add the new subscribers and the list memberships, and
// report. One transaction: an import either happens whole (every good row) or not at all. Idempotent on email
// (case-insensitive): existing subscribers are left as they are (unless --update-existing) and existing
// memberships are never changed, so an unsubscribed member stays unsubscribed. docs/cli.md has the details.
import fs from "node:fs";
import { parseArgs } from "node:util";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { copyFrom, copyText } from "./copy-from.ts";
import { CsvParser, type CsvRecord } from "./csv.ts";
import { CommandError, runCommand, withDatabase } from "./database.ts";
import { Progress, count } from "./progress.ts";

export const IMPORT_USAGE = `Usage: mailroom import-subscribers --list <list id or name> [options] <file.csv>

Adds the subscribers of a CSV file (RFC 4180, UTF-8, a header row) to a list. Columns: email (required),
name, attributes (a JSON object); every other column becomes a string attribute named after its header.
Bad rows are reported with their line numbers and reasons; the rest is imported. Importing the same file
again changes nothing.

Options:
  --list ID|NAME       the list (it must exist)
  --status STATUS      confirmed or unconfirmed: the status of new memberships (default: unconfirmed on a
                       double opt-in list, confirmed on a single opt-in list); existing ones never change
  --update-existing    also update subscribers that exist already: a non-empty name replaces theirs,
                       attributes are merged into theirs (the file's keys win)
  --rejected FILE      write every rejected row to FILE (CSV: line, reason, email)`;

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
  status: string;
  rows: number;
  rejected: number;
  created: number;
  existing: number;
  updated: number;
  added: number;
  alreadyMembers: number;
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

async function findList(client: pg.Client, list: string): Promise<{ id: string; name: string; opt_in: string }> {
  const byId = /^[1-9][0-9]{0,18}$/.test(list);
  const { rows } = await client.query<{ id: string; name: string; opt_in: string }>(
    byId
      ? "select id, name, opt_in from app_public.lists where id = $1"
      : "select id, name, opt_in from app_public.lists where lower(name) = lower($1) order by id",
    [list],
  );
  if (rows.length === 0) {
    throw new CommandError(`no list ${byId ? "with id " : "named "}${byId ? list : JSON.stringify(list)}; create it first (GraphQL createList)`);
  }
  if (rows.length > 1) {
    throw new CommandError(`${rows.length} lists are named ${JSON.stringify(list)} (ids ${rows.map((r) => r.id).join(", ")}); give the id`);
  }
  return rows[0]!;
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
      status,
      rows,
      rejected: rejectedCount,
      created,
      existing,
      updated,
      added,
      alreadyMembers: memberships - added,
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
  lines.push(`${file} -> list ${r.listId} ${JSON.stringify(r.listName)} (new memberships ${r.status}) in ${r.seconds.toFixed(1)} s`);
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

export async function runImportSubscribersCommand(args: string[], config: Config, log: Log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        list: { type: "string" },
        status: { type: "string" },
        "update-existing": { type: "boolean" },
        rejected: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  const { list, status } = parsed.values;
  if (!list || parsed.positionals.length !== 1) {
    console.error(IMPORT_USAGE);
    return 2;
  }
  if (status !== undefined && status !== "confirmed" && status !== "unconfirmed") {
    console.error(`--status must be confirmed or unconfirmed (got "${status}")`);
    return 2;
  }
  const file = parsed.positionals[0]!;
  return runCommand(async () => {
    if (!fs.existsSync(file)) throw new CommandError(`${file}: no such file`);
    const report = await withDatabase(config, log, (client) =>
      importSubscribers(client, { list, file, status, updateExisting: parsed.values["update-existing"], rejectedFile: parsed.values.rejected }));
    console.log(formatReport(file, report, parsed.values.rejected));
    return 0;
  });
}
