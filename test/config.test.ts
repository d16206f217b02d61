import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { defaultSharedBuffersMb } from "../src/db/postgres-server.ts";

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, "/srv/mailroom");
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("defaults: embedded database, sandbox, port 3000, no webhook secrets", () => {
    const config = loadConfig({}, "/srv/mailroom");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.acsConnectionString).toBeUndefined();
    expect(config.port).toBe(3000);
    expect(config.webhookSecrets).toEqual([]);
    expect(config.dataDir).toBe("/srv/mailroom/.data");
    expect(config.embeddedPgPort).toBe(54320);
    expect(config.embeddedPgSharedBuffersMb).toBe(defaultSharedBuffersMb());
  });

  test("the embedded server's shared_buffers: a quarter of memory, 128 MB to 2 GB, or EMBEDDED_PG_SHARED_BUFFERS_MB", () => {
    const GB = 1024 * 1024 * 1024;
    expect(defaultSharedBuffersMb(24 * GB)).toBe(2048);
    expect(defaultSharedBuffersMb(4 * GB)).toBe(1024);
    expect(defaultSharedBuffersMb(GB / 4)).toBe(128);
    expect(loadConfig({ EMBEDDED_PG_SHARED_BUFFERS_MB: "512" }, "/srv").embeddedPgSharedBuffersMb).toBe(512);
    expect(failure({ EMBEDDED_PG_SHARED_BUFFERS_MB: "lots" }).variable).toBe("EMBEDDED_PG_SHARED_BUFFERS_MB");
  });

  test("webhook body limit and bytes in flight: defaults, values, and what is refused", () => {
    const MB = 1024 * 1024;
    const defaults = loadConfig({}, "/srv");
    expect(defaults.webhookMaxBodyBytes).toBe(4 * MB);
    expect(defaults.webhookMaxBytesInFlight).toBe(32 * MB);
    expect(loadConfig({ WEBHOOK_MAX_BODY_BYTES: "2097152", WEBHOOK_MAX_BYTES_IN_FLIGHT: "16777216" }, "/srv")).toMatchObject({
      webhookMaxBodyBytes: 2 * MB,
      webhookMaxBytesInFlight: 16 * MB,
    });
    // A larger body limit raises the default budget with it: the largest request must fit.
    expect(loadConfig({ WEBHOOK_MAX_BODY_BYTES: String(64 * MB) }, "/srv").webhookMaxBytesInFlight).toBe(64 * MB);

    expect(failure({ WEBHOOK_MAX_BODY_BYTES: "4MB" }).message).toBe(
      'Invalid configuration: WEBHOOK_MAX_BODY_BYTES="4MB"; expected an integer from 1048576 to 1073741824.',
    );
    expect(failure({ WEBHOOK_MAX_BYTES_IN_FLIGHT: "-1" }).message).toBe(
      'Invalid configuration: WEBHOOK_MAX_BYTES_IN_FLIGHT="-1"; expected an integer from 1048576 to 68719476736.',
    );
    expect(failure({ WEBHOOK_MAX_BYTES_IN_FLIGHT: "1000" }).variable).toBe("WEBHOOK_MAX_BYTES_IN_FLIGHT");
    const tooSmall = failure({ WEBHOOK_MAX_BODY_BYTES: String(8 * MB), WEBHOOK_MAX_BYTES_IN_FLIGHT: String(4 * MB) });
    expect(tooSmall.variable).toBe("WEBHOOK_MAX_BYTES_IN_FLIGHT");
    expect(tooSmall.message).toBe(
      'Invalid configuration: WEBHOOK_MAX_BYTES_IN_FLIGHT="4194304"; expected at least WEBHOOK_MAX_BODY_BYTES (8388608), ' +
        "or a request of the largest accepted size could never get in.",
    );
    expect(loadConfig({ WEBHOOK_MAX_BODY_BYTES: String(8 * MB), WEBHOOK_MAX_BYTES_IN_FLIGHT: String(8 * MB) }, "/srv").webhookMaxBytesInFlight).toBe(8 * MB);
  });

  test("reads every documented variable", () => {
    const config = loadConfig(
      {
        DATABASE_URL: "postgres://mailroom:pw@db.example:5432/mailroom",
        AUTH_DATABASE_URL: "postgres://mailroom_authenticator:pw@db.example:5432/mailroom",
        ACS_CONNECTION_STRING: "endpoint=https://example.communication.azure.com/;accesskey=a2V5",
        PORT: "8080",
        HOST: "0.0.0.0",
        WEBHOOK_SECRETS: "first-secret-0123456789, second-secret-0123456789",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "json",
        MAILROOM_DATA_DIR: "/var/lib/mailroom",
        EMBEDDED_PG_PORT: "55432",
        WORKER_CONCURRENCY: "8",
        WORKER_RECLAIM_AFTER_SECONDS: "45",
        SHUTDOWN_TIMEOUT_MS: "2000",
        NODE_ENV: "production",
      },
      "/srv/mailroom",
    );
    expect(config).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      webhookSecrets: ["first-secret-0123456789", "second-secret-0123456789"],
      logLevel: "debug",
      logFormat: "json",
      dataDir: "/var/lib/mailroom",
      embeddedPgPort: 55432,
      workerConcurrency: 8,
      workerReclaimAfterMs: 45_000,
      shutdownTimeoutMs: 2000,
      production: true,
    });
  });

  test("an invalid value gives one line naming the variable, the value and what is expected", () => {
    const error = failure({ PORT: "eighty" });
    expect(error.variable).toBe("PORT");
    expect(error.message).toBe('Invalid configuration: PORT="eighty"; expected an integer from 0 to 65535.');
    expect(error.message).not.toContain("\n");
    expect(failure({ WORKER_RECLAIM_AFTER_SECONDS: "1" }).message).toContain("expected an integer from 5 to 3600");
    expect(failure({ LOG_LEVEL: "loud" }).message).toContain('LOG_LEVEL="loud"; expected one of trace, debug');
    expect(failure({ DATABASE_URL: "mysql://x/y" }).message).toContain("expected a postgres:// or postgresql:// URL");
  });

  test("secrets are never echoed in errors", () => {
    const secret = "postgres-password-that-must-not-leak";
    const db = failure({ DATABASE_URL: `mysql://user:${secret}@host/db` });
    expect(db.message).not.toContain(secret);
    expect(db.message).toContain("DATABASE_URL=(hidden)");
    const acs = failure({ ACS_CONNECTION_STRING: `accesskey=${secret}` });
    expect(acs.message).not.toContain(secret);
    const hooks = failure({ WEBHOOK_SECRETS: "short" });
    expect(hooks.message).toBe(
      "Invalid configuration: WEBHOOK_SECRETS=(hidden); expected comma-separated secrets of at least 16 characters each.",
    );
  });
});
