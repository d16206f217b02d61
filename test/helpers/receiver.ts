// The HTTP application on a test database, listening on a free loopback port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import type pg from "pg";
import { Logger, runOnce } from "graphile-worker";
import { createHttpApp } from "../../src/http/app.ts";
import { createWebhookAuthenticator } from "../../src/http/webhook-auth.ts";
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES, type EntraConfig } from "../../src/config.ts";
import { DEFAULT_SENDING_SETTINGS, type SendingSettings } from "../../src/sending/settings.ts";
import { createTaskList } from "../../tasks/index.ts";

export const TEST_SECRET = "test-webhook-secret-0123456789";

export interface Receiver {
  url: string;
  close(): Promise<void>;
}

export async function startReceiver(
  pool: pg.Pool,
  options: {
    secrets?: string[];
    entra?: EntraConfig;
    maxBodyBytes?: number;
    maxBytesInFlight?: number;
    shuttingDown?: () => boolean;
    trackingSecrets?: string[];
    trustProxy?: boolean | number | string;
  } = {},
): Promise<Receiver> {
  const app = createHttpApp({
    pool,
    log: pino({ level: "silent" }),
    shuttingDown: options.shuttingDown ?? (() => false),
    webhook: {
      authenticator: createWebhookAuthenticator(options.secrets ?? [TEST_SECRET], options.entra),
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES,
      maxBytesInFlight: options.maxBytesInFlight,
    },
    trackingSecrets: options.trackingSecrets,
    trustProxy: options.trustProxy,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const silentWorkerLogger = new Logger(() => () => undefined);

/**
 * Runs every queued job to completion, as the worker would (the send tasks over `sending`), and returns once no
 * job is runnable or running (runOnce may resolve while the last completion is still being written).
 */
export async function runQueuedJobs(pool: pg.Pool, sending: SendingSettings = DEFAULT_SENDING_SETTINGS, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const taskList = createTaskList(sending);
  for (;;) {
    await runOnce({ pgPool: pool, taskList, logger: silentWorkerLogger });
    const { rows } = await pool.query(
      `select count(*) filter (where locked_at is not null)::int as running,
              count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)::int as runnable
       from graphile_worker._private_jobs`,
    );
    if (rows[0].running === 0 && rows[0].runnable === 0) return;
    if (Date.now() > deadline) throw new Error(`jobs still queued after ${timeoutMs} ms: ${JSON.stringify(rows[0])}`);
    if (rows[0].running > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
