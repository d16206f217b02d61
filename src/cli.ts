#!/usr/bin/env node
// mailroom <command>: start (everything in one process), server, worker, migrate, db-env.
import os from "node:os";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { createLog } from "./log.ts";
import { startMailroom, type MailroomOptions } from "./app.ts";
import { EXIT, nounHelp, runCliCommand } from "./commands/command.ts";
import { NOUNS, commandsOf } from "./commands/index.ts";

const USAGE = `Usage: mailroom <command>   or   mailroom <noun> <verb> [options]

Running Mailroom:
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
  replay-unattributed   attribute the unattributed events that match a message now

The workflow (mailroom <noun> --help lists the verbs, mailroom <noun> <verb> --help the options;
--json on every command prints JSON for scripts):
${NOUNS.map(([noun, summary]) => `  ${noun.padEnd(12)}${summary}`).join("\n")}

Shorter names kept: api-key (= api-keys), import-subscribers (= subscribers import),
campaign-status (= campaigns status), recompute (= campaigns recompute).

Exit codes: 0 done, 1 failed, 2 usage error, 3 not found, 4 refused (docs/cli.md).
Settings come from the environment; see README.md.`;

/** Signals that stop Mailroom: SIGHUP too, which comes when the terminal it runs in is closed. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/**
 * The same signal this soon after the previous one is the same request: Ctrl-C in a terminal reaches node from the
 * terminal and again through npm, which passes SIGINT and SIGTERM on (so does a SIGTERM sent to the whole process
 * group, as systemd does).
 */
const SAME_REQUEST_MS = 1000;

