// One pino logger for the process: readable lines on a terminal, JSON otherwise.
import pino from "pino";
import { Logger as GraphileLogger, type LogFunctionFactory } from "@graphile/logger";
import { Logger as WorkerLogger } from "graphile-worker";
import type { LogFormat } from "./config.ts";

export type Log = pino.Logger;

export function createLog(level: string, format: LogFormat): Log {
  if (format === "pretty") {
    return pino({
      level,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } },
    });
  }
  return pino({ level });
}

function pinoLogFactory(log: Log): LogFunctionFactory<Record<string, unknown>> {
  return (scope) => (level, message, meta) => {
    const child = log.child({ ...(scope.label ? { scope: scope.label } : {}), ...(scope.taskIdentifier ? { task: scope.taskIdentifier } : {}), ...(scope.jobId ? { jobId: scope.jobId } : {}) });
    // A line per completed job is noise at info level; failures stay visible.
    const quiet = level === "debug" || (level === "info" && message.startsWith("Completed task"));
    const fn = level === "error" ? child.error : level === "warning" ? child.warn : quiet ? child.debug : child.info;
    fn.call(child, meta ?? {}, message);
  };
}

/** A logger for graphile-migrate that writes through pino. */
export function graphileLogger(log: Log): GraphileLogger {
  return new GraphileLogger(pinoLogFactory(log));
}

/** A logger for graphile-worker that writes through pino. */
export function workerLogger(log: Log): WorkerLogger {
  return new WorkerLogger(pinoLogFactory(log) as ConstructorParameters<typeof WorkerLogger>[0]);
}
