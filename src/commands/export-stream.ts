// A query's rows streamed to stdout or a file, as CSV (RFC 4180) or JSON lines, at constant memory whatever the
// number of rows:
//
// - read through a server-side cursor (DECLARE ... CURSOR, then FETCH of BATCH_ROWS rows at a time) in one
//   read-only REPEATABLE READ transaction, so the export is one consistent snapshot;
// - PostgreSQL formats every value (the CSV fields as text, a JSON line with row_to_json), so a row reaches Node
//   as one or a few strings and is written without being parsed;
// - written with backpressure: when the destination's buffer is full (write() returns false) the next FETCH
//   waits for 'drain'. stdout on a pipe blocks in write() instead, which holds the reading back the same way.
//
// --output FILE is written to FILE.partial and renamed to FILE once complete (a reader never sees half a file;
// a failed export, or one stopped by Ctrl-C or another stop signal, leaves nothing). When stdout is closed by its reader (`| head -1`), the export stops, the
// transaction is rolled back and the command ends quietly with exit code 0.
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import type { Writable } from "node:stream";
import type pg from "pg";
import { count } from "./progress.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Rows per FETCH: big enough to amortise the round trip, small enough to keep memory flat. */
export const BATCH_ROWS = 2000;

export interface ExportColumn {
  /** The column's name in the CSV header and the JSON objects. */
  name: string;
  /** Its SQL expression over the query's FROM clause. */
  sql: string;
  /** A timestamp: written as ISO 8601 in UTC (2026-12-01T10:00:00.123456+00:00) in CSV as in JSON. */
  time?: boolean;
}

export interface ExportQuery {
  columns: ExportColumn[];
  /** The rest of the SELECT after its column list: FROM, WHERE, ORDER BY (parameters $1, $2, ...). */
  from: string;
  params?: unknown[];
}

export interface ExportOptions {
  /** JSON lines instead of CSV. */
  json: boolean;
  /** A file to write (atomically); stdout when undefined. */
  output?: string;
  /** Where the data goes when there is no output file (process.stdout by default; tests give their own). */
  stdout?: Writable;
  /** Where the summary line goes (stderr by default). */
  summary?: { write(text: string): unknown };
}

export interface ExportResult {
  rows: number;
  seconds: number;
  /** stdout was closed by its reader before the end: the export stopped there. */
  closed: boolean;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. NULL is an empty field and an
 * empty text a quoted one (""), as PostgreSQL's COPY writes them.
 */
export function csvField(value: string | null): string {
  if (value === null) return "";
  if (value === "") return '""';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The cursor's query: one text column per CSV field, or one JSON object (as text) per row. */
export function cursorQuery(query: ExportQuery, json: boolean): string {
  const inner = `select ${query.columns.map((c) => `${c.sql} as ${c.name}`).join(", ")} ${query.from}`;
  if (json) return `select row_to_json(x)::text from (${inner}) as x`;
  // to_json gives a timestamp the same ISO 8601 text as row_to_json; every other type's text form is its
  // JSON's (jsonb as JSON, booleans as true/false).
  const fields = query.columns.map((c) => (c.time ? `to_json(x.${c.name}) #>> '{}'` : `x.${c.name}::text`));
  return `select ${fields.join(", ")} from (${inner}) as x`;
}

/** Resolves when the stream may take more ('drain'), or has closed or failed. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

/** Runs the export on the client (which must not be in a transaction) and writes the summary line. */
export async function streamExport(client: pg.Client, query: ExportQuery, options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const partial = options.output === undefined ? undefined : `${options.output}.partial`;
  const out: Writable = partial === undefined ? (options.stdout ?? process.stdout) : fs.createWriteStream(partial);
  let failure: Error | undefined;
  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (partial === undefined && error.code === "EPIPE") closed = true;
    else failure ??= error;
  };
  out.on("error", onError);
  if (partial !== undefined) await once(out, "open");
  // Stopped by a signal (Ctrl-C) while writing a file: the half-written file goes too, then the process exits as
  // the signal would have ended it (an embedded PostgreSQL this command started is stopped on the way out).
  const onSignal = (signal: NodeJS.Signals) => {
    if (partial !== undefined) fs.rmSync(partial, { force: true });
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  };
  if (partial !== undefined) for (const signal of STOP_SIGNALS) process.once(signal, onSignal);

  let rows = 0;
  let committed = false;
  await client.query("begin isolation level repeatable read, read only");
  try {
    await client.query("set local timezone to 'UTC'");
    await client.query(`declare mailroom_export no scroll cursor for ${cursorQuery(query, options.json)}`, query.params ?? []);
    if (!options.json) write(out, `${query.columns.map((c) => csvField(c.name)).join(",")}\r\n`);
    for (;;) {
      if (closed || failure) break;
      const batch = await client.query<string[]>({ text: `fetch ${BATCH_ROWS} from mailroom_export`, rowMode: "array" });
      if (batch.rows.length === 0) break;
      let chunk = "";
      for (const row of batch.rows) {
        chunk += options.json ? `${row[0]}\n` : `${row.map(csvField).join(",")}\r\n`;
      }
      rows += batch.rows.length;
      if (!write(out, chunk)) await drained(out);
    }
    await client.query(closed || failure ? "rollback" : "commit");
    committed = true;
  } finally {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
    if (!committed) await client.query("rollback").catch(() => undefined);
    if (partial !== undefined) {
      out.end();
      await once(out, "close").catch(() => undefined);
      if (!committed || failure) fs.rmSync(partial, { force: true });
    }
  }
  if (failure) throw failure;
  if (partial !== undefined) fs.renameSync(partial, options.output!);
  const seconds = (performance.now() - started) / 1000;
  if (!closed) {
    (options.summary ?? process.stderr).write(
      `${count(rows)} row${rows === 1 ? "" : "s"}${options.output === undefined ? "" : ` to ${options.output}`} in ${seconds.toFixed(1)} s\n`);
  }
  return { rows, seconds, closed };
}

/** Writes unless the stream is gone (a write after EPIPE would only raise another error). */
function write(out: Writable, text: string): boolean {
  if (out.destroyed || out.writableEnded) return true;
  return out.write(text);
}
