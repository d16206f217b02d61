// Live numbers for the campaign pages: one LISTEN connection per process, shared by every open page. A trigger on
// app_public.campaign_rollups NOTIFYs mailroom:campaign_rollup:<id> at each change (the channel GraphQL's
// campaignNumbers subscription listens to); this hub LISTENs to a campaign's channel while a page of it is open,
// and tells each of its listeners, which re-read the numbers as their own session's role (src/dashboard/index.ts).
// The connection is opened with the first listener and closed with the last.
import pg from "pg";
import { CAMPAIGN_NUMBERS_CHANNEL_PREFIX } from "../graphql/live-numbers.ts";
import type { Log } from "../log.ts";

/** "change": the numbers changed; "lost": the connection was lost, the listener is dropped (its page reconnects). */
export type Listener = (what: "change" | "lost") => void;

export class LiveNumbersHub {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly config: pg.ClientConfig;
  private readonly log: Log;

  constructor(config: pg.ClientConfig, log: Log) {
    this.config = config;
    this.log = log;
  }

  /** The number of pages listening, all campaigns together. */
  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Calls `listener` at every change of the campaign's numbers until the returned function is called. */
  async subscribe(campaignId: string, listener: Listener): Promise<() => Promise<void>> {
    let set = this.listeners.get(campaignId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(campaignId, set);
    }
    set.add(listener);
    const unsubscribe = async () => {
      const current = this.listeners.get(campaignId);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(campaignId);
      const client = this.client;
      if (!client) return;
      if (this.listeners.size === 0) {
        this.client = undefined;
        await client.end().catch(() => undefined);
      } else {
        await client.query(`unlisten ${client.escapeIdentifier(CAMPAIGN_NUMBERS_CHANNEL_PREFIX + campaignId)}`).catch(() => undefined);
      }
    };
    if (first) {
      try {
        const client = await this.connection();
        await client.query(`listen ${client.escapeIdentifier(CAMPAIGN_NUMBERS_CHANNEL_PREFIX + campaignId)}`);
      } catch (error) {
        await unsubscribe();
        throw error;
      }
    }
    return unsubscribe;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const client = new pg.Client(this.config);
      client.on("notification", (message) => {
        const id = message.channel.slice(CAMPAIGN_NUMBERS_CHANNEL_PREFIX.length);
        for (const listener of this.listeners.get(id) ?? []) listener("change");
      });
      client.on("error", (error) => {
        // The database went away: the open pages are told once (they re-read, and reconnect when they fail).
        this.log.warn({ err: error.message }, "dashboard live numbers connection lost");
        if (this.client === client) this.client = undefined;
        const dropped = [...this.listeners.values()].flatMap((set) => [...set]);
        this.listeners.clear();
        for (const listener of dropped) listener("lost");
      });
      await client.connect();
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}
