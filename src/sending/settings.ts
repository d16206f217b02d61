// What the send tasks need from the process: where ACS is, how the unsubscribe URLs start, and the tuning
// of claims and requests. prepareSending (src/sending/process.ts) builds it from the configuration, and the
// worker's tasks are built over it (createTaskList, tasks/index.ts); tests build their own.
import type { Log } from "../log.ts";

export interface SendingSettings {
  /**
   * Connection string for senders without one of their own in app_private.sender_secrets:
   * ACS_CONNECTION_STRING, or the in-process sandbox's. Undefined: such senders cannot send.
   */
  defaultConnectionString: string | undefined;
  /** Public base URL of this service (PUBLIC_URL): the unsubscribe links start with it. */
  publicUrl: string;
  /** UNSUBSCRIBE_SECRET, or undefined to use the secret generated and stored in the database. */
  unsubscribeSecret: string | undefined;
  /** TRACKING_SECRETS (the first signs), or undefined to use the secret generated and stored in the database. */
  trackingSecrets: string[] | undefined;
  /** Messages per claim (SEND_BATCH_SIZE). */
  batchSize: number;
  /** Requests to ACS in flight per campaign job (SEND_CONCURRENCY). */
  concurrency: number;
  /** Claims a campaign job works on at once, so claiming and recording overlap with sending. */
  lanes: number;
  /** Lease of a claim (SEND_LEASE_SECONDS): when a worker dies, its messages are looked up after this. */
  leaseSeconds: number;
  /** How long one request to ACS may take (SEND_TIMEOUT_MS); longer is an unknown outcome. */
  timeoutMs: number;
  /** First wait before a message with an unknown outcome is looked up; doubles with each attempt. */
  retryBaseMs: number;
  /** Attempts after which a message still unknown to ACS is failed. */
  maxAttempts: number;
  /** A wait shorter than this (quota, 429, backoff) is slept in the job; longer, the job is rescheduled. */
  maxInlineWaitMs: number;
  log: Log | undefined;
}

export const DEFAULT_SENDING_SETTINGS: SendingSettings = {
  defaultConnectionString: undefined,
  publicUrl: "http://127.0.0.1:3000",
  unsubscribeSecret: undefined,
  trackingSecrets: undefined,
  batchSize: 100,
  concurrency: 64,
  lanes: 4,
  leaseSeconds: 60,
  timeoutMs: 30_000,
  retryBaseMs: 5_000,
  maxAttempts: 10,
  maxInlineWaitMs: 5_000,
  log: undefined,
};
