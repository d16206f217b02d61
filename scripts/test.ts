// npm test: the type check, the whole vitest suite on the embedded PostgreSQL, and the SQL suite
// (migrations and sql-tests/) again on PostgreSQL 15 when its binaries are present. Ends with one
// line "N passed, N failed" counting every test of every part. The browser tests need Chromium: found
// (or, as root with apt-get, installed from Debian) before vitest runs and passed in MAILROOM_CHROMIUM;
// without it they fail with the reason, given in MAILROOM_CHROMIUM_MISSING (test/helpers/browser.ts).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../src/db/migrate.ts";
import { findChromium } from "../test/helpers/browser.ts";

const PG15_BIN = process.env.MAILROOM_TEST_PG15_BIN || "/usr/lib/postgresql/15/bin";
const bin = (name: string) => path.join(projectRoot, "node_modules/.bin", name);
let passed = 0;
let failed = 0;

function step(title: string, command: string, args: string[], env: Record<string, string> = {}): number {
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { stdio: "inherit", cwd: projectRoot, env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, name)));
}

/** apt-get, quietly: its output is printed only when it fails. */
function aptGet(args: string[]): { ok: boolean; why: string } {
  const result = spawnSync("apt-get", args, {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status === 0) return { ok: true, why: "" };
  process.stdout.write(`${result.stdout ?? ""}${result.stderr ?? ""}`.split("\n").slice(-20).join("\n"));
  const why = result.error ? result.error.message : result.signal ? `killed by ${result.signal}` : `exit ${result.status}`;
  return { ok: false, why: `apt-get ${args[0] === "update" ? "update" : "install chromium"} failed (${why})` };
}

/** The environment for vitest: MAILROOM_CHROMIUM, or MAILROOM_CHROMIUM_MISSING with the reason. */
function chromium(): Record<string, string> {
  console.log("\n=== Chromium for the browser tests");
  let found = findChromium();
  if ("missing" in found && !process.env.MAILROOM_CHROMIUM) {
    if (process.getuid?.() !== 0) {
      // found.missing already says how to get it, and that npm test installs it only as root.
    } else if (!onPath("apt-get")) {
      found = { missing: `${found.missing} (there is no apt-get here)` };
    } else {
      console.log("installing Chromium for the browser tests (apt-get install chromium)");
      const started = Date.now();
      const update = aptGet(["update", "-q"]);
      const install = aptGet(["install", "-y", "-q", "--no-install-recommends", "chromium"]);
      found = findChromium();
      if ("path" in found) console.log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      else if (!install.ok) found = { missing: `Chromium could not be installed: ${[update, install].filter((r) => !r.ok).map((r) => r.why).join("; ")}` };
      else found = { missing: `Chromium is still not found after apt-get install chromium succeeded` };
    }
  }
  if ("missing" in found) {
    console.log(`Chromium is missing, the browser tests will fail: ${found.missing}`);
    return { MAILROOM_CHROMIUM_MISSING: found.missing };
  }
  const version = spawnSync(found.path, ["--version"], { encoding: "utf8", timeout: 30_000 }).stdout?.trim();
  console.log(`${found.path}${version ? ` (${version})` : ""}`);
  return { MAILROOM_CHROMIUM: found.path };
}

function vitest(title: string, files: string[], env: Record<string, string> = {}) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-vitest-")), "report.json");
  const status = step(title, bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...files], env);
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; numFailedTestSuites: number };
    passed += r.numPassedTests;
    failed += r.numFailedTests + (status !== 0 && r.numFailedTests === 0 ? Math.max(1, r.numFailedTestSuites) : 0);
  } else if (status !== 0) {
    failed += 1;
  }
}

if (step("type check (tsc --noEmit)", bin("tsc"), ["--noEmit"]) === 0) passed += 1;
else failed += 1;

const browserEnv = chromium();

vitest("tests on the embedded PostgreSQL", [], browserEnv);

if (fs.existsSync(path.join(PG15_BIN, "postgres"))) {
  vitest("SQL suite and migrations on PostgreSQL 15", ["test/sql-tests.test.ts", "test/migrations.test.ts"], {
    MAILROOM_TEST_PG_BIN: PG15_BIN,
  });
} else {
  console.log(`\n=== PostgreSQL 15 is not installed at ${PG15_BIN}: the SQL suite ran on the embedded version only`);
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
