// The sandbox's behaviour, changeable while it runs: quotas, timing, faults, the mix of delivery
// outcomes and engagement. Every change goes through checkSettings, so a bad value is refused with
// one clear line naming the setting, whether it came from code, the control API or the environment.

export const DELIVERY_STATUSES = [
  "Delivered",
  "Expanded",
  "Bounced",
  "Suppressed",
  "FilteredSpam",
  "Quarantined",
  "Failed",
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type EngagementMessageId = "operation-id" | "distinct";
export type TrackingRequests = "loopback" | "any" | "off";

export interface SandboxSettings {
  /** Factor applied to every modelled duration: 1 = Azure's timing, 0.01 = a hundred times faster, 0 = at once. */
  timeScale: number;
  /** Accepted sends per (scaled) minute; null = no limit. ACS default for a custom domain: 30. */
  quotaPerMinute: number | null;
  /** Accepted sends per (scaled) hour; null = no limit. ACS default for a custom domain: 100. */
  quotaPerHour: number | null;
  /** Milliseconds added before every ACS REST answer (real time, not scaled). */
  latencyMs: number;
  /** Share (0..1) of authenticated ACS requests answered 500 or 503 without doing anything. */
  faultShare: number;
  /** Share (0..1) of accepted sends whose 202 is replaced by a 500: the email goes out, the caller cannot know. */
  lostResponseShare: number;
  /** Share (0..1) of accepted sends whose operation ends Failed with EmailDropped (and emits no events). */
  failedShare: number;
  /** Modelled seconds an operation stays Running before it ends. */
  operationSeconds: number;
  /** Relative weights of the delivery report statuses. */
  statusMix: Record<DeliveryStatus, number>;
  /** Probability that a delivered recipient views the message (HTML only). */
  viewProbability: number;
  /** Probability that a delivered recipient clicks one link of the HTML. */
  clickProbability: number;
  /** Probability of a machine open (mail privacy protection, image proxy) seconds after sending. */
  machineOpenProbability: number;
  /** Probability that a security scanner clicks every link seconds after sending. */
  scannerClickProbability: number;
  /** Probability that a delivered recipient unsubscribes (one-click POST to the List-Unsubscribe URL). */
  unsubscribeRate: number;
  /** Whether the emulated ACS domain tracks engagement (sends Azure engagement events). */
  azureEngagementTracking: boolean;
  /** Which hosts the emulated people and machines request (pixel, tracked links, unsubscribe): loopback, any, off. */
  trackingRequests: TrackingRequests;
  /** Those requests in flight at once. */
  trackingConcurrency: number;
  /** Real milliseconds such a request waits for an answer. */
  trackingTimeoutMs: number;
  /** Engagement events' messageId: the send operation id, or a distinct id per message (seen in production). */
  engagementMessageId: EngagementMessageId;
  /**
   * Share (0..1) of engagement events that carry internetMessageId when engagementMessageId is "operation-id"
   * (true = 1, false = 0). With "distinct" every engagement event carries it: it is the only usable key then.
   */
  engagementInternetMessageId: number;
  /** Share (0..1) of events Event Grid delivers a second time (same event id). */
  duplicateShare: number;
  /** Modelled seconds from sending to the delivery report: [min, max]. */
  deliveryDelaySeconds: [number, number];
  /** Modelled seconds from delivery to a human view: [min, max]; a click follows its view seconds later. */
  engagementDelaySeconds: [number, number];
  /** Largest accepted difference between x-ms-date and the sandbox's clock, in seconds. */
  maxClockSkewSeconds: number;
  /** Accepted emails kept for inspection and polling (oldest forgotten first). */
  retainedEmails: number;
  /** UTF-8 bytes of content (subject, HTML, plain text) kept for the newest retained emails (oldest dropped first). */
  retainedContentBytes: number;
  /** Delivered events kept for inspection (oldest forgotten first). */
  retainedDeliveries: number;
  /** Dead letters kept for inspection (oldest forgotten first). */
  retainedDeadLetters: number;
  /** Real milliseconds Event Grid waits for a webhook's answer (Azure: 30 seconds). */
  deliveryTimeoutMs: number;
  /** Event Grid requests in flight per subscription. */
  deliveryConcurrency: number;
  /** Seed of the random choices (statuses, engagement, faults); null = a random seed. */
  seed: number | null;
}

export const DEFAULT_SETTINGS: SandboxSettings = {
  timeScale: 0.1,
  quotaPerMinute: 30,
  quotaPerHour: 100,
  latencyMs: 0,
  faultShare: 0,
  lostResponseShare: 0,
  failedShare: 0,
  operationSeconds: 5,
  statusMix: {
    Delivered: 90,
    Expanded: 0,
    Bounced: 4,
    Suppressed: 2,
    FilteredSpam: 1,
    Quarantined: 1,
    Failed: 2,
  },
  viewProbability: 0.35,
  clickProbability: 0.1,
  machineOpenProbability: 0.15,
  scannerClickProbability: 0.03,
  unsubscribeRate: 0,
  azureEngagementTracking: true,
  trackingRequests: "loopback",
  trackingConcurrency: 16,
  trackingTimeoutMs: 10_000,
  engagementMessageId: "distinct",
  engagementInternetMessageId: 0.3,
  duplicateShare: 0.01,
  deliveryDelaySeconds: [60, 300],
  engagementDelaySeconds: [5, 90],
  maxClockSkewSeconds: 900,
  retainedEmails: 10_000,
  retainedContentBytes: 64 * 1024 * 1024,
  retainedDeliveries: 10_000,
  retainedDeadLetters: 10_000,
  deliveryTimeoutMs: 30_000,
  deliveryConcurrency: 32,
  seed: null,
};

export class SandboxSettingsError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(message);
    this.name = "SandboxSettingsError";
    this.setting = setting;
  }
}

