// mailroom replay-unattributed [--json]: runs attribution again for the events still unattributed
// (app_private.pending_events), with app_private.attribute_pending_events, and reports how many were attributed
// now, by which key, and how many still match no message.
import { parseArgs } from "node:util";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { inTransaction, runCommand, withDatabase } from "./database.ts";
import { count } from "./progress.ts";

export interface ReplayResult {
  before: number;
  attributed: Record<string, number>;
  attributedTotal: number;
  after: number;
}

export async function replayUnattributed(client: pg.Client): Promise<ReplayResult> {
  return inTransaction(client, async () => {
    // attribute_pending_events takes the attribution lock first, so count after it, in the same transaction.
    const { rows } = await client.query<{ attributed_by: string; events: string }>(
      "select attributed_by, events from app_private.attribute_pending_events()");
    const attributed = Object.fromEntries(rows.map((r) => [r.attributed_by, Number(r.events)]));
    const attributedTotal = Object.values(attributed).reduce((a, b) => a + b, 0);
    const after = Number((await client.query("select count(*) from app_private.pending_events")).rows[0].count);
    return { before: after + attributedTotal, attributed, attributedTotal, after };
  });
}

export async function runReplayUnattributedCommand(args: string[], config: Config, log: Log): Promise<number> {
  let json = false;
  try {
    json = parseArgs({ args, options: { json: { type: "boolean" } } }).values.json ?? false;
  } catch (error) {
    console.error(`${(error as Error).message}\n\nUsage: mailroom replay-unattributed [--json]`);
    return 2;
  }
  return runCommand(async () => {
    const result = await withDatabase(config, log, (client) => replayUnattributed(client));
    if (json) {
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    console.log(`Unattributed events before: ${count(result.before)}`);
    const keys = Object.entries(result.attributed).map(([key, n]) => `${key} ${count(n)}`).join(", ");
    console.log(`Attributed now: ${count(result.attributedTotal)}${keys ? ` (by ${keys})` : ""}`);
    console.log(`Still unattributed: ${count(result.after)}${result.after > 0 ? " (they match no message; see app_public.unattributed_events)" : ""}`);
    return 0;
  });
}
