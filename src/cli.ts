#!/usr/bin/env node
// mailroom <command>: start (everything in one process), server, worker, migrate, db-env.
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { createLog } from "./log.ts";
import { startMailroom, type MailroomOptions } from "./app.ts";

const USAGE = `Usage: mailroom <command>

Commands:
  start     migrate, then run the worker and the HTTP server in one process (default)
            --demo: also create a demo list and campaign and send it through the sandbox
            (--subscribers N, default 3000); same as: mailroom demo
  server    migrate, then run the HTTP server only
  worker    migrate, then run the worker only
  migrate   apply the committed migrations and exit
  db-env    print DATABASE_URL, SHADOW_DATABASE_URL and ROOT_DATABASE_URL for the
            embedded database (for the graphile-migrate CLI), then keep it running
  sandbox   run the local ACS Email and Event Grid emulator alone and print its
            connection string and control URL (settings: SANDBOX_*, docs/sandbox.md)
  api-key   create, list or revoke GraphQL API keys (mailroom api-key for help)
  import-subscribers --list ID|NAME FILE.csv
            import subscribers from a CSV file into a list (--help for options)
  campaign-status ID    a campaign's numbers as a table (--json for JSON)
  recompute ID          recompute a campaign's numbers from the raw events; prints what changed
  replay-unattributed   attribute the unattributed events that match a message now

Settings come from the environment; see README.md.`;

const modes: Record<string, MailroomOptions> = {
  start: { server: true, worker: true, migrate: true },
  server: { server: true, worker: false, migrate: true },
  worker: { server: false, worker: true, migrate: true },
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? "start";
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (command === "sandbox") {
    const { runSandboxCommand } = await import("./sandbox/cli.ts");
    return runSandboxCommand();
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const log = createLog(config.logLevel, config.logFormat);

  const demo = command === "demo" || (command === "start" && argv.includes("--demo"));
  const mode = demo ? modes.start : modes[command];
  if (mode) {
    let demoSubscribers = 3000;
    const demoModule = demo ? await import("./demo.ts") : undefined;
    if (demoModule) {
      if (config.acsConnectionString) {
        console.error("The demo sends to generated addresses and only through the sandbox: unset ACS_CONNECTION_STRING to run it.");
        return 2;
      }
      const i = argv.indexOf("--subscribers");
      if (i >= 0) {
        demoSubscribers = Number(argv[i + 1]);
        if (!Number.isInteger(demoSubscribers) || demoSubscribers < 1 || demoSubscribers > 1_000_000) {
          console.error(`--subscribers ${JSON.stringify(argv[i + 1] ?? "")}: expected a number of subscribers from 1 to 1000000`);
          return 2;
        }
      }
      demoModule.demoSandboxEnvironment(process.env);
    }
    const mailroom = await startMailroom(config, log, mode);
    if (mailroom.url) {
      log.info(`health: ${mailroom.url}/healthz  readiness: ${mailroom.url}/readyz  metrics: ${mailroom.url}/metrics`);
      log.info(`GraphQL: ${mailroom.url}/graphql (Ruru in a browser; create an API key with: npm run api-key -- create --name me --role admin)`);
    }
    log.info("press Ctrl-C to stop");
    let stopping = false;
    if (demoModule && mailroom.url) {
      const campaign = await demoModule.createDemoCampaign(mailroom.pool, demoSubscribers);
      for (const line of demoModule.demoInstructions(mailroom.url, campaign).split("\n")) log.info(line);
      demoModule.followDemoCampaign(mailroom.pool, campaign.campaignId, log, { stopped: () => stopping }).catch((error: unknown) => {
        if (!stopping) log.warn({ err: String(error) }, "stopped following the demo campaign");
      });
    }
    const shutdown = (signal: string) => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${signal}: shutting down`);
      mailroom.stop().then(
        () => {
          log.info("stopped");
          log.flush();
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", () => shutdown("SIGINT"));
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    return -1; // keep running
  }

  if (command === "api-key") {
    const { runApiKeyCommand } = await import("./graphql/api-key-command.ts");
    return runApiKeyCommand(argv.slice(1), config, log);
  }

  if (command === "import-subscribers") {
    const { runImportSubscribersCommand } = await import("./commands/import-subscribers.ts");
    return runImportSubscribersCommand(argv.slice(1), config, log);
  }
  if (command === "campaign-status" || command === "recompute") {
    const { runCampaignStatusCommand, runRecomputeCommand } = await import("./commands/campaign-numbers.ts");
    return (command === "recompute" ? runRecomputeCommand : runCampaignStatusCommand)(argv.slice(1), config, log);
  }
  if (command === "replay-unattributed") {
    const { runReplayUnattributedCommand } = await import("./commands/replay-unattributed.ts");
    return runReplayUnattributedCommand(argv.slice(1), config, log);
  }

  if (command === "migrate") {
    const database = await openDatabase(config, log, { attach: true });
    try {
      await migrateDatabase(database.ownerUrl, database.roles, log);
      log.info("migrations applied");
    } finally {
      await database.stop();
    }
    return 0;
  }

  if (command === "db-env") {
    const database = await openDatabase(config, log, { attach: true });
    if (!database.embedded) {
      console.error("db-env is for the embedded database; DATABASE_URL is set already");
      await database.stop();
      return 2;
    }
    const owner = new URL(database.ownerUrl);
    const shadow = new URL(database.ownerUrl);
    shadow.pathname = `${owner.pathname}_shadow`;
    const root = new URL(database.embedded.superuserUrl);
    root.pathname = "/template1";
    console.log(`export DATABASE_URL='${owner}'`);
    console.log(`export SHADOW_DATABASE_URL='${shadow}'`);
    console.log(`export ROOT_DATABASE_URL='${root}'`);
    console.log(`export DATABASE_AUTHENTICATOR='${database.roles.authenticator}'`);
    console.log(`export DATABASE_ADMIN='${database.roles.admin}'`);
    console.log(`export DATABASE_READONLY='${database.roles.readonly}'`);
    const stop = () => void database.stop().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    return -1;
  }

  console.error(`Unknown command: ${command}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(`mailroom: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