// What a stop signal or an error nothing caught does; the long-running commands set their own. By default the
// process exits at once (an embedded PostgreSQL it started is asked to stop on the way out: postgres-server.ts).
let onStopSignal: (signal: NodeJS.Signals) => void = (signal) => process.exit(128 + (os.constants.signals[signal] ?? 0));
let onFatalError: (error: unknown, origin: string) => void = (error) => {
  console.error(`mailroom: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
};

const modes: Record<string, MailroomOptions> = {
  start: { server: true, worker: true, migrate: true },
  server: { server: true, worker: false, migrate: true },
  worker: { server: false, worker: true, migrate: true },
};

/** The configuration from the environment, or undefined after printing why it is invalid (one line). */
function configOrReason(): Config | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return undefined;
    }
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  // Shorter names kept: `api-key VERB` is `api-keys VERB`, `import-subscribers` is `subscribers import`.
  if (argv[0] === "api-key") argv = ["api-keys", ...argv.slice(1)];
  if (argv[0] === "import-subscribers") argv = ["subscribers", "import", ...argv.slice(1)];
  const command = argv[0] ?? "start";
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  const nounCommands = commandsOf(command);
  if (nounCommands.length > 0) {
    const verb = argv[1];
    if (verb === undefined || verb === "help" || verb === "--help" || verb === "-h") {
      console.log(nounHelp(command, nounCommands));
      return verb === undefined ? EXIT.usage : EXIT.done;
    }
    const found = nounCommands.find((c) => c.verb === verb);
    if (!found) {
      console.error(`mailroom ${command}: unknown command "${verb}"\n\n${nounHelp(command, nounCommands)}`);
      return EXIT.usage;
    }
    const config = configOrReason();
    if (!config) return EXIT.usage;
    return runCliCommand(found, argv.slice(2), config, createLog(config.logLevel, config.logFormat));
  }
  if (command === "sandbox") {
    const { runSandboxCommand } = await import("./sandbox/cli.ts");
    return runSandboxCommand();
  }
  for (const signal of STOP_SIGNALS) process.on(signal, () => onStopSignal(signal));
  process.on("uncaughtException", (error, origin) => onFatalError(error, origin));
  const config = configOrReason();
  if (!config) return EXIT.usage;
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
      log.info(`what runs here, and the docs: ${mailroom.url}/  health: ${mailroom.url}/healthz  readiness: ${mailroom.url}/readyz  metrics: ${mailroom.url}/metrics`);
      log.info(`GraphQL: ${mailroom.url}/graphql (Ruru in a browser; create an API key with: npm run api-key -- create --name me --role admin)`);
    }
    log.info("press Ctrl-C to stop");
    let stopping = false;
    // The first request stops gracefully within SHUTDOWN_TIMEOUT_MS; a second cuts the wait for requests and jobs
    // short (they are released) and still stops PostgreSQL; a third exits at once.
    let requests = 0;
    let lastSignal = { name: "", at: 0 };
    let exitCode = 0;
    const exit = (code: number) => {
      log.flush();
      process.exit(code);
    };
    const shutdown = (reason: string, how: "signal" | "orphaned" | "error") => {
      if (how === "orphaned" && requests > 0) return;
      requests += 1;
      if (how === "error") exitCode = 1;
      if (requests === 1) {
        stopping = true;
        log.info(`${reason}: shutting down (within ${config.shutdownTimeoutMs} ms; a second signal stops at once)`);
        // The stop keeps to its deadline; should anything hang regardless, the process still ends.
        setTimeout(() => {
          log.error("shutdown did not finish in time: exiting");
          exit(1);
        }, config.shutdownTimeoutMs + 5000).unref();
        mailroom.stop({ now: how === "error" }).then(
          () => {
            log.info("stopped");
            exit(exitCode);
          },
          (error: unknown) => {
            log.error({ err: error }, "shutdown failed");
            exit(1);
          },
        );
      } else if (requests === 2 || how === "error") {
        log.warn(`${reason}: stopping at once (running jobs are released, open requests cut off, then PostgreSQL stops)`);
        void mailroom.stop({ now: true });
      } else {
        log.warn(`${reason}: exiting now`);
        exit(1);
      }
    };
    onStopSignal = (signal) => {
      const at = Date.now();
      if (signal === lastSignal.name && at - lastSignal.at < SAME_REQUEST_MS) return;
      lastSignal = { name: signal, at };
      shutdown(requests === 0 ? signal : `${signal} again`, "signal");
    };
    onFatalError = (error, origin) => {
      log.fatal({ err: error }, `${origin === "unhandledRejection" ? "unhandled rejection" : "uncaught exception"}: stopping`);
      shutdown(`${origin === "unhandledRejection" ? "an unhandled rejection" : "an uncaught exception"}`, "error");
    };
    // Started by an npm script: npm passes SIGINT and SIGTERM on, but dies of SIGHUP (or SIGKILL) without a word.
    // Left without the process that started it, Mailroom stops rather than run on with nobody to stop it.
    if (process.env.npm_lifecycle_event) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid === parent) return;
        clearInterval(watch);
        shutdown(`the process that started Mailroom (pid ${parent}) has exited`, "orphaned");
      }, 500);
      watch.unref();
    }
    if (demoModule && mailroom.url) {
      let campaign;
      try {
        campaign = await demoModule.createDemoCampaign(mailroom.pool, demoSubscribers);
      } catch (error) {
        if (stopping) return -1; // a signal came first: the stop under way ends the process
        throw error;
      }
      for (const line of demoModule.demoInstructions(mailroom.url, campaign).split("\n")) log.info(line);
      demoModule.followDemoCampaign(mailroom.pool, campaign.campaignId, log, { stopped: () => stopping }).catch((error: unknown) => {
        if (!stopping) log.warn({ err: String(error) }, "stopped following the demo campaign");
      });
    }
    return -1; // keep running
  }

  if (command === "campaign-status" || command === "recompute") {
    // The old names of `campaigns status` and `campaigns recompute`.
    const verb = command === "recompute" ? "recompute" : "status";
    return runCliCommand(commandsOf("campaigns").find((c) => c.verb === verb)!, argv.slice(1), config, log);
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
    onStopSignal = () => void database.stop().then(() => process.exit(0));
    setInterval(() => undefined, 2 ** 30); // nothing else keeps the process, and so the database, running until a signal
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
