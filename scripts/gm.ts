// Runs the graphile-migrate CLI (commit, uncommit, watch, reset, status) against the embedded
// database, or against DATABASE_URL / SHADOW_DATABASE_URL / ROOT_DATABASE_URL when set.
//   npm run gm -- commit --message "what it does"
import { spawn } from "node:child_process";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/database.ts";
import { projectRoot } from "../src/db/migrate.ts";
import { createLog } from "../src/log.ts";

const config = loadConfig();
const log = createLog(config.logLevel, config.logFormat);
const database = await openDatabase(config, log);
const env: Record<string, string | undefined> = { ...process.env };
if (database.embedded) {
  const shadow = new URL(database.ownerUrl);
  shadow.pathname = `${shadow.pathname}_shadow`;
  const root = new URL(database.embedded.superuserUrl);
  root.pathname = "/template1";
  env.DATABASE_URL = database.ownerUrl;
  env.SHADOW_DATABASE_URL = shadow.toString();
  env.ROOT_DATABASE_URL = root.toString();
}
env.DATABASE_AUTHENTICATOR = database.roles.authenticator;
env.DATABASE_ADMIN = database.roles.admin;
env.DATABASE_READONLY = database.roles.readonly;
const child = spawn(path.join(projectRoot, "node_modules/.bin/graphile-migrate"), process.argv.slice(2), {
  stdio: "inherit",
  env,
  cwd: projectRoot,
});
const code: number = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
await database.stop();
process.exit(code);
