// The sandbox: a local Azure Communication Services Email and Event Grid emulator that speaks the
// real wire protocol, so the real @azure/communication-email client and Mailroom's webhook receiver
// cannot tell it from Azure. `npm start` runs it in-process when ACS_CONNECTION_STRING is unset, the
// tests use it for every sending test, and `npm run sandbox` runs it alone. docs/sandbox.md describes
// every setting and behaviour.
//
//   const sandbox = await startSandbox({ settings: { quotaPerMinute: null, quotaPerHour: null, timeScale: 0.001 } });
//   const client = new EmailClient(sandbox.connectionString, { allowInsecureConnection: true });
//   await sandbox.subscribe({ endpoint: "http://127.0.0.1:3000/webhooks/acs?code=SECRET", maxEventsPerBatch: 100 });
//   ... send, then: await sandbox.whenIdle(); sandbox.emails(); sandbox.deliveries(); sandbox.deadLetters();
//   await sandbox.stop();
//
// startSandbox(options) -> Promise<Sandbox>; options (all optional):
//   port          TCP port on 127.0.0.1 (0, the default, picks a free one)
//   accessKey     base64 access key the requests must be signed with (default: random)
//   topic         Event Grid topic of the emulated ACS resource (default /subscriptions/0000.../resourceGroups/
//                 mailroom-sandbox/providers/Microsoft.Communication/CommunicationServices/mailroom-sandbox)
//   settings      Partial<SandboxSettings> (settings.ts; defaults are ACS's: quotas 30/minute, 100/hour)
//   subscriptions SubscriptionOptions[] to create once listening (each after its handshake)
//   log           a pino logger for the sandbox's own errors
//
// Sandbox:
//   baseUrl, connectionString ("endpoint=http://127.0.0.1:PORT/;accesskey=..."), accessKey, controlUrl, topic
//   settings(), configure(change)      read / change settings at run time (throws SandboxSettingsError)
//   subscribe(options)                 Event Grid subscription to a webhook: EventGridSchema (default) or
//                                      CloudEventSchemaV1_0, maxEventsPerBatch, deliveryHeaders, ... ; resolves
//                                      after the handshake succeeds, rejects (SubscriptionValidationError) if not
//   unsubscribe(name), subscriptions()
//   emails({offset, limit})            accepted emails, metadata only (recipients, headers with Message-ID,
//                                      internetMessageId, operation id and status, times); the newest
//                                      retainedEmails are kept
//   email(operationId)                 one email with its content {subject, html, plainText} (null once
//                                      dropped: the newest within retainedContentBytes keep it)
//   scheduledEvents(limit)             events still to be published, earliest first
//   deliveries()                       events delivered to webhooks (newest retainedDeliveries)
//   deadLetters()                      events Event Grid gave up on (400/401/403/413, attempts or TTL exhausted)
//   trackingRequests()                 HTTP requests the emulated people and machines made to the message's own
//                                      URLs (Mailroom's pixel and tracked links, List-Unsubscribe) and their
//                                      answers (newest retainedDeliveries)
//   stats()                            counters since the last reset and what is pending
//   whenIdle(timeoutMs)                resolves when nothing is scheduled, queued, in flight or retrying (events
//                                      and tracking requests)
//   reset()                            forgets emails, events, dead letters, quota windows (not subscriptions)
//   stop()                             closes the server and drops everything pending
//
// loadSandboxConfig(env) reads the SANDBOX_* variables (ConfigError on a bad value) into
// { port, accessKey, settings, subscription } for startSandbox.
//
// Control API on the same server (JSON): GET /sandbox, GET /sandbox/emails[?offset&limit],
// GET /sandbox/emails/{operationId}, GET /sandbox/events/scheduled, GET /sandbox/events/delivered,
// GET /sandbox/dead-letters, GET /sandbox/tracking-requests, GET|PATCH /sandbox/settings, GET|POST /sandbox/subscriptions,
// DELETE /sandbox/subscriptions/{name}, POST /sandbox/reset.
import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Log } from "../log.ts";
import { EmailService, type EmailDetailView, type EmailView, type ScheduledEventView } from "./email-service.ts";
import {
  EventGrid,
  type DeadLetter,
  type DeliveryRecord,
  type SubscriptionOptions,
  type SubscriptionView,
} from "./event-grid.ts";
import { Random } from "./random.ts";
import { createSandboxServer } from "./server.ts";
import { DEFAULT_SETTINGS, checkSettings, type SandboxSettings } from "./settings.ts";
import { TrackingClient, type TrackingRecord, type TrackingTotals } from "./tracking.ts";

export { SandboxSettingsError, DEFAULT_SETTINGS, DELIVERY_STATUSES } from "./settings.ts";
export type { SandboxSettings, DeliveryStatus, EngagementMessageId, TrackingRequests } from "./settings.ts";
export type { TrackingOrigin, TrackingRecord, TrackingTotals } from "./tracking.ts";
export { SubscriptionValidationError } from "./event-grid.ts";
export type { DeadLetter, DeliveryRecord, EventSchema, SubscriptionOptions, SubscriptionView, PublishedEvent } from "./event-grid.ts";
export type { EmailContent, EmailDetailView, EmailView, ScheduledEventView, ScheduledKind } from "./email-service.ts";
export { EMAIL_DELIVERY_REPORT, EMAIL_ENGAGEMENT } from "./email-service.ts";
export { signRequest } from "./hmac.ts";
export { loadSandboxConfig, type SandboxConfig } from "./config.ts";