function refuse(setting: string, value: unknown, expected: string): SandboxSettingsError {
  return new SandboxSettingsError(setting, `Invalid sandbox setting: ${setting}=${JSON.stringify(value)}; expected ${expected}.`);
}

function share(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw refuse(name, value, "a number from 0 to 1");
  }
  return value;
}

function nonNegative(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    throw refuse(name, value, `a number from 0 to ${max}`);
  }
  return value;
}

function count(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw refuse(name, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function quota(name: string, value: unknown): number | null {
  if (value === null) return null;
  return count(name, value, 1, 1_000_000_000);
}

function range(name: string, value: unknown): [number, number] {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0) ||
    value[0] > value[1]
  ) {
    throw refuse(name, value, "[min, max] in seconds with 0 <= min <= max");
  }
  return [value[0], value[1]];
}

function statusMix(value: unknown, current: Record<DeliveryStatus, number>): Record<DeliveryStatus, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw refuse("statusMix", value, `an object of weights with keys among ${DELIVERY_STATUSES.join(", ")}`);
  }
  const mix = { ...current };
  for (const [key, weight] of Object.entries(value)) {
    if (!(DELIVERY_STATUSES as readonly string[]).includes(key)) {
      throw refuse("statusMix", value, `keys among ${DELIVERY_STATUSES.join(", ")}`);
    }
    mix[key as DeliveryStatus] = nonNegative(`statusMix.${key}`, weight);
  }
  if (DELIVERY_STATUSES.every((s) => mix[s] === 0)) {
    throw refuse("statusMix", value, "at least one weight above 0");
  }
  return mix;
}

/** The settings after applying `change` to `current`; throws SandboxSettingsError on the first bad value. */
export function checkSettings(current: SandboxSettings, change: Record<string, unknown>): SandboxSettings {
  const next: SandboxSettings = { ...current, statusMix: { ...current.statusMix } };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) continue;
    switch (key) {
      case "timeScale":
        next.timeScale = nonNegative(key, value, 1000);
        break;
      case "quotaPerMinute":
        next.quotaPerMinute = quota(key, value);
        break;
      case "quotaPerHour":
        next.quotaPerHour = quota(key, value);
        break;
      case "latencyMs":
        next.latencyMs = nonNegative(key, value, 600_000);
        break;
      case "faultShare":
        next.faultShare = share(key, value);
        break;
      case "lostResponseShare":
        next.lostResponseShare = share(key, value);
        break;
      case "failedShare":
        next.failedShare = share(key, value);
        break;
      case "operationSeconds":
        next.operationSeconds = nonNegative(key, value, 86_400);
        break;
      case "statusMix":
        next.statusMix = statusMix(value, current.statusMix);
        break;
      case "viewProbability":
        next.viewProbability = share(key, value);
        break;
      case "clickProbability":
        next.clickProbability = share(key, value);
        break;
      case "machineOpenProbability":
        next.machineOpenProbability = share(key, value);
        break;
      case "scannerClickProbability":
        next.scannerClickProbability = share(key, value);
        break;
      case "unsubscribeRate":
        next.unsubscribeRate = share(key, value);
        break;
      case "azureEngagementTracking":
        if (typeof value !== "boolean") throw refuse(key, value, "true or false");
        next.azureEngagementTracking = value;
        break;
      case "trackingRequests":
        if (value !== "loopback" && value !== "any" && value !== "off") throw refuse(key, value, '"loopback", "any" or "off"');
        next.trackingRequests = value;
        break;
      case "trackingConcurrency":
        next.trackingConcurrency = count(key, value, 1, 1000);
        break;
      case "trackingTimeoutMs":
        next.trackingTimeoutMs = count(key, value, 1, 600_000);
        break;
      case "engagementMessageId":
        if (value !== "operation-id" && value !== "distinct") throw refuse(key, value, '"operation-id" or "distinct"');
        next.engagementMessageId = value;
        break;
      case "engagementInternetMessageId":
        // A share; true and false (the setting was a switch before) mean 1 and 0.
        next.engagementInternetMessageId = typeof value === "boolean" ? Number(value) : share(key, value);
        break;
      case "duplicateShare":
        next.duplicateShare = share(key, value);
        break;
      case "deliveryDelaySeconds":
        next.deliveryDelaySeconds = range(key, value);
        break;
      case "engagementDelaySeconds":
        next.engagementDelaySeconds = range(key, value);
        break;
      case "maxClockSkewSeconds":
        next.maxClockSkewSeconds = nonNegative(key, value, 86_400);
        break;
      case "retainedEmails":
        next.retainedEmails = count(key, value, 0, 10_000_000);
        break;
      case "retainedContentBytes":
        next.retainedContentBytes = count(key, value, 0, 2 ** 40);
        break;
      case "retainedDeliveries":
        next.retainedDeliveries = count(key, value, 0, 10_000_000);
        break;
      case "retainedDeadLetters":
        next.retainedDeadLetters = count(key, value, 0, 10_000_000);
        break;
      case "deliveryTimeoutMs":
        next.deliveryTimeoutMs = count(key, value, 1, 600_000);
        break;
      case "deliveryConcurrency":
        next.deliveryConcurrency = count(key, value, 1, 1000);
        break;
      case "seed":
        next.seed = value === null ? null : count(key, value, 0, 2 ** 32 - 1);
        break;
      default:
        throw new SandboxSettingsError(key, `Unknown sandbox setting: ${key}.`);
    }
  }
  return next;
}
