// Stopping Mailroom started through npm, as a supervisor (Docker, systemd, Kubernetes) or a user does: the signal
// goes to npm's process. Everything must stop within SHUTDOWN_TIMEOUT_MS: npm, the node process under it, the
// HTTP server and the embedded PostgreSQL.
import { afterEach, describe, expect, test } from "vitest";
import { getJson, runNpm } from "../helpers/process.ts";
import { cleanUp, nodeProcesses, postmaster, setting, signal, stopped, track, tree, waitUntilStopped, type Setting } from "../helpers/stopping.ts";

const STOP_MS = 5000;

afterEach(cleanUp);

async function startNpm(script: string, s: Setting) {
  const p = track(runNpm(script, [], { ...s.env, SHUTDOWN_TIMEOUT_MS: String(STOP_MS) }));
  await p.waitFor(/Mailroom is ready/, 90_000);
  const processes = tree(p.child.pid!);
  expect(nodeProcesses(processes).map((n) => n.command)).toHaveLength(1);
  const readyz = script === "worker" ? undefined : `http://127.0.0.1:${s.port}/readyz`;
  if (readyz) expect((await getJson(readyz)).status).toBe(200);
  return { p, processes, pgServer: postmaster(s), readyz };
}

describe("a signal to npm's process stops everything, PostgreSQL included, within SHUTDOWN_TIMEOUT_MS", () => {
  test.each([
    ["start", "SIGTERM"],
    ["start", "SIGINT"],
    ["server", "SIGTERM"],
    ["server", "SIGINT"],
    ["worker", "SIGTERM"],
    ["worker", "SIGINT"],
  ] as const)("npm %s, %s", async (script, name) => {
    const s = await setting();
    const { p, processes, pgServer, readyz } = await startNpm(script, s);
    const since = Date.now();
    signal(p.child.pid!, name);
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, readyz, since, STOP_MS);
    expect(remains, `${ms} ms after ${name}; output:\n${p.output()}`).toEqual(stopped());
    expect(await p.exited).toBe(0);
  });

  // npm passes on SIGINT and SIGTERM only: SIGHUP (or SIGKILL) ends npm at once. Mailroom, left without the npm
  // that started it, stops by itself rather than run on with nobody to stop it.
  test.each(["SIGHUP", "SIGKILL"] as const)("npm start, %s to npm alone", async (name) => {
    const s = await setting();
    const { p, processes, pgServer, readyz } = await startNpm("start", s);
    const since = Date.now();
    signal(p.child.pid!, name);
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, readyz, since, STOP_MS);
    expect(remains, `${ms} ms after ${name}; output:\n${p.output()}`).toEqual(stopped());
  });
});
