// `mailroom sandbox` (npm run sandbox): the emulator alone, on 127.0.0.1, configured from SANDBOX_*
// variables; prints the connection string to give Mailroom as ACS_CONNECTION_STRING and the
// control URL, and subscribes SANDBOX_WEBHOOK_URL (retrying the handshake until the webhook answers).
import { ConfigError } from "../config.ts";
import { loadSandboxConfig } from "./config.ts";
import { startSandbox } from "./index.ts";

const HANDSHAKE_RETRY_MS = 5000;

function redactedUrl(raw: string): string {
  const url = new URL(raw);
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "***");
  return url.href;
}

/** Runs until SIGINT or SIGTERM; returns an exit code when it cannot start, else -1 (keep running). */
export async function runSandboxCommand(env: Record<string, string | undefined> = process.env): Promise<number> {
  let config;
  try {
    config = loadSandboxConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const sandbox = await startSandbox({ port: config.port, accessKey: config.accessKey, settings: config.settings });
  const s = config.settings;
  console.log(`ACS Email and Event Grid sandbox listening on ${sandbox.baseUrl}`);
  console.log(`ACS_CONNECTION_STRING=${sandbox.connectionString}`);
  console.log(`control API: ${sandbox.controlUrl}  (docs/sandbox.md)`);
  console.log(
    `time scale ${s.timeScale}; quotas ${s.quotaPerMinute ?? "off"}/minute, ${s.quotaPerHour ?? "off"}/hour; ` +
      `faults ${s.faultShare}; failed ${s.failedShare}`,
  );
  console.log(
    `engagement: Azure events ${s.azureEngagementTracking ? "on" : "off"}; requests to tracking and unsubscribe URLs: ` +
      `${s.trackingRequests}; unsubscribe rate ${s.unsubscribeRate}`,
  );

  let stopped = false;
  const subscription = config.subscription;
  if (subscription) {
    const subscribe = () => {
      if (stopped) return;
      sandbox.subscribe(subscription).then(
        (view) => console.log(`Event Grid subscription ${view.name} (${view.schema}) -> ${redactedUrl(view.endpoint)}`),
        (error: unknown) => {
          console.error(`${(error as Error).message} Retrying in ${HANDSHAKE_RETRY_MS / 1000} s.`);
          setTimeout(subscribe, HANDSHAKE_RETRY_MS);
        },
      );
    };
    subscribe();
  } else {
    console.log(`no webhook yet: set SANDBOX_WEBHOOK_URL, or POST {"endpoint": URL} to ${sandbox.controlUrl}/subscriptions`);
  }

  const shutdown = (signal: string) => {
    if (stopped) process.exit(1);
    stopped = true;
    console.log(`${signal}: stopping the sandbox`);
    sandbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  return -1;
}
