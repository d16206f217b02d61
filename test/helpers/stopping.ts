// For the tests that stop Mailroom from outside (test/faults/): a data directory of its own, the processes a
// command started (by pid and start time, so that a reused pid is not mistaken for a survivor), and a check
// that everything is gone: the processes, the HTTP port and the embedded PostgreSQL.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, type MailroomProcess } from "./process.ts";

export interface Setting {
  env: Record<string, string>;
  dataDir: string;
  port: number;
  pgPort: number;
}

/** A process as it was seen: pid and start time (clock ticks since boot). */
export interface Seen {
  pid: number;
  started: string;
  command: string;
}

const settings: Setting[] = [];
const watched: Seen[] = [];
const processes: MailroomProcess[] = [];

export async function setting(env: Record<string, string> = {}): Promise<Setting> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-stop-"));
  fs.chmodSync(dataDir, 0o755);
  const port = await freePort();
  const pgPort = await freePort();
  const s = {
    dataDir,
    port,
    pgPort,
    // Small shared_buffers: several of these servers run at once beside the test database.
    env: { MAILROOM_DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_PG_SHARED_BUFFERS_MB: "128", ...env },
  };
  settings.push(s);
  return s;
}

/** Remembers a started process so that cleanUp() can kill it if the test did not stop it. */
export function track(p: MailroomProcess): MailroomProcess {
  processes.push(p);
  return p;
}

function stat(pid: number): { ppid: number; state: string; started: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // pid (comm) state ppid ... starttime is field 22; comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], ppid: Number(fields[1]), started: fields[19] };
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

export function see(pid: number): Seen | undefined {
  const s = stat(pid);
  return s ? { pid, started: s.started, command: commandLine(pid) } : undefined;
}

/** Whether the process seen earlier still runs (a zombie has ended; a reused pid is another process). */
export function alive(p: Seen): boolean {
  const s = stat(p.pid);
  return s !== undefined && s.started === p.started && s.state !== "Z" && s.state !== "X";
}

/** The process and all its descendants now. */
export function tree(root: number): Seen[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const found: Seen[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const seen = see(pid);
    if (seen) found.push(seen);
    queue.push(...(children.get(pid) ?? []));
  }
  watched.push(...found);
  return found;
}

/** The node processes among them (npm itself runs on node too: its command line names npm). */
export function nodeProcesses(processes: Seen[]): Seen[] {
  return processes.filter((p) => path.basename(p.command.split(" ")[0]) === "node" && /src\/cli\.ts/.test(p.command));
}

/** The embedded PostgreSQL's postmaster, from postmaster.pid in the data directory. */
export function postmaster(s: Setting): Seen {
  const pid = Number(fs.readFileSync(path.join(s.dataDir, "pg/data/postmaster.pid"), "utf8").split("\n")[0]);
  const seen = see(pid);
  if (!seen) throw new Error(`postmaster ${pid} is not running`);
  watched.push(seen);
  return seen;
}

export async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

export interface Remains {
  /** The process we started (npm, script or node) has exited. */
  exited: boolean;
  /** Processes still running, by command line. */
  running: string[];
  readyzAnswers: boolean;
  postgresRunning: boolean;
}

export function stopped(): Remains {
  return { exited: true, running: [], readyzAnswers: false, postgresRunning: false };
}

/**
 * Polls until the started process has exited, none of `processes` and not the postmaster runs, and /readyz
 * (when there is a server) no longer answers; or until `withinMs` from `since`. Returns what remains and when
 * it was last seen otherwise.
 */
export async function waitUntilStopped(
  started: MailroomProcess,
  processes: Seen[],
  pgServer: Seen,
  readyz: string | undefined,
  since: number,
  withinMs: number,
): Promise<{ remains: Remains; ms: number }> {
  for (;;) {
    const remains: Remains = {
      exited: started.child.exitCode !== null || started.child.signalCode !== null,
      running: processes.filter(alive).map((p) => `${p.pid} ${p.command}`),
      readyzAnswers: readyz ? await answers(readyz) : false,
      postgresRunning: alive(pgServer),
    };
    const ms = Date.now() - since;
    const done = remains.exited && remains.running.length === 0 && !remains.readyzAnswers && !remains.postgresRunning;
    if (done || ms > withinMs) return { remains, ms };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function ownerClient(s: Setting): pg.Client {
  const credentials = JSON.parse(fs.readFileSync(path.join(s.dataDir, "credentials.json"), "utf8")) as { owner: string };
  const client = new pg.Client({
    connectionString: `postgres://mailroom:${encodeURIComponent(credentials.owner)}@127.0.0.1:${s.pgPort}/mailroom`,
  });
  // Mailroom stops the database under this connection: that is expected.
  client.on("error", () => undefined);
  return client;
}

/** Sends a signal; false when the process is gone already. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Kills whatever a test left running and removes its data directories. */
export async function cleanUp(): Promise<void> {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  }
  const postmasters: Seen[] = [];
  for (const p of watched.splice(0)) {
    if (!alive(p)) continue;
    const postgres = /postgres/.test(p.command) && !/src\/cli\.ts/.test(p.command);
    if (postgres) postmasters.push(p);
    signal(p.pid, postgres ? "SIGQUIT" : "SIGKILL");
  }
  for (const s of settings) {
    const pidFile = path.join(s.dataDir, "pg/data/postmaster.pid");
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
    const seen = pid ? see(pid) : undefined;
    if (seen && /postgres/.test(seen.command)) {
      postmasters.push(seen);
      signal(pid, "SIGQUIT");
    }
  }
  const deadline = Date.now() + 10_000;
  while (postmasters.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const p of postmasters.filter(alive)) signal(p.pid, "SIGKILL");
  for (const s of settings.splice(0)) fs.rmSync(s.dataDir, { recursive: true, force: true });
}
