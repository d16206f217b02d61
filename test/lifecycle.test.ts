// The embedded database's life as a user meets it: first start, restart, crashes, a second
// process, a busy port, a bad setting; and /healthz and /readyz throughout.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { freePort, getJson, runMailroom, stopProcesses, type MailroomProcess } from "./helpers/process.ts";
import { dropDatabase, superuserQuery } from "./helpers/database.ts";
import { testClient } from "./helpers/pg.ts";
import { inject } from "vitest";
import { withCredentials } from "../src/db/roles.ts";
import { TEST_PASSWORDS } from "./setup/global-setup.ts";

const running: MailroomProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await stopProcesses(running);
  for (const dir of dirs.splice(0)) {
    // A test that killed Mailroom may have left its PostgreSQL running: stop it before removing the files.
    const pidFile = path.join(dir, "pg/data/postmaster.pid");
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        // not running
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// PORT 0: the HTTP server listens on a port of the system's choosing, read back with urlOf. The embedded
// database's port must be chosen beforehand, and another program (another test run beside this one) may
// take it meanwhile: start() then chooses again.
async function setting() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-lifecycle-"));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return { MAILROOM_DATA_DIR: dir, PORT: "0", EMBEDDED_PG_PORT: String(await freePort()) };
}

async function start(env: Record<string, string>): Promise<MailroomProcess> {
  for (let attempt = 1; ; attempt++) {
    const p = runMailroom(["start"], env);
    running.push(p);
    try {
      await p.waitFor(/Mailroom is ready/, 90_000);
      return p;
    } catch (error) {
      if (attempt >= 3 || !p.output().includes(`port ${env.EMBEDDED_PG_PORT} on 127.0.0.1 is in use by another program`)) throw error;
      env.EMBEDDED_PG_PORT = String(await freePort());
    }
  }
}

/** The address the process's HTTP server listens on, from its "Mailroom is ready" line. */
function urlOf(p: MailroomProcess): string {
  const line = p.output().split("\n").find((l) => l.includes('"msg":"Mailroom is ready"'));
  const url = line ? (JSON.parse(line) as { url?: string }).url : undefined;
  if (!url) throw new Error(`no URL in the output:\n${p.output()}`);
  return url;
}

function ownerUrl(env: Record<string, string>): string {
  const credentials = JSON.parse(fs.readFileSync(path.join(env.MAILROOM_DATA_DIR, "credentials.json"), "utf8"));
  return `postgres://mailroom:${encodeURIComponent(credentials.owner)}@127.0.0.1:${env.EMBEDDED_PG_PORT}/mailroom`;
}

