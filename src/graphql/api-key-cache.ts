// Successful API key checks, remembered for a few seconds (GRAPHQL_API_KEY_CACHE_SECONDS) so that a request
// with a key checked recently makes no round trip for it. Every change to app_private.api_keys (a revocation)
// sends NOTIFY mailroom:api_keys; this process LISTENs on a connection of its own and forgets everything it
// remembered the moment the notification arrives. While that connection is not listening (not yet connected,
// lost, reconnecting), nothing is remembered: every request checks its key in the database.
import pg from "pg";
import type { Log } from "../log.ts";

export const API_KEYS_CHANNEL = "mailroom:api_keys";

interface Entry<T> {
  value: T;
  until: number;
}

export class ApiKeyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private generation = 0;
  private listening = false;
  private client: pg.Client | undefined;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  private readonly connectionConfig: pg.ClientConfig;
  private readonly ttlMs: number;
  private readonly log: Log | undefined;

  constructor(connectionConfig: pg.ClientConfig, ttlMs: number, log?: Log) {
    this.connectionConfig = connectionConfig;
    this.ttlMs = ttlMs;
    this.log = log;
  }

  /** Remembered and not yet due; undefined when not cached (or not listening). */
  get(hash: string): T | undefined {
    if (!this.listening) {
      this.listen();
      return undefined;
    }
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.value;
  }

  /** Taken before a check: a check that began before a change is not remembered after it. */
  version(): number {
    return this.generation;
  }

  /** Remembers a successful check begun at `version`, at most until the key expires (`secondsLeft`). */
  set(hash: string, value: T, secondsLeft: number | null, version: number): void {
    if (!this.listening || version !== this.generation) return;
    const ms = secondsLeft === null ? this.ttlMs : Math.min(this.ttlMs, secondsLeft * 1000);
    if (ms <= 0) return;
    this.entries.set(hash, { value, until: Date.now() + ms });
  }

  clear(): void {
    this.entries.clear();
    this.generation++;
  }

  private listen(): void {
    // One attempt at a time, and after a failure none before the retry is due.
    if (this.starting || this.retry || this.stopped) return;
    this.starting = this.connect().finally(() => {
      this.starting = undefined;
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.connectionConfig, connectionTimeoutMillis: 5000 });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      const wasListening = this.listening;
      this.listening = false;
      this.client = undefined;
      this.clear();
      client.end().catch(() => undefined);
      if (this.stopped) return;
      if (wasListening) this.log?.warn({ err: error }, "API key cache: the LISTEN connection was lost; every request checks its key until it is back");
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.listen();
      }, 1000);
      this.retry.unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (message) => {
      if (message.channel === API_KEYS_CHANNEL) this.clear();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`listen "${API_KEYS_CHANNEL}"`);
      if (this.client !== client || this.stopped) return;
      // Whatever changed before LISTEN was heard by no one: start empty.
      this.clear();
      this.listening = true;
    } catch (error) {
      lost(error as Error);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.starting;
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    this.clear();
    await client?.end().catch(() => undefined);
  }
}
