// A stop with work in progress: a job that runs on (blocked on a lock) and a webhook request whose body is still
// arriving. The HTTP server and the worker wait for them together, within one deadline, and then PostgreSQL
// stops: the whole stop takes at most SHUTDOWN_TIMEOUT_MS. A second signal cuts the wait short but still stops
// PostgreSQL; so does an error nothing caught.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { runMailroom, runNpm } from "../helpers/process.ts";
import {
  alive,
  cleanUp,
  nodeProcesses,
  ownerClient,
  postmaster,
  setting,
  signal,
  stopped,
  track,
  tree,
  waitUntilStopped,
  type Setting,
} from "../helpers/stopping.ts";

const SECRET = "shutdown-test-webhook-secret";

afterEach(cleanUp);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a job that cannot finish while the returned lock is held (the retention task, whose statements need
 * raw_events), and a webhook request whose body never ends.
 */
async function workInProgress(s: Setting) {
  const locker = ownerClient(s);
  await locker.connect();
  await locker.query("begin");
  await locker.query("lock table app_public.raw_events in access exclusive mode");
  const client = ownerClient(s);
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    "select id from graphile_worker.add_job('remove_raw_event_payloads', json_build_object('retentionDays', 1))",
  );
  for (let i = 0; ; i++) {
    const running = await client.query("select 1 from graphile_worker.jobs where id = $1 and locked_at is not null", [rows[0].id]);
    if (running.rowCount === 1) break;
    if (i > 100) throw new Error("the job did not start");
    await sleep(100);
  }
  await client.end();

  const socket = net.connect(s.port, "127.0.0.1");
  socket.on("error", () => undefined);
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `POST /webhooks/acs HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nx-webhook-key: ${SECRET}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[`,
  );
  await sleep(300); // authenticated, reading the body
  return { locker, closed, answer: () => answer };
}

describe("stopping with work in progress", () => {
  test("a running job and an open request: the stop takes at most SHUTDOWN_TIMEOUT_MS, PostgreSQL included", async () => {
    const stopMs = 4000;
    const s = await setting({ WEBHOOK_SECRETS: SECRET, SHUTDOWN_TIMEOUT_MS: String(stopMs) });
    const p = track(runMailroom(["start"], s.env));
    await p.waitFor(/Mailroom is ready/, 90_000);
    const processes = tree(p.child.pid!);
    const pgServer = postmaster(s);
    const work = await workInProgress(s);
    expect(work.answer()).toBe("");

    const since = Date.now();
    signal(p.child.pid!, "SIGTERM");
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, `http://127.0.0.1:${s.port}/readyz`, since, stopMs);
    expect(remains, `${ms} ms after SIGTERM; output:\n${p.output()}`).toEqual(stopped());
    // It did wait for the work (both at once), then released it.
    expect(ms).toBeGreaterThan(stopMs / 2);
    expect(p.output()).toMatch(/worker did not stop in time/);
    await work.closed;
  });

  test.each(["npm start", "node src/cli.ts start"])("%s: a second signal ends the wait at once and still stops PostgreSQL", async (how) => {
    const s = await setting({ WEBHOOK_SECRETS: SECRET, SHUTDOWN_TIMEOUT_MS: "30000" });
    const p = track(how === "npm start" ? runNpm("start", [], s.env) : runMailroom(["start"], s.env));
    await p.waitFor(/Mailroom is ready/, 90_000);
    const processes = tree(p.child.pid!);
    const node = nodeProcesses(processes)[0];
    const pgServer = postmaster(s);
    const work = await workInProgress(s);
    expect(work.answer()).toBe("");

    // Ctrl-C, and Ctrl-C again two seconds later.
    signal(p.child.pid!, "SIGINT");
    await sleep(2000);
    // Still waiting for the job and the request.
    expect({ node: alive(node), postgres: alive(pgServer) }).toEqual({ node: true, postgres: true });
    const since = Date.now();
    signal(p.child.pid!, "SIGINT");
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, `http://127.0.0.1:${s.port}/readyz`, since, 3000);
    expect(remains, `${ms} ms after the second signal; output:\n${p.output()}`).toEqual(stopped());
  });
});

describe("an error nothing caught", () => {
  test.each([
    ["an uncaught exception", "setImmediate(() => { throw new Error('injected uncaught exception'); })"],
    ["an unhandled rejection", "void Promise.reject(new Error('injected unhandled rejection'))"],
  ])("%s: the process exits with 1 and PostgreSQL is stopped", async (_, fault) => {
    const stopMs = 5000;
    const s = await setting({ SHUTDOWN_TIMEOUT_MS: String(stopMs) });
    // Injected from outside: on SIGUSR2 the process fails as a bug would.
    const inject = path.join(s.dataDir, "fail-on-sigusr2.mjs");
    fs.writeFileSync(inject, `process.on("SIGUSR2", () => { ${fault}; });\n`);
    const p = track(runMailroom(["start"], { ...s.env, NODE_OPTIONS: `--import=${inject}` }));
    await p.waitFor(/Mailroom is ready/, 90_000);
    const processes = tree(p.child.pid!);
    const pgServer = postmaster(s);

    const since = Date.now();
    signal(p.child.pid!, "SIGUSR2");
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, `http://127.0.0.1:${s.port}/readyz`, since, stopMs);
    expect(remains, `${ms} ms after the error; output:\n${p.output()}`).toEqual(stopped());
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/injected/);
  });
});
