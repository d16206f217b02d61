// docs/dba.md as a DBA follows it against the embedded server: the superuser's credentials from `mailroom db-env`
// (or credentials.json) create a login with the read-only role; the owner may not create roles; the read-only login
// reads and is refused recompute with the error the doc shows; and the doc's table of who may run which function is
// what the database grants.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { freePort, runMailroom, stopProcesses, type MailroomProcess } from "./helpers/process.ts";
import { testClient } from "./helpers/pg.ts";

const running: MailroomProcess[] = [];
let dir: string | undefined;

afterAll(async () => {
  await stopProcesses(running);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const doc = fs.readFileSync(path.join(projectRoot, "docs/dba.md"), "utf8");

/** The fenced block of the given language in docs/dba.md that contains `marker`. */
function block(language: string, marker: string): string {
  const found = [...doc.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!).find((b) => b.includes(marker));
  if (!found) throw new Error(`no ${language} block with ${marker} in docs/dba.md`);
  return found;
}

/** The table under "Which functions each role may run": function name -> [admin, readonly]. */
function documentedGrants(): Map<string, [boolean, boolean]> {
  const section = doc.slice(doc.indexOf("### Which functions each role may run"));
  const grants = new Map<string, [boolean, boolean]>();
  for (const row of section.split("\n").filter((l) => /^\| `/.test(l))) {
    const [what, admin, readonly] = row.split("|").slice(1, 4).map((c) => c.trim());
    for (const name of [...what!.matchAll(/`([a-z_]+)(?:\(|`)/g)].map((m) => m[1]!)) {
      grants.set(name, [admin === "yes", readonly === "yes"]);
    }
  }
  return grants;
}

async function query(url: string, sql: string, params: unknown[] = []) {
  const client = testClient({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

test("docs/dba.md, run against the embedded server: roles, refusals and the table of functions", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailroom-dba-"));
  fs.chmodSync(dir, 0o755);
  let env: Record<string, string> = {};
  let mailroom: MailroomProcess | undefined;
  for (let attempt = 1; !mailroom; attempt++) {
    env = { MAILROOM_DATA_DIR: dir, PORT: "0", EMBEDDED_PG_PORT: String(await freePort()) };
    const p = runMailroom(["start"], env);
    running.push(p);
    try {
      await p.waitFor(/Mailroom is ready/, 90_000);
      mailroom = p;
    } catch (error) {
      if (attempt >= 3 || !p.output().includes("is in use by another program")) throw error;
    }
  }
  const port = env.EMBEDDED_PG_PORT;

  // `mailroom db-env` beside it prints the superuser's URL on stdout, nothing else, and keeps running.
  const dbEnv = runMailroom(["db-env"], env);
  running.push(dbEnv);
  let stdout = "";
  dbEnv.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  await dbEnv.waitFor(/export DATABASE_READONLY=/, 30_000);
  // Its logs (it uses the running Mailroom's database) go to stderr: stdout is what a shell may source.
  expect(stdout.split("\n").filter((l) => l !== "")).toEqual(expect.arrayContaining([expect.stringMatching(/^export ROOT_DATABASE_URL=/)]));
  expect(stdout.split("\n").filter((l) => l !== "" && !l.startsWith("export "))).toEqual([]);
  expect(dbEnv.output()).toContain("using the embedded PostgreSQL of the running Mailroom");
  const printed = stdout;
  const rootUrl = new URL(/^export ROOT_DATABASE_URL='([^']+)'$/m.exec(dbEnv.output())![1]!);
  expect(rootUrl.username).toBe("postgres");
  const credentials = JSON.parse(fs.readFileSync(path.join(dir, "credentials.json"), "utf8")) as Record<string, string>;
  expect(decodeURIComponent(rootUrl.password)).toBe(credentials.superuser);

  // The doc's connection as the superuser (the password from credentials.json, as its command line reads it).
  expect(block("sh", "credentials.json")).toContain(`psql "postgres://postgres:$(node -p "require('./.data/credentials.json').superuser")@127.0.0.1:54320/mailroom"`);
  const superuser = `postgres://postgres:${encodeURIComponent(credentials.superuser!)}@127.0.0.1:${port}/mailroom`;
  const owner = `postgres://mailroom:${encodeURIComponent(credentials.owner!)}@127.0.0.1:${port}/mailroom`;

  // The owner may not create roles: the error the doc quotes.
  await expect(query(owner, "create role bob login")).rejects.toThrow("permission denied to create role");

  // The superuser runs the doc's statements; alice logs in with the doc's password and reads.
  const statements = block("sql", "create role alice");
  await query(superuser, statements);
  const password = /password '([^']+)'/.exec(statements)![1]!;
  const alice = `postgres://alice:${encodeURIComponent(password)}@127.0.0.1:${port}/mailroom`;
  expect((await query(alice, "select count(*)::int as n from app_public.campaign_stats")).rows).toEqual([{ n: 0 }]);
  await expect(query(alice, "insert into app_public.lists (name, opt_in) values ('x', 'single')")).rejects.toThrow(
    "permission denied for table lists",
  );

  // Recompute: refused to the read-only login with the doc's error and code 42501; the computation alone allowed.
  await query(owner, `insert into app_public.senders (name, from_address) values ('News', 'news@example.com');
    insert into app_public.campaigns (name, sender_id) select 'C', id from app_public.senders`);
  const { rows: campaigns } = await query(owner, "select id from app_public.campaigns");
  const refusal = await query(alice, "select * from app_public.recompute_campaign_rollup($1)", [campaigns[0].id]).catch((e: Error & { code?: string }) => e);
  expect(refusal).toMatchObject({ code: "42501", message: "permission denied for function recompute_campaign_rollup" });
  expect(doc).toContain("ERROR:  permission denied for function recompute_campaign_rollup");
  expect((await query(alice, "select recipients from app_public.campaign_rollup_from_events($1)", [campaigns[0].id])).rows).toHaveLength(1);

  // The doc's table is what the database grants, for every function in app_public.
  const { rows } = await query(
    superuser,
    `select p.proname as name, bool_and(has_function_privilege('mailroom_admin', p.oid, 'execute')) as admin,
            bool_and(has_function_privilege('mailroom_readonly', p.oid, 'execute')) as readonly
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'app_public' and p.prokind = 'f' group by p.proname order by p.proname`,
  );
  const documented = documentedGrants();
  expect(Object.fromEntries(rows.map((r) => [r.name, [r.admin, r.readonly]]))).toEqual(Object.fromEntries([...documented].sort()));

  // db-env is still running after all this, and printed nothing more; it stops on a signal, leaving Mailroom's database.
  expect(dbEnv.child.exitCode).toBeNull();
  expect(stdout).toBe(printed);
  dbEnv.child.kill("SIGTERM");
  expect(await dbEnv.exited).toBe(0);
  expect((await query(alice, "select 1 as one")).rows).toEqual([{ one: 1 }]);
}, 180_000);
