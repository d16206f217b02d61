// Runs `mailroom <command>` as a child process, as a user would, and watches what it says.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../../src/db/migrate.ts";
import { freePort } from "../../src/db/throwaway.ts";

export { freePort };

export interface MailroomProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function runMailroom(args: string[], env: Record<string, string>): MailroomProcess {
  return watch(
    spawn(process.execPath, [path.join(projectRoot, "src/cli.ts"), ...args], {
      cwd: projectRoot,
      env: { ...process.env, LOG_FORMAT: "json", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/** PATH as npm scripts see it: the project's node_modules/.bin (and so its Node.js 24) first. */
export function projectPath(): string {
  return [path.join(projectRoot, "node_modules/.bin"), process.env.PATH ?? ""].join(path.delimiter);
}

/**
 * Runs `npm run <script>` (`npm start` for "start") with the machine's npm, as a user or a supervisor does.
 * `command` wraps it: e.g. ["script", "-qfec"] runs it on a pseudo-terminal.
 */
export function runNpm(script: string, args: string[], env: Record<string, string>, options: { command?: string[] } = {}): MailroomProcess {
  const npm = script === "start" ? ["npm", "start"] : ["npm", "run", script];
  if (args.length > 0) npm.push("--", ...args);
  const [file, ...rest] = options.command ? [...options.command, npm.join(" ")] : npm;
  return watch(
    spawn(file, rest, {
      cwd: projectRoot,
      env: { ...process.env, LOG_FORMAT: "json", ...env, PATH: projectPath() },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

function watch(child: ChildProcess): MailroomProcess {
  let output = "";
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      resolve(code ?? signal ?? "unknown");
      for (const listener of listeners) listener();
    });
  });
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            done();
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process exited before printing ${pattern}; output:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Stops (SIGTERM) each process of the array still running, waits for it to exit, and empties the array. */
export async function stopProcesses(processes: MailroomProcess[]): Promise<void> {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
  }
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
