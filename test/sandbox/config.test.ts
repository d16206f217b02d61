// The sandbox's settings: from the environment (one clear line per bad value), at run time, and the
// `mailroom sandbox` command as a user runs it.
import { EmailClient } from "@azure/communication-email";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { DEFAULT_SETTINGS, SandboxSettingsError, loadSandboxConfig, startSandbox } from "../../src/sandbox/index.ts";
import { runMailroom } from "../helpers/process.ts";

describe("loadSandboxConfig", () => {
  test("defaults are ACS's quotas, a well-known key and port 4010", () => {
    const config = loadSandboxConfig({});
    expect(config.settings).toEqual(DEFAULT_SETTINGS);
    expect(config.settings).toMatchObject({ quotaPerMinute: 30, quotaPerHour: 100 });
    expect(config.port).toBe(4010);
    expect(Buffer.from(config.accessKey, "base64").length).toBeGreaterThan(0);
    expect(config.subscription).toBeUndefined();
  });

  test("reads every kind of value", () => {
    const config = loadSandboxConfig({
      SANDBOX_PORT: "0",
      SANDBOX_TIME_SCALE: "0.01",
      SANDBOX_QUOTA_PER_MINUTE: "off",
      SANDBOX_QUOTA_PER_HOUR: "1000",
      SANDBOX_STATUS_MIX: "Delivered=80,bounced=20",
      SANDBOX_ENGAGEMENT_MESSAGE_ID: "operation-id",
      SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID: "false",
      SANDBOX_DELIVERY_DELAY_SECONDS: "10-20",
      SANDBOX_SEED: "42",
      SANDBOX_RETAINED_CONTENT_BYTES: "1048576",
      SANDBOX_UNSUBSCRIBE_RATE: "0.05",
      SANDBOX_AZURE_ENGAGEMENT_TRACKING: "false",
      SANDBOX_TRACKING_REQUESTS: "any",
      SANDBOX_TRACKING_CONCURRENCY: "4",
      SANDBOX_TRACKING_TIMEOUT_MS: "2500",
      SANDBOX_WEBHOOK_URL: "http://127.0.0.1:3000/webhooks/acs?code=0123456789abcdef",
      SANDBOX_WEBHOOK_SCHEMA: "CloudEventSchemaV1_0",
      SANDBOX_MAX_EVENTS_PER_BATCH: "100",
    });
    expect(config.port).toBe(0);
    expect(config.settings).toMatchObject({
      timeScale: 0.01,
      quotaPerMinute: null,
      quotaPerHour: 1000,
      statusMix: { Delivered: 80, Bounced: 20, Suppressed: 0 },
      engagementMessageId: "operation-id",
      engagementInternetMessageId: 0,
      deliveryDelaySeconds: [10, 20],
      seed: 42,
      retainedContentBytes: 1048576,
      unsubscribeRate: 0.05,
      azureEngagementTracking: false,
      trackingRequests: "any",
      trackingConcurrency: 4,
      trackingTimeoutMs: 2500,
    });
    expect(config.subscription).toEqual({
      endpoint: "http://127.0.0.1:3000/webhooks/acs?code=0123456789abcdef",
      schema: "CloudEventSchemaV1_0",
      maxEventsPerBatch: 100,
    });
  });

  test.each([
    ["SANDBOX_TIME_SCALE", "fast", /SANDBOX_TIME_SCALE="fast"; expected a number\.$/],
    ["SANDBOX_FAULT_SHARE", "1.5", /SANDBOX_FAULT_SHARE="1.5"; expected a number from 0 to 1\.$/],
    ["SANDBOX_QUOTA_PER_HOUR", "0", /SANDBOX_QUOTA_PER_HOUR="0"; expected an integer from 1 to/],
    ["SANDBOX_ENGAGEMENT_MESSAGE_ID", "same", /SANDBOX_ENGAGEMENT_MESSAGE_ID="same"; expected "operation-id" or "distinct"/],
    ["SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID", "some", /SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID="some"; expected a number from 0 to 1, true \(1\) or false \(0\)\.$/],
    ["SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID", "2", /SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID="2"; expected a number from 0 to 1\.$/],
    ["SANDBOX_TRACKING_REQUESTS", "all", /SANDBOX_TRACKING_REQUESTS="all"; expected "loopback", "any" or "off"\.$/],
    ["SANDBOX_UNSUBSCRIBE_RATE", "2", /SANDBOX_UNSUBSCRIBE_RATE="2"; expected a number from 0 to 1\.$/],
    ["SANDBOX_AZURE_ENGAGEMENT_TRACKING", "yes", /SANDBOX_AZURE_ENGAGEMENT_TRACKING="yes"; expected true or false\.$/],
    ["SANDBOX_TRACKING_CONCURRENCY", "0", /SANDBOX_TRACKING_CONCURRENCY="0"; expected an integer from 1 to 1000\.$/],
    ["SANDBOX_STATUS_MIX", "Delivered=0", /SANDBOX_STATUS_MIX="Delivered=0"; expected at least one weight above 0/],
    ["SANDBOX_PORT", "70000", /SANDBOX_PORT="70000"; expected an integer from 0 to 65535/],
    ["SANDBOX_ACCESS_KEY", "not base64!", /SANDBOX_ACCESS_KEY=\(hidden\); expected a base64 key/],
    ["SANDBOX_WEBHOOK_URL", "ftp://x?code=secret", /SANDBOX_WEBHOOK_URL=\(hidden\)/],
  ])("%s=%s is refused with one clear line", (variable, value, message) => {
    let thrown: unknown;
    try {
      loadSandboxConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain("\n");
    expect((thrown as Error).message).not.toContain("secret");
  });
});

test("engagementInternetMessageId is a share; true and false (it was a switch) mean 1 and 0", () => {
  expect(loadSandboxConfig({ SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID: "0.25" }).settings.engagementInternetMessageId).toBe(0.25);
  expect(loadSandboxConfig({ SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID: "true" }).settings.engagementInternetMessageId).toBe(1);
  expect(DEFAULT_SETTINGS.engagementInternetMessageId).toBe(0.3);
});

test("configure() refuses a bad value and keeps the settings as they were", async () => {
  const sandbox = await startSandbox({ settings: { quotaPerMinute: null } });
  try {
    expect(() => sandbox.configure({ timeScale: -1 })).toThrow(SandboxSettingsError);
    expect(() => sandbox.configure({ deliveryDelaySeconds: [5, 1] })).toThrow(/deliveryDelaySeconds/);
    expect(sandbox.settings().timeScale).toBe(DEFAULT_SETTINGS.timeScale);
    expect(sandbox.configure({ quotaPerHour: null }).quotaPerHour).toBeNull();
    expect(sandbox.configure({ engagementInternetMessageId: true as unknown as number }).engagementInternetMessageId).toBe(1);
    expect(sandbox.configure({ engagementInternetMessageId: false as unknown as number }).engagementInternetMessageId).toBe(0);
    expect(() => sandbox.configure({ engagementInternetMessageId: 1.5 })).toThrow(/engagementInternetMessageId/);
  } finally {
    await sandbox.stop();
  }
});

test("`mailroom sandbox` prints a connection string the SDK can send with, and stops on SIGTERM", async () => {
  const run = runMailroom(["sandbox"], { SANDBOX_PORT: "0", SANDBOX_TIME_SCALE: "0.001", SANDBOX_QUOTA_PER_MINUTE: "off" });
  try {
    await run.waitFor(/control API: \S+/, 30_000);
    const connectionString = /ACS_CONNECTION_STRING=(\S+)/.exec(run.output())?.[1] as string;
    const controlUrl = /control API: (\S+)/.exec(run.output())?.[1] as string;
    const client = new EmailClient(connectionString, { allowInsecureConnection: true });
    const poller = await client.beginSend({
      senderAddress: "news@news.example.com",
      content: { subject: "Hi", plainText: "Hello" },
      recipients: { to: [{ address: "ada@example.org" }] },
    });
    expect((await poller.pollUntilDone()).status).toBe("Succeeded");
    const emails = (await (await fetch(`${controlUrl}/emails`)).json()) as unknown[];
    expect(emails).toHaveLength(1);
  } finally {
    run.child.kill("SIGTERM");
  }
  expect(await run.exited).toBe(0);
});
