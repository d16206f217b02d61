// mailroom api-key create|list|revoke: API keys of the GraphQL API, on the owner's connection.
//   mailroom api-key create --role admin|analyst --name "reporting dashboard" [--expires 90d|2027-01-01]
//   mailroom api-key list
//   mailroom api-key revoke <id>
import { parseArgs } from "node:util";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/database.ts";
import { createPool } from "../app.ts";
import { migrateDatabase } from "../db/migrate.ts";
import type { Log } from "../log.ts";
import { ApiKeyError, createApiKey, listApiKeys, parseExpiry, revokeApiKey } from "./api-keys.ts";

export const API_KEY_USAGE = `Usage:
  mailroom api-key create --role admin|analyst --name NAME [--expires 90d|12h|2027-01-01T00:00:00Z]
  mailroom api-key list
  mailroom api-key revoke ID

admin: reads and writes everything the API offers; analyst: reads only. The key is printed once,
at creation; only its SHA-256 is stored. A revoked key is refused from the next request on.`;

export async function runApiKeyCommand(args: string[], config: Config, log: Log): Promise<number> {
  const [action, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { role: { type: "string" }, name: { type: "string" }, expires: { type: "string" } },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${API_KEY_USAGE}`);
    return 2;
  }
  if (!["create", "list", "revoke"].includes(action ?? "") || (action === "revoke" && parsed.positionals.length !== 1)) {
    console.error(API_KEY_USAGE);
    return 2;
  }
  const database = await openDatabase(config, log, { attach: true });
  const pool = createPool(database.ownerUrl, log, 2);
  try {
    await migrateDatabase(database.ownerUrl, database.roles, log);
    if (action === "create") {
      const expiresAt = parsed.values.expires === undefined ? undefined : parseExpiry(parsed.values.expires);
      const { key, row } = await createApiKey(pool, { name: parsed.values.name ?? "", role: parsed.values.role ?? "", expiresAt });
      console.log(`API key ${row.id} (${row.role}, "${row.name}"${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ""}):`);
      console.log(key);
      console.log("Keep it now: it is not stored and cannot be shown again. Send it as Authorization: Bearer <key>.");
    } else if (action === "list") {
      const rows = await listApiKeys(pool);
      if (rows.length === 0) console.log("no API keys (create one with: mailroom api-key create --role admin --name NAME)");
      for (const row of rows) {
        const state = row.revokedAt ? `revoked ${row.revokedAt.toISOString()}`
          : row.expiresAt && row.expiresAt <= new Date() ? `expired ${row.expiresAt.toISOString()}`
          : row.expiresAt ? `valid until ${row.expiresAt.toISOString()}` : "valid";
        console.log(`${row.id}\t${row.role}\t${row.keyPrefix}...\t${row.name}\tcreated ${row.createdAt.toISOString()}\t${state}`);
      }
    } else {
      const id = parsed.positionals[0]!;
      const newly = await revokeApiKey(pool, id);
      console.log(newly ? `API key ${id} revoked` : `API key ${id} was already revoked`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiKeyError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  } finally {
    await pool.end();
    await database.stop();
  }
}
