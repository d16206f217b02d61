// Sending's part of the process life cycle (src/app.ts calls these).
//
// Where a sender's ACS connection comes from, first match wins:
//   1. its own connection string in app_private.sender_secrets (app_public.set_sender_connection_string);
//   2. ACS_CONNECTION_STRING;
//   3. with neither, the sandbox this process starts (a worker process only): ACS Email and Event Grid
//      emulated on 127.0.0.1, subscribed to this process's own POST /webhooks/acs with a secret generated
//      at start and accepted by the receiver, so that `npm start` sends and receives end to end with no
//      configuration. Nothing leaves the machine. SANDBOX_* settings apply (docs/sandbox.md).
import crypto from "node:crypto";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { DEFAULT_SENDING_SETTINGS, type SendingSettings } from "./settings.ts";

export interface SendingRuntime {
  /** What the worker's send tasks are built over (createTaskList, tasks/index.ts). */
  settings: SendingSettings;
  /** Secrets the webhook receiver must accept besides WEBHOOK_SECRETS (the in-process sandbox's). */
  webhookSecrets: string[];
  sandbox: Sandbox | undefined;
  /**
   * Before the worker starts: queue the send job of every campaign with work left, since a worker that died
   * keeps its job locked for hours. Before, not after: a job this process already runs is never doubled.
   */
  queueSendJobs(pool: pg.Pool): Promise<void>;
  /** After the HTTP server listens: unsubscribe links default to its URL; the sandbox subscribes to its webhook. */
  serverListening(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function prepareSending(config: Config, log: Log, options: { worker: boolean; server: boolean }): Promise<SendingRuntime> {
  const publicUrl = config.sending.publicUrl ?? `http://${config.host}:${config.port}`;
  let sandbox: Sandbox | undefined;
  let webhookSecret: string | undefined;
  if (config.acsConnectionString === undefined && options.worker) {
    // Imported only here: a worker with ACS_CONNECTION_STRING, and a server alone, do not load the sandbox.
    const [{ loadSandboxConfig }, { startSandbox }] = await Promise.all([import("../sandbox/config.ts"), import("../sandbox/index.ts")]);
    const sandboxConfig = loadSandboxConfig(process.env);
    sandbox = await startSandbox({
      // In-process, any free port unless SANDBOX_PORT names one (4010 is the standalone sandbox's).
      port: process.env.SANDBOX_PORT ? sandboxConfig.port : 0,
      accessKey: sandboxConfig.accessKey,
      settings: sandboxConfig.settings,
      log: log.child({ component: "sandbox" }),
    });
    webhookSecret = crypto.randomBytes(24).toString("base64url");
    log.warn(
      { sandbox: sandbox.controlUrl },
      "ACS_CONNECTION_STRING is unset: sending to the local sandbox (nothing leaves this machine; docs/sending.md)",
    );
  }
  const settings: SendingSettings = {
    ...DEFAULT_SENDING_SETTINGS,
    defaultConnectionString: config.acsConnectionString ?? sandbox?.connectionString,
    publicUrl,
    unsubscribeSecret: config.sending.unsubscribeSecret,
    trackingSecrets: config.sending.trackingSecrets,
    batchSize: config.sending.batchSize,
    concurrency: config.sending.concurrency,
    leaseSeconds: config.sending.leaseSeconds,
    timeoutMs: config.sending.timeoutMs,
    log: log.child({ component: "sending" }),
  };
  return {
    settings,
    webhookSecrets: webhookSecret && options.server ? [webhookSecret] : [],
    sandbox,
    async queueSendJobs(pool) {
      const { rows } = await pool.query<{ queued: number }>("select app_private.queue_sending_jobs() as queued");
      if (rows[0].queued > 0) log.info({ campaigns: rows[0].queued }, "send jobs queued for campaigns with work left");
    },
    async serverListening(url) {
      // The worker may already run: its tasks read the settings at each job, so they see the change.
      if (config.sending.publicUrl === undefined) settings.publicUrl = url;
      if (sandbox && webhookSecret && options.server) {
        const subscription = await sandbox.subscribe({ endpoint: `${url}/webhooks/acs?code=${webhookSecret}`, maxEventsPerBatch: 100 });
        log.info({ subscription: subscription.name }, "the sandbox delivers Event Grid events to this process's /webhooks/acs");
      } else if (sandbox) {
        log.info("the sandbox's events have no webhook in this process; see docs/sending.md");
      }
    },
    async stop() {
      await sandbox?.stop();
    },
  };
}
