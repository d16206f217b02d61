// What a person or a script sees without a terminal when LOG_FORMAT is not set: a one-shot command writes readable
// lines (no JSON, no colours) to stderr and only its result to stdout; the long-running server writes JSON lines to
// stdout for log collectors.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { defaultLogFormat, isLongRunningCommand } from "../src/log.ts";
import { freePort } from "./helpers/process.ts";

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

const dirs: string[] = [];
const children: ReturnType<typeof spawn>[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function dataDirEnv(): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-log-format-"));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return { MAILROOM_DATA_DIR: dir, EMBEDDED_PG_PORT: String(await freePort()), PORT: "0" };
}

/** The environment of a person's shell: no LOG_FORMAT, no LOG_LEVEL, and stdout and stderr apart (pipes, no terminal). */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const { LOG_FORMAT: _format, LOG_LEVEL: _level, NODE_ENV: _nodeEnv, ...rest } = process.env;
  return { ...rest, ...env };
}

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(projectRoot, "src/cli.ts"), ...args], {
    cwd: projectRoot,
    env: environment(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const run: Run = { stdout: "", stderr: "", code: null };
  child.stdout.on("data", (chunk: Buffer) => (run.stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (run.stderr += chunk.toString("utf8")));
  const exited = new Promise<Run>((resolve) =>
    child.on("close", (code) => {
      run.code = code;
      resolve(run);
    }),
  );
  return { child, run, exited };
}

const lines = (text: string) => text.split("\n").filter((l) => l !== "");
// pino-pretty's readable line: "[12:34:56.789] WARN: message {fields}".
const READABLE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): /;

describe("LOG_FORMAT unset, no terminal", () => {
  test("the default: readable for one-shot commands, JSON for the long-running ones off a terminal", () => {
    expect(isLongRunningCommand(["campaign-status", "1"])).toBe(false);
    expect(isLongRunningCommand(["lists", "list"])).toBe(false);
    expect(isLongRunningCommand(["migrate"])).toBe(false);
    for (const command of ["start", "server", "worker", "demo", "db-env", "sandbox"]) expect(isLongRunningCommand([command])).toBe(true);
    expect(isLongRunningCommand([])).toBe(true);
    expect(defaultLogFormat({ longRunning: false, terminal: false, production: true })).toBe("pretty");
    expect(defaultLogFormat({ longRunning: true, terminal: false, production: false })).toBe("json");
    expect(defaultLogFormat({ longRunning: true, terminal: true, production: false })).toBe("pretty");
    expect(defaultLogFormat({ longRunning: true, terminal: true, production: true })).toBe("json");
  });

  test("a one-shot command: its result alone on stdout, a warning as a readable line on stderr", async () => {
    const env = await dataDirEnv();
    // A lock left by a process that is gone: the command removes it and warns.
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => gone.on("exit", resolve));
    fs.mkdirSync(path.join(env.MAILROOM_DATA_DIR, "pg"), { recursive: true });
    fs.writeFileSync(path.join(env.MAILROOM_DATA_DIR, "pg/owner.pid"), `${gone.pid}\n`);

    const { exited } = start(["migrate"], env);
    const run = await exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    const err = lines(run.stderr);
    expect(err.filter((l) => l.startsWith("{"))).toEqual([]);
    expect(run.stderr).not.toContain("\u001b["); // no colours off a terminal
    expect(err.every((l) => READABLE.test(l))).toBe(true);
    expect(err.some((l) => l.includes(`WARN: removing a stale lock left by Mailroom process ${gone.pid}`))).toBe(true);
    expect(err.some((l) => /INFO: database migrated: \d+ migrations and \d+ SQL files applied/.test(l))).toBe(true);

    // A command with a result: stdout is exactly that result, parseable by a script.
    const list = await start(["api-key", "list", "--json"], env).exited;
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(expect.anything());
    expect(lines(list.stderr).filter((l) => !READABLE.test(l))).toEqual([]);
  });

  test("LOG_FORMAT=json still gives JSON to a one-shot command", async () => {
    const env = await dataDirEnv();
    const run = await start(["migrate"], { ...env, LOG_FORMAT: "json" }).exited;
    expect(run.code).toBe(0);
    const err = lines(run.stderr);
    expect(err.length).toBeGreaterThan(0);
    expect(err.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain("migrations applied");
  });

  test("the long-running server: JSON lines on stdout for a log collector", async () => {
    const env = await dataDirEnv();
    const server = start(["start"], env);
    await new Promise<void>((resolve, reject) => {
      const check = () => (server.run.stdout.includes("Mailroom is ready") ? resolve() : undefined);
      server.child.stdout!.on("data", check);
      server.exited.then((r) => reject(new Error(`exited: ${r.stdout}${r.stderr}`)));
    });
    server.child.kill("SIGTERM");
    const run = await server.exited;
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out.length).toBeGreaterThan(3);
    for (const line of out) expect(() => JSON.parse(line)).not.toThrow();
    expect(out.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain("Mailroom is ready");
  }, 90_000);
});
