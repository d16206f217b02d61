// SIGHUP: the terminal Mailroom runs in is closed (or its SSH session drops). The kernel sends SIGHUP to every
// process of the terminal's foreground job; npm does not handle it. Everything must stop within
// SHUTDOWN_TIMEOUT_MS, the embedded PostgreSQL included, although the terminal that took the logs is gone.
import { afterEach, describe, expect, test } from "vitest";
import { getJson, runMailroom, runNpm } from "../helpers/process.ts";
import { cleanUp, nodeProcesses, postmaster, setting, signal, stopped, track, tree, waitUntilStopped } from "../helpers/stopping.ts";

const STOP_MS = 5000;

afterEach(cleanUp);

describe("SIGHUP stops everything, PostgreSQL included, within SHUTDOWN_TIMEOUT_MS", () => {
  test("npm start on a terminal, and the terminal is closed", async () => {
    const s = await setting();
    // script(1) runs the command on a pseudo-terminal of its own and copies what it prints to its output; killed,
    // it closes the terminal's master side, as a terminal window closed or an SSH connection lost does.
    const p = track(
      runNpm("start", [], { ...s.env, SHUTDOWN_TIMEOUT_MS: String(STOP_MS), LOG_FORMAT: "pretty", SHELL: "/bin/sh" }, {
        command: ["script", "-qfe", "--log-out", "/dev/null", "-c"], // no typescript file left behind
      }),
    );
    await p.waitFor(/Mailroom is ready/, 90_000);
    const processes = tree(p.child.pid!);
    expect(nodeProcesses(processes)).toHaveLength(1);
    const readyz = `http://127.0.0.1:${s.port}/readyz`;
    expect((await getJson(readyz)).status).toBe(200);
    const pgServer = postmaster(s);

    const since = Date.now();
    signal(p.child.pid!, "SIGKILL");
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, readyz, since, STOP_MS);
    expect(remains, `${ms} ms after the terminal closed; output:\n${p.output()}`).toEqual(stopped());
  });

  test.each(["start", "server", "worker"])("node src/cli.ts %s, SIGHUP", async (command) => {
    const s = await setting();
    const p = track(runMailroom([command], { ...s.env, SHUTDOWN_TIMEOUT_MS: String(STOP_MS) }));
    await p.waitFor(/Mailroom is ready/, 90_000);
    const readyz = command === "worker" ? undefined : `http://127.0.0.1:${s.port}/readyz`;
    const pgServer = postmaster(s);
    const processes = tree(p.child.pid!);

    const since = Date.now();
    signal(p.child.pid!, "SIGHUP");
    const { remains, ms } = await waitUntilStopped(p, processes, pgServer, readyz, since, STOP_MS);
    expect(remains, `${ms} ms after SIGHUP; output:\n${p.output()}`).toEqual(stopped());
    expect(await p.exited).toBe(0);
  });
});
