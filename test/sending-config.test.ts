// Sending settings: defaults, and one clear line for each bad value.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("sending settings", () => {
  it("has safe defaults", () => {
    const config = loadConfig({}, "/tmp");
    expect(config.sending).toEqual({
      publicUrl: undefined,
      unsubscribeSecret: undefined,
      batchSize: 100,
      concurrency: 64,
      leaseSeconds: 60,
      timeoutMs: 30000,
    });
    expect(loadConfig({ PUBLIC_URL: "https://mail.example.com/" }, "/tmp").sending.publicUrl).toBe("https://mail.example.com");
  });

  it.each([
    [{ PUBLIC_URL: "mail.example.com" }, /PUBLIC_URL="mail\.example\.com"; expected an http:\/\/ or https:\/\/ URL/],
    [{ UNSUBSCRIBE_SECRET: "short" }, /UNSUBSCRIBE_SECRET=\(hidden\); expected a secret of at least 32 characters/],
    [{ SEND_LEASE_SECONDS: "10", SEND_TIMEOUT_MS: "6000" }, /SEND_TIMEOUT_MS="6000"; expected at most half of SEND_LEASE_SECONDS \(10 s\)/],
    [{ SEND_CONCURRENCY: "0" }, /SEND_CONCURRENCY="0"; expected an integer from 1 to 1000/],
  ])("refuses %o", (env, message) => {
    expect(() => loadConfig(env, "/tmp")).toThrow(ConfigError);
    expect(() => loadConfig(env, "/tmp")).toThrow(message);
  });
});
