// The HTTP application on a test database, listening on a free loopback port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import type pg from "pg";
import { Logger, runOnce } from "graphile-worker";
import { createHttpApp } from "../../src/http/app.ts";
import { createWebhookAuthenticator } from "../../src/http/webhook-auth.ts";
import type { EntraConfig } from "../../src/config.ts";
import { taskDirectory } from "../../src/worker.ts";

export const TEST_SECRET = "test-webhook-secret-0123456789";

export interface Receiver {
  url: string;
  close(): Promise<void>;
}

export async function startReceiver(
  pool: pg.Pool,
  options: { secrets?: string[]; entra?: EntraConfig; maxBodyBytes?: number; shuttingDown?: () => boolean } = {},
): Promise<Receiver> {
  const app = createHttpApp({
    pool,
    log: pino({ level: "silent" }),
    shuttingDown: options.shuttingDown ?? (() => false),
    webhook: {
      authenticator: createWebhookAuthenticator(options.secrets ?? [TEST_SECRET], options.entra),
      maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    },
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

/** Runs every queued job to completion, as the worker would. */
export async function runQueuedJobs(pool: pg.Pool): Promise<void> {
  await runOnce({ pgPool: pool, taskDirectory, logger: silentWorkerLogger });
}