async function query(env: Record<string, string>, sql: string) {
  const client = testClient({ connectionString: ownerUrl(env) });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("embedded database lifecycle", () => {
  test("first start creates the database, a clean stop stops it, the next start reuses the data", async () => {
    const env = await setting();
    const first = await start(env);
    expect(first.output()).toMatch(/"created":true/);
    const base = urlOf(first);
    expect(await getJson(`${base}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    expect(await getJson(`${base}/readyz`)).toEqual({
      status: 200,
      body: { status: "ready", database: "ok", worker: "ok" },
    });
    await query(env, "create table app_private.kept (note text); insert into app_private.kept values ('survives a restart')");

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);
    expect(fs.existsSync(path.join(env.MAILROOM_DATA_DIR, "pg/data/postmaster.pid"))).toBe(false);

    const second = await start(env);
    expect(second.output()).toMatch(/"created":false/);
    expect((await query(env, "select note from app_private.kept")).rows).toEqual([{ note: "survives a restart" }]);
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
  });

  test("Mailroom killed with kill -9: the next start finds its PostgreSQL still running and recovers", async () => {
    const env = await setting();
    const first = await start(env);
    first.child.kill("SIGKILL");
    await first.exited;
    const orphan = Number(fs.readFileSync(path.join(env.MAILROOM_DATA_DIR, "pg/data/postmaster.pid"), "utf8").split("\n")[0]);
    expect(() => process.kill(orphan, 0)).not.toThrow();

    const second = await start(env);
    expect(second.output()).toMatch(/still running from an earlier Mailroom process/);
    expect((await getJson(`${urlOf(second)}/readyz`)).status).toBe(200);
  });

  test("PostgreSQL killed with kill -9: /readyz says 503 while it is down, the next start recovers the stale pid file", async () => {
    const env = await setting();
    const first = await start(env);
    const base = urlOf(first);
    const postmaster = Number(fs.readFileSync(path.join(env.MAILROOM_DATA_DIR, "pg/data/postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, "SIGKILL");

    const down = await eventually(() => getJson(`${base}/readyz`), (r) => r.status === 503);
    expect(down).toMatchObject({ status: 503, body: { status: "not ready", database: "unreachable" } });
    expect((await getJson(`${base}/healthz`)).status).toBe(200);
    first.child.kill("SIGTERM");
    await first.exited;
    expect(fs.existsSync(path.join(env.MAILROOM_DATA_DIR, "pg/data/postmaster.pid"))).toBe(true);

    const second = await start(env);
    expect(second.output()).toMatch(/stale postmaster.pid/);
    expect((await getJson(`${urlOf(second)}/readyz`)).status).toBe(200);
  });

  test("a second Mailroom on the same data directory says clearly that the first is running", async () => {
    const env = await setting();
    const first = await start(env);
    const second = runMailroom(["start"], env);
    running.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`already in use by another Mailroom process (pid ${first.child.pid})`);
    expect((await getJson(`${urlOf(first)}/readyz`)).status).toBe(200);
  });

  test("the embedded database's port taken by another program: a clear message naming the port and the setting", async () => {
    const env = await setting();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    env.EMBEDDED_PG_PORT = String((blocker.address() as net.AddressInfo).port);
    try {
      const p = runMailroom(["start"], env);
      running.push(p);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`port ${env.EMBEDDED_PG_PORT} on 127.0.0.1 is in use by another program`);
      expect(p.output()).toContain("EMBEDDED_PG_PORT");
    } finally {
      blocker.close();
    }
  });

  test("a bad setting stops start-up with one clear line and exit code 2", async () => {
    const env = await setting();
    const p = runMailroom(["start"], { ...env, WORKER_CONCURRENCY: "lots" });
    running.push(p);
    expect(await p.exited).toBe(2);
    expect(p.output().trim()).toBe('Invalid configuration: WORKER_CONCURRENCY="lots"; expected an integer from 1 to 256.');
  });

  test("several processes started at once on an empty database: one migrates, the others wait, all become ready", async () => {
    const name = `concurrent_${Date.now()}`;
    await superuserQuery(`create database ${name} owner mailroom`);
    try {
      const databaseUrl = withCredentials(inject("superuserUrl"), "mailroom", TEST_PASSWORDS.owner, name);
      const processes = await Promise.all(
        [0, 1, 2].map(async () => {
          const p = runMailroom(["server"], {
            DATABASE_URL: databaseUrl,
            DATABASE_AUTHENTICATOR: "mailroom_authenticator",
            DATABASE_ADMIN: "mailroom_admin",
            DATABASE_READONLY: "mailroom_readonly",
            PORT: "0",
          });
          running.push(p);
          return p;
        }),
      );
      await Promise.all(processes.map((p) => p.waitFor(/Mailroom is ready/, 120_000)));
      // Exactly one process ran the migrations; the others found them applied (after waiting, if they came
      // while it was running).
      const migrated = processes.filter((p) => /"migrations":[1-9]/.test(p.output()));
      expect(migrated.length).toBe(1);
      for (const p of processes) {
        p.child.kill("SIGTERM");
        expect(await p.exited).toBe(0);
      }
    } finally {
      await dropDatabase(name);
    }
  });

  test("a command run beside a running Mailroom uses its embedded database instead of refusing", async () => {
    const env = await setting();
    const url = urlOf(await start(env));
    const command = runMailroom(["api-key", "create", "--role", "analyst", "--name", "beside"], env);
    running.push(command);
    expect(await command.exited).toBe(0);
    // Commands log warnings only (the attach is said at info level): the proof is that the key works below.
    expect(command.output()).not.toMatch(/is in use|another Mailroom/);
    const key = /^(mrk_\S+)$/m.exec(command.output())?.[1];
    expect(key).toBeDefined();
    // The key the command created works on the running server, which is still ready.
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ allCampaigns { totalCount } }" }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect((await getJson(`${url}/readyz`)).status).toBe(200);
  });
});