export const DEFAULT_TOPIC =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mailroom-sandbox/providers/Microsoft.Communication/CommunicationServices/mailroom-sandbox";

export interface SandboxOptions {
  port?: number;
  accessKey?: string;
  topic?: string;
  settings?: Partial<SandboxSettings>;
  subscriptions?: SubscriptionOptions[];
  log?: Log;
}

export interface SandboxStats {
  emails: EmailService["totals"] & { retained: number; retainedContentBytes: number };
  events: EventGrid["totals"] & { scheduled: number; pendingDeliveries: number };
  /** HTTP requests of the emulated people and machines: made (sent), without answer (failed), answers by status. */
  trackingRequests: TrackingTotals & { scheduled: number; queued: number; inFlight: number };
}

export interface Sandbox {
  baseUrl: string;
  connectionString: string;
  accessKey: string;
  controlUrl: string;
  topic: string;
  settings(): SandboxSettings;
  configure(change: Partial<SandboxSettings>): SandboxSettings;
  subscribe(options: SubscriptionOptions): Promise<SubscriptionView>;
  unsubscribe(name: string): boolean;
  subscriptions(): SubscriptionView[];
  emails(options?: { offset?: number; limit?: number }): EmailView[];
  email(operationId: string): EmailDetailView | undefined;
  scheduledEvents(limit?: number): ScheduledEventView[];
  deliveries(): DeliveryRecord[];
  deadLetters(): DeadLetter[];
  trackingRequests(): TrackingRecord[];
  stats(): SandboxStats;
  whenIdle(timeoutMs?: number): Promise<void>;
  reset(): void;
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  let settings = checkSettings(DEFAULT_SETTINGS, options.settings ?? {});
  const accessKey = options.accessKey ?? crypto.randomBytes(32).toString("base64");
  if (Buffer.from(accessKey, "base64").length === 0) throw new Error("The sandbox access key must be base64.");
  const topic = options.topic ?? DEFAULT_TOPIC;
  const random = new Random(settings.seed);
  const onError = (message: string) => {
    if (options.log) options.log.error(`sandbox: ${message}`);
    else process.emitWarning(`sandbox: ${message}`);
  };
  let baseUrl = "";
  const eventGrid = new EventGrid({ topic, baseUrl: () => baseUrl, settings: () => settings, random, onError });
  const tracker = new TrackingClient({ settings: () => settings, onError });
  const email = new EmailService({ baseUrl: () => baseUrl, topic, settings: () => settings, random, eventGrid, tracker });

  const configure = (change: Record<string, unknown>): SandboxSettings => {
    const next = checkSettings(settings, change);
    if (next.quotaPerMinute !== settings.quotaPerMinute || next.quotaPerHour !== settings.quotaPerHour) email.resetQuotas();
    if ("seed" in change && change.seed !== undefined) random.reseed(next.seed);
    settings = next;
    return settings;
  };
  const reset = () => {
    email.reset();
    eventGrid.reset();
    tracker.reset();
  };
  const stats = (): SandboxStats => ({
    emails: { ...email.totals, retained: email.emailCount, retainedContentBytes: email.retainedContentBytes },
    events: { ...eventGrid.totals, scheduled: email.scheduledCount, pendingDeliveries: eventGrid.pendingCount() },
    trackingRequests: {
      ...tracker.totals,
      byStatus: { ...tracker.totals.byStatus },
      scheduled: tracker.scheduledCount,
      queued: tracker.queuedCount,
      inFlight: tracker.inFlightCount,
    },
  });

  const server = createSandboxServer({
    accessKey,
    settings: () => settings,
    configure,
    email,
    eventGrid,
    tracker,
    reset,
    onError,
    summary: () => ({
      baseUrl,
      connectionString: `endpoint=${baseUrl};accesskey=${accessKey}`,
      topic,
      settings,
      stats: stats(),
      subscriptions: eventGrid.listSubscriptions(),
    }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}/`;

  const sandbox: Sandbox = {
    baseUrl,
    connectionString: `endpoint=${baseUrl};accesskey=${accessKey}`,
    accessKey,
    controlUrl: `${baseUrl}sandbox`,
    topic,
    settings: () => settings,
    configure,
    subscribe: (subscription) => eventGrid.subscribe(subscription),
    unsubscribe: (name) => eventGrid.unsubscribe(name),
    subscriptions: () => eventGrid.listSubscriptions(),
    emails: ({ offset = 0, limit = Infinity } = {}) => email.listEmails(offset, limit),
    email: (operationId) => email.getEmail(operationId),
    scheduledEvents: (limit) => email.listScheduled(limit),
    deliveries: () => eventGrid.listDeliveries(),
    deadLetters: () => eventGrid.listDeadLetters(),
    trackingRequests: () => tracker.list(),
    stats,
    async whenIdle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (email.scheduledCount > 0 || eventGrid.pendingCount() > 0 || tracker.pendingCount() > 0) {
        if (Date.now() > deadline) {
          const s = stats().events;
          throw new Error(
            `The sandbox is not idle after ${timeoutMs} ms: ${s.scheduled} events scheduled, ${s.pendingDeliveries} deliveries pending, ` +
              `${tracker.pendingCount()} tracking requests scheduled or in flight.`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset,
    async stop() {
      email.stop();
      eventGrid.stop();
      tracker.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  try {
    for (const subscription of options.subscriptions ?? []) await eventGrid.subscribe(subscription);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return sandbox;
}
