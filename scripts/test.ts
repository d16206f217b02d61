// npm test: the type check, the whole vitest suite on the embedded PostgreSQL, and the SQL suite
// (migrations and sql-tests/) again on PostgreSQL 15 when its binaries are present. Ends with one
// line "N passed, N failed" counting every test of every part.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../src/db/migrate.ts";

const PG15_BIN = process.env.MAILROOM_TEST_PG15_BIN || "/usr/lib/postgresql/15/bin";
const bin = (name: string) => path.join(projectRoot, "node_modules/.bin", name);
let passed = 0;
let failed = 0;

function step(title: string, command: string, args: string[], env: Record<string, string> = {}): number {
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { stdio: "inherit", cwd: projectRoot, env: { ...process.env, ...env } });
  return result.status ?? 1;
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

vitest("tests on the embedded PostgreSQL", []);

if (fs.existsSync(path.join(PG15_BIN, "postgres"))) {
  vitest("SQL suite and migrations on PostgreSQL 15", ["test/sql-tests.test.ts", "test/migrations.test.ts"], {
    MAILROOM_TEST_PG_BIN: PG15_BIN,
  });
} else {
  console.log(`\n=== PostgreSQL 15 is not installed at ${PG15_BIN}: the SQL suite ran on the embedded version only`);
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
