// One pino logger for the process. Two formats (LOG_FORMAT): `pretty`, one readable line per entry, coloured only on
// a terminal; `json`, one JSON object per line for log collectors. Which one by default depends on the command:
// the long-running ones (start, server, worker, demo, db-env, sandbox) write JSON when their output is not a
// terminal, since a supervisor or a log collector reads it then; a one-shot command (lists create, campaign-status,
// migrate...) is run by a person or a script and always writes readable lines, to stderr, so that its stdout holds
// only its result (db-env too, whose stdout is the settings it prints).
import pino from "pino";
import pretty from "pino-pretty";
import { Logger as GraphileLogger, type LogFunctionFactory } from "@graphile/logger";
import { Logger as WorkerLogger } from "graphile-worker";
import type { LogFormat } from "./config.ts";

export type Log = pino.Logger;

/** The commands that keep running (a server, a worker, a sandbox): their logs are the process's output. */
export const LONG_RUNNING_COMMANDS = ["start", "server", "worker", "demo", "db-env", "sandbox"] as const;

/** Whether `mailroom <argv>` keeps running; no command at all is `start`. */
export function isLongRunningCommand(argv: readonly string[] = process.argv.slice(2)): boolean {
  const command = argv[0] ?? "start";
  return (LONG_RUNNING_COMMANDS as readonly string[]).includes(command);
}

/** Whether the command's logs go to stderr: a one-shot command's, and db-env's, whose stdout is the lines it prints. */
export function logsToStderr(argv: readonly string[] = process.argv.slice(2)): boolean {
  return !isLongRunningCommand(argv) || argv[0] === "db-env";
}

/**
 * LOG_FORMAT when it is not set: JSON for a long-running command whose output is not a terminal (or in production),
 * readable lines otherwise (a one-shot command always).
 */
export function defaultLogFormat(options: { longRunning: boolean; terminal: boolean; production: boolean }): LogFormat {
  if (!options.longRunning) return "pretty";
  return options.terminal && !options.production ? "pretty" : "json";
}

/**
 * The process's logger. A one-shot command logs to stderr (its result goes to stdout), and so does db-env; a
 * long-running one to stdout.
 * Readable lines, and a one-shot command's JSON, are written synchronously: none is lost when a command exits at once.
 */
export function createLog(level: string, format: LogFormat, options: { stderr?: boolean } = {}): Log {
  const fd = (options.stderr ?? logsToStderr()) ? 2 : 1;
  if (format === "pretty") {
    const terminal = (fd === 1 ? process.stdout : process.stderr).isTTY === true;
    return pino(
      { level },
      pretty({ colorize: terminal, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", singleLine: true, destination: fd, sync: true }),
    );
  }
  // A long-running process keeps pino's own stdout destination (buffered, flushed at exit).
  return fd === 1 ? pino({ level }) : pino({ level }, pino.destination({ fd, sync: true }));
}

/** How graphile-migrate and graphile-worker messages map to pino; `infoAs: "debug"` keeps their chatter out of sight. */
interface LoggerOptions {
  /** "debug": their info lines at debug level. */
  infoAs?: "info" | "debug";
  /** Sees every message, whatever the level (migrateDatabase counts the migrations it ran). */
  observe?: (level: string, message: string) => void;
}

function pinoLogFactory(log: Log, options: LoggerOptions = {}): LogFunctionFactory<Record<string, unknown>> {
  return (scope) => (level, message, meta) => {
    options.observe?.(level, message);
    const child = log.child({ ...(scope.label ? { scope: scope.label } : {}), ...(scope.taskIdentifier ? { task: scope.taskIdentifier } : {}), ...(scope.jobId ? { jobId: scope.jobId } : {}) });
    // A line per completed job is noise at info level; failures stay visible.
    const quiet = level === "debug" || (level === "info" && (options.infoAs === "debug" || message.startsWith("Completed task")));
    const fn = level === "error" ? child.error : level === "warning" ? child.warn : quiet ? child.debug : child.info;
    fn.call(child, meta ?? {}, message);
  };
}

/**
 * A logger for graphile-migrate that writes through pino. `infoAs: "debug"`: its progress lines (one per
 * migration) at debug level, as when Mailroom migrates at start-up and says what it did in one line of its own.
 */
export function graphileLogger(log: Log, options: LoggerOptions = {}): GraphileLogger {
  return new GraphileLogger(pinoLogFactory(log, options));
}

/** A logger for graphile-worker that writes through pino. */
export function workerLogger(log: Log, options: LoggerOptions = {}): WorkerLogger {
  return new WorkerLogger(pinoLogFactory(log, options) as ConstructorParameters<typeof WorkerLogger>[0]);
}
