// The sandbox's settings from the environment (SANDBOX_*), for `npm run sandbox` and for `npm start`
// when it runs the sandbox in-process. An invalid value throws a ConfigError whose message is one
// line naming the variable, what was given and what is expected. docs/sandbox.md lists them all.
import { ConfigError } from "../config.ts";
import type { EventSchema, SubscriptionOptions } from "./event-grid.ts";
import { DEFAULT_SETTINGS, DELIVERY_STATUSES, SandboxSettingsError, checkSettings, type SandboxSettings } from "./settings.ts";

/** A well-known development key, like Azurite's: the sandbox guards nothing. Override with SANDBOX_ACCESS_KEY. */
export const SANDBOX_DEFAULT_ACCESS_KEY = Buffer.from("mailroom-sandbox-well-known-key!").toString("base64");

export interface SandboxConfig {
  port: number;
  accessKey: string;
  settings: SandboxSettings;
  /** A webhook to subscribe at start (SANDBOX_WEBHOOK_URL), if any. */
  subscription: SubscriptionOptions | undefined;
}

type Env = Record<string, string | undefined>;
type Kind = "number" | "integer" | "quota" | "boolean" | "share" | "text" | "mix" | "range";

const VARIABLES: [string, keyof SandboxSettings, Kind][] = [
  ["SANDBOX_TIME_SCALE", "timeScale", "number"],
  ["SANDBOX_QUOTA_PER_MINUTE", "quotaPerMinute", "quota"],
  ["SANDBOX_QUOTA_PER_HOUR", "quotaPerHour", "quota"],
  ["SANDBOX_LATENCY_MS", "latencyMs", "number"],
  ["SANDBOX_FAULT_SHARE", "faultShare", "number"],
  ["SANDBOX_LOST_RESPONSE_SHARE", "lostResponseShare", "number"],
  ["SANDBOX_FAILED_SHARE", "failedShare", "number"],
  ["SANDBOX_OPERATION_SECONDS", "operationSeconds", "number"],
  ["SANDBOX_STATUS_MIX", "statusMix", "mix"],
  ["SANDBOX_VIEW_PROBABILITY", "viewProbability", "number"],
  ["SANDBOX_CLICK_PROBABILITY", "clickProbability", "number"],
  ["SANDBOX_MACHINE_OPEN_PROBABILITY", "machineOpenProbability", "number"],
  ["SANDBOX_SCANNER_CLICK_PROBABILITY", "scannerClickProbability", "number"],
  ["SANDBOX_UNSUBSCRIBE_RATE", "unsubscribeRate", "number"],
  ["SANDBOX_AZURE_ENGAGEMENT_TRACKING", "azureEngagementTracking", "boolean"],
  ["SANDBOX_TRACKING_REQUESTS", "trackingRequests", "text"],
  ["SANDBOX_TRACKING_CONCURRENCY", "trackingConcurrency", "integer"],
  ["SANDBOX_TRACKING_TIMEOUT_MS", "trackingTimeoutMs", "integer"],
  ["SANDBOX_ENGAGEMENT_MESSAGE_ID", "engagementMessageId", "text"],
  ["SANDBOX_ENGAGEMENT_INTERNET_MESSAGE_ID", "engagementInternetMessageId", "share"],
  ["SANDBOX_DUPLICATE_SHARE", "duplicateShare", "number"],
  ["SANDBOX_DELIVERY_DELAY_SECONDS", "deliveryDelaySeconds", "range"],
  ["SANDBOX_ENGAGEMENT_DELAY_SECONDS", "engagementDelaySeconds", "range"],
  ["SANDBOX_MAX_CLOCK_SKEW_SECONDS", "maxClockSkewSeconds", "number"],
  ["SANDBOX_RETAINED_EMAILS", "retainedEmails", "integer"],
  ["SANDBOX_RETAINED_CONTENT_BYTES", "retainedContentBytes", "integer"],
  ["SANDBOX_RETAINED_DELIVERIES", "retainedDeliveries", "integer"],
  ["SANDBOX_RETAINED_DEAD_LETTERS", "retainedDeadLetters", "integer"],
  ["SANDBOX_DELIVERY_TIMEOUT_MS", "deliveryTimeoutMs", "integer"],
  ["SANDBOX_DELIVERY_CONCURRENCY", "deliveryConcurrency", "integer"],
  ["SANDBOX_SEED", "seed", "integer"],
];

