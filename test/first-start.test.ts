// The first start as a newcomer meets it: one line says what the migrations did (the detail only at debug level),
// and a busy HTTP port stops start-up at once, before the database is created.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { projectRoot, sqlSourceFiles } from "../src/db/migrate.ts";
import { freePort, runMailroom, stopProcesses, type MailroomProcess } from "./helpers/process.ts";

const running: MailroomProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await stopProcesses(running);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function emptyDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-first-start-"));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

/** `mailroom <args>` until it prints `pattern`; another embedded PostgreSQL port when the chosen one was taken. */
async function run(args: string[], env: Record<string, string>, pattern: RegExp): Promise<MailroomProcess> {
  for (let attempt = 1; ; attempt++) {
    const p = runMailroom(args, env);
    running.push(p);
    try {
      await p.waitFor(pattern, 90_000);
      return p;
    } catch (error) {
      if (attempt >= 3 || !p.output().includes(`port ${env.EMBEDDED_PG_PORT} on 127.0.0.1 is in use by another program`)) throw error;
      env.EMBEDDED_PG_PORT = String(await freePort());
    }
  }
}

/** The JSON log lines of the output. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Log lines about migrations: graphile-migrate's and graphile-worker's own, and Mailroom's. */
function aboutMigrations(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((l) => l.component === "migrate" || l.component === "worker-schema" || /migrat|migrations\/sql/i.test(String(l.msg)));
}

const committedMigrations = fs.readdirSync(path.join(projectRoot, "migrations/committed")).filter((f) => f.endsWith(".sql")).length;

describe("first start", () => {
  test("one line says what the migrations did; a later start says nothing about them", async () => {
    const env = { MAILROOM_DATA_DIR: emptyDataDir(), PORT: "0", EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await run(["start"], env, /Mailroom is ready/);
    const lines = aboutMigrations(logLines(first.output()));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, migrations: committedMigrations, sqlFiles: sqlSourceFiles().length });
    expect(String(lines[0].msg)).toMatch(
      new RegExp(`^database migrated: ${committedMigrations} migrations and ${sqlSourceFiles().length} SQL files applied in \\d+\\.\\d s$`),
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const second = await run(["start"], env, /Mailroom is ready/);
    expect(aboutMigrations(logLines(second.output()))).toEqual([]);
  });

  test("LOG_LEVEL=debug shows each migration", async () => {
    const env = { MAILROOM_DATA_DIR: emptyDataDir(), EMBEDDED_PG_PORT: String(await freePort()), LOG_LEVEL: "debug" };
    const migrate = await run(["migrate"], env, /migrations applied/);
    expect(await migrate.exited).toBe(0);
    const lines = aboutMigrations(logLines(migrate.output()));
    const each = lines.filter((l) => /^graphile-migrate: Running migration '\d{6}/.test(String(l.msg)));
    expect(each).toHaveLength(committedMigrations);
    expect(each.every((l) => l.level === 20)).toBe(true);
    expect(lines.filter((l) => String(l.msg).startsWith("database migrated:"))).toHaveLength(1);
  });

  test("a busy HTTP port stops start-up at once with a clear message, before the database is created", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = emptyDataDir();
    try {
      const p = runMailroom(["start"], { MAILROOM_DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()) });
      running.push(p);
      expect(await p.exited).toBe(1);
      expect(p.output().trim()).toBe(
        `mailroom: port ${port} on 127.0.0.1 is in use by another program; stop it, or set PORT to a free port (PORT=0 picks one)`,
      );
      // Nothing was initialised: no credentials, no PostgreSQL cluster.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
