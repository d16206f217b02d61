// Runs every sql-tests/*.sql file as one test, inside a transaction that is rolled back. A failing
// ASSERT or RAISE fails the file's test with file:line and the message.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, inject, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { splitSqlStatements } from "./helpers/sql-script.ts";

const dir = path.resolve(import.meta.dirname, "../sql-tests");
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface PgError extends Error {
  where?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

/** The line in the file: the statement's line plus the line inside a DO block or function, when known. */
function errorLine(statement: { sql: string; line: number }, error: PgError): number {
  const inBlock = /inline_code_block line (\d+)/.exec(error.where ?? "");
  if (inBlock) {
    const bodyStart = statement.sql.slice(0, statement.sql.search(/\$[A-Za-z_]*\$/)).split("\n").length - 1;
    return statement.line + bodyStart + Number(inBlock[1]) - 1;
  }
  if (error.position) {
    return statement.line + statement.sql.slice(0, Number(error.position) - 1).split("\n").length - 1;
  }
  return statement.line;
}

describe(`SQL behaviour tests (PostgreSQL ${inject("pgVersion")})`, () => {
  test.each(files)("%s", async (file) => {
    const script = fs.readFileSync(path.join(dir, file), "utf8");
    const client = await db.pool.connect();
    try {
      await client.query("begin");
      for (const statement of splitSqlStatements(script)) {
        try {
          await client.query(statement.sql);
        } catch (error) {
          const e = error as PgError;
          const line = errorLine(statement, e);
          const extra = [e.detail, e.hint].filter(Boolean).join("; ");
          const failure = new Error(`sql-tests/${file}:${line}: ${e.message}${extra ? ` (${extra})` : ""}`);
          failure.stack = failure.message;
          throw failure;
        }
      }
    } finally {
      await client.query("rollback").catch(() => undefined);
      client.release();
    }
  });
});