function invalid(variable: string, value: string, expected: string): ConfigError {
  return new ConfigError(variable, `Invalid configuration: ${variable}=${JSON.stringify(value)}; expected ${expected}.`);
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function parse(variable: string, raw: string, kind: Kind): unknown {
  const number = (text: string) => (/^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN);
  switch (kind) {
    case "number":
    case "integer": {
      const n = number(raw);
      if (Number.isNaN(n)) throw invalid(variable, raw, kind === "integer" ? "a whole number" : "a number");
      return n;
    }
    case "quota":
      if (raw.toLowerCase() === "off") return null;
      if (!/^\d+$/.test(raw)) throw invalid(variable, raw, 'a whole number of sends, or "off"');
      return Number(raw);
    case "boolean":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw invalid(variable, raw, "true or false");
    case "share": {
      if (raw === "true") return 1;
      if (raw === "false") return 0;
      const n = number(raw);
      if (Number.isNaN(n)) throw invalid(variable, raw, "a number from 0 to 1, true (1) or false (0)");
      return n;
    }
    case "text":
      return raw;
    case "range": {
      const match = /^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/.exec(raw);
      if (!match) throw invalid(variable, raw, "MIN-MAX in seconds, such as 60-300");
      return [Number(match[1]), Number(match[2])];
    }
    case "mix": {
      const mix: Record<string, number> = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0]));
      for (const part of raw.split(",")) {
        const match = /^\s*(\w+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
        const status = DELIVERY_STATUSES.find((s) => s.toLowerCase() === match?.[1].toLowerCase());
        if (!match || !status) {
          throw invalid(variable, raw, `STATUS=WEIGHT pairs separated by commas, STATUS among ${DELIVERY_STATUSES.join(", ")}`);
        }
        mix[status] = Number(match[2]);
      }
      return mix;
    }
  }
}

export function loadSandboxConfig(env: Env = process.env): SandboxConfig {
  const change: Record<string, unknown> = {};
  const variableOf = new Map<string, string>();
  for (const [variable, setting, kind] of VARIABLES) {
    const raw = nonEmpty(env, variable);
    if (raw === undefined) continue;
    change[setting] = parse(variable, raw, kind);
    variableOf.set(setting, variable);
  }
  let settings: SandboxSettings;
  try {
    settings = checkSettings(DEFAULT_SETTINGS, change);
  } catch (error) {
    if (error instanceof SandboxSettingsError) {
      const variable = variableOf.get(error.setting.split(".")[0]) ?? error.setting;
      throw invalid(variable, nonEmpty(env, variable) ?? "", error.message.replace(/^.*; expected /, "").replace(/\.$/, ""));
    }
    throw error;
  }

  const portRaw = nonEmpty(env, "SANDBOX_PORT");
  if (portRaw !== undefined && (!/^\d+$/.test(portRaw) || Number(portRaw) > 65535)) {
    throw invalid("SANDBOX_PORT", portRaw, "an integer from 0 to 65535");
  }
  const accessKey = nonEmpty(env, "SANDBOX_ACCESS_KEY") ?? SANDBOX_DEFAULT_ACCESS_KEY;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(accessKey) || accessKey.length % 4 !== 0) {
    throw new ConfigError("SANDBOX_ACCESS_KEY", "Invalid configuration: SANDBOX_ACCESS_KEY=(hidden); expected a base64 key.");
  }

  let subscription: SubscriptionOptions | undefined;
  const webhook = nonEmpty(env, "SANDBOX_WEBHOOK_URL");
  if (webhook !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(webhook)) {
      throw new ConfigError("SANDBOX_WEBHOOK_URL", "Invalid configuration: SANDBOX_WEBHOOK_URL=(hidden); expected an http:// or https:// URL.");
    }
    const schema = nonEmpty(env, "SANDBOX_WEBHOOK_SCHEMA") ?? "EventGridSchema";
    if (schema !== "EventGridSchema" && schema !== "CloudEventSchemaV1_0") {
      throw invalid("SANDBOX_WEBHOOK_SCHEMA", schema, "EventGridSchema or CloudEventSchemaV1_0");
    }
    const batchRaw = nonEmpty(env, "SANDBOX_MAX_EVENTS_PER_BATCH") ?? "1";
    if (!/^\d+$/.test(batchRaw) || Number(batchRaw) < 1 || Number(batchRaw) > 5000) {
      throw invalid("SANDBOX_MAX_EVENTS_PER_BATCH", batchRaw, "an integer from 1 to 5000");
    }
    subscription = { endpoint: webhook, schema: schema as EventSchema, maxEventsPerBatch: Number(batchRaw) };
  }

  return { port: portRaw === undefined ? 4010 : Number(portRaw), accessKey, settings, subscription };
}
