// The shape of a `mailroom <noun> <verb>` command and what every command shares: option parsing with --json and
// --help, exit codes a script can rely on, printing a row or a table, and the database connection.
//
// Exit codes (docs/cli.md):
//   0  done
//   1  failed: an unexpected error (the database unreachable, a bug); the message says what
//   2  usage: unknown command or option, a missing or malformed argument
//   3  not found: the list, sender, template, campaign, subscriber or key named does not exist
//   4  refused: the request is well formed but the current state or a rule forbids it (starting a campaign that
//      runs already, an invalid address, a template error, a sender without a connection string, ...)
import fs from "node:fs";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { CommandError, withDatabase } from "./database.ts";

export const EXIT = { done: 0, failed: 1, usage: 2, notFound: 3, refused: 4 } as const;

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  /** The parsed options (without --json and --help). */
  options: OptionValues;
  positionals: string[];
  /** --json: print machine-readable JSON on stdout instead of text. */
  json: boolean;
  config: Config;
  log: Log;
  /** Runs work on one owner connection to the migrated database (started and stopped around it when embedded). */
  database<T>(work: (client: pg.Client) => Promise<T>): Promise<T>;
}

export interface Command {
  noun: string;
  verb: string;
  /** One line for `mailroom <noun> --help`. */
  summary: string;
  /** The arguments after `mailroom <noun> <verb>`, e.g. "ID [--json]". */
  usage: string;
  /** More lines for `mailroom <noun> <verb> --help`: what it does and each option. */
  help?: string;
  /** node:util parseArgs options; --json and --help are added to every command. */
  options?: ParseArgsOptionsConfig;
  /** The number of positional arguments allowed: [min, max] (default [0, 0]). */
  positionals?: [number, number];
  /** Returns the exit code (undefined: 0). Throw CommandError for a usage error, refusal or a missing row. */
  run(context: CommandContext): Promise<number | void>;
}

/** A usage error: exit code 2. */
export function usageError(message: string): CommandError {
  return new CommandError(message, EXIT.usage);
}

/** Something named does not exist: exit code 3. */
export function notFound(message: string): CommandError {
  return new CommandError(message, EXIT.notFound);
}

/** A well-formed request the current state or a rule forbids: exit code 4. */
export function refused(message: string): CommandError {
  return new CommandError(message, EXIT.refused);
}

/**
 * A database error raised by a rule (a check constraint, a function's `raise exception`, a unique violation, a
 * permission) becomes a refusal with the database's message; a function's "... does not exist" (P0002,
 * no_data_found, as start_campaign or confirm_list_members raise it) becomes not found; anything else stays an
 * unexpected failure.
 */
export function refusalFromDatabase(error: unknown): CommandError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  if (code === "P0002") return notFound((error as Error).message);
  // 22: data exception, 23: integrity constraint, P0001: raise exception, 42501: insufficient privilege,
  // 55000: object not in prerequisite state.
  if (code.startsWith("22") || code.startsWith("23") || code === "P0001" || code === "42501" || code === "55000") {
    const detail = (error as { detail?: string }).detail;
    return refused(`${(error as Error).message}${detail ? ` (${detail})` : ""}`);
  }
  return undefined;
}

export function commandTitle(command: Command): string {
  return `mailroom ${command.noun} ${command.verb} ${command.usage}`.trimEnd();
}

export function commandHelp(command: Command): string {
  return [`Usage: ${commandTitle(command)}`, "", command.summary, ...(command.help ? ["", command.help] : []), "",
    "  --json     print JSON on stdout (for scripts)", "  --help     this help"].join("\n");
}

export function nounHelp(noun: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.verb.length)) + 2;
  return [`Usage: mailroom ${noun} <command> [options]`, "", "Commands:",
    ...commands.map((c) => `  ${c.verb.padEnd(width)}${c.summary}`), "",
    `mailroom ${noun} <command> --help shows a command's options.`].join("\n");
}

/** Parses the arguments and runs the command; returns its exit code (errors printed on stderr as one line). */
export async function runCliCommand(command: Command, args: string[], config: Config, log: Log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${commandHelp(command)}`);
    return EXIT.usage;
  }
  const { json, help, ...options } = parsed.values as OptionValues & { json?: boolean; help?: boolean };
  if (help) {
    console.log(commandHelp(command));
    return EXIT.done;
  }
  const [min, max] = command.positionals ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const got = parsed.positionals.length;
    console.error(`${commandTitle(command)}: expected ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}, got ${got}\n\n${commandHelp(command)}`);
    return EXIT.usage;
  }
  try {
    const code = await command.run({
      options,
      positionals: parsed.positionals,
      json: json ?? false,
      config,
      log,
      database: (work) => withDatabase(config, log, work),
    });
    return code ?? EXIT.done;
  } catch (error) {
    const refusal = error instanceof CommandError ? error : refusalFromDatabase(error);
    if (refusal) {
      console.error(refusal.message);
      return refusal.exitCode;
    }
    throw error;
  }
}

/** A text file named by an option (--OPTION FILE), without a byte order mark; unreadable: a usage error. */
export function readTextFile(option: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw usageError(`--${option} ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory, not a file" : (error as Error).message}`);
  }
}

/** Prints a value as JSON (--json) or as the text given. */
export function print(context: Pick<CommandContext, "json">, value: unknown, text: () => string): void {
  if (context.json) console.log(JSON.stringify(value, null, 2));
  else console.log(text());
}

/** Rows as an aligned text table with the given columns (header from the labels). */
export function formatTable(rows: Record<string, unknown>[], columns: [key: string, label: string][]): string {
  const cell = (value: unknown) => (value === null || value === undefined ? "" : value instanceof Date ? value.toISOString() : String(value));
  const widths = columns.map(([key, label]) => Math.max(label.length, ...rows.map((row) => cell(row[key]).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map(([, label]) => label)), ...rows.map((row) => line(columns.map(([key]) => cell(row[key]))))].join("\n");
}

/** One row as "label: value" lines. */
export function formatRecord(row: Record<string, unknown>, fields: [key: string, label: string][]): string {
  const width = Math.max(...fields.map(([, label]) => label.length)) + 2;
  return fields
    .map(([key, label]) => {
      const value = row[key];
      const text = value === null || value === undefined ? "" : value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
      return `${`${label}:`.padEnd(width)}${text}`;
    })
    .join("\n");
}
