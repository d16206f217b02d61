// mailroom api-keys create|list|revoke: API keys of the GraphQL API, on the owner's connection (also: mailroom api-key).
//   mailroom api-keys create --role admin|analyst --name "reporting dashboard" [--expires 90d|2027-01-01]
//   mailroom api-keys list
//   mailroom api-keys revoke ID
// The key is printed once, at creation; only its SHA-256 is stored (src/graphql/api-keys.ts).
import { ApiKeyError, createApiKey, listApiKeys, parseExpiry, revokeApiKey, type ApiKeyRow } from "../graphql/api-keys.ts";
import { formatTable, notFound, print, usageError, type Command } from "./command.ts";

function keyState(row: ApiKeyRow, now = new Date()): string {
  return row.revokedAt ? `revoked ${row.revokedAt.toISOString()}`
    : row.expiresAt && row.expiresAt <= now ? `expired ${row.expiresAt.toISOString()}`
    : row.expiresAt ? `valid until ${row.expiresAt.toISOString()}` : "valid";
}

function jsonKey(row: ApiKeyRow) {
  return {
    id: Number(row.id), name: row.name, role: row.role, keyPrefix: row.keyPrefix, createdAt: row.createdAt,
    expiresAt: row.expiresAt, revokedAt: row.revokedAt,
    valid: row.revokedAt === null && (row.expiresAt === null || row.expiresAt > new Date()),
  };
}

/** ApiKeyError (a bad role, name, expiry or id) is a usage error. */
async function usageOnApiKeyError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiKeyError) throw usageError(error.message);
    throw error;
  }
}

const create: Command = {
  noun: "api-keys",
  verb: "create",
  summary: "create a GraphQL API key (printed once)",
  usage: "--role admin|analyst --name NAME [--expires 90d|12h|30m|2027-01-01T00:00:00Z]",
  help: `Options:
  --role admin|analyst   admin: reads and writes everything the API offers; analyst: reads only
  --name NAME            who or what the key is for
  --expires WHEN         a duration from now (90d, 12h, 30m) or an ISO 8601 time; default: never

The key is printed once, on a line of its own; only its SHA-256 is stored. Send it as
Authorization: Bearer <key>. --json prints it as "key".`,
  options: { role: { type: "string" }, name: { type: "string" }, expires: { type: "string" } },
  async run(context) {
    const { key, row } = await usageOnApiKeyError(async () => {
      const expires = context.options.expires as string | undefined;
      const expiresAt = expires === undefined ? undefined : parseExpiry(expires);
      const options = { name: (context.options.name as string | undefined) ?? "", role: (context.options.role as string | undefined) ?? "", expiresAt };
      return context.database((client) => createApiKey(client, options));
    });
    print(context, { ...jsonKey(row), key }, () => [
      `API key ${row.id} (${row.role}, "${row.name}"${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ""}):`,
      key,
      "Keep it now: it is not stored and cannot be shown again. Send it as Authorization: Bearer <key>.",
    ].join("\n"));
  },
};

const list: Command = {
  noun: "api-keys",
  verb: "list",
  summary: "the API keys: role, prefix, name, created, state (never the keys)",
  usage: "",
  async run(context) {
    const rows = await context.database((client) => listApiKeys(client));
    print(context, rows.map(jsonKey), () => rows.length === 0
      ? "No API keys (create one with: mailroom api-keys create --role admin --name NAME)"
      : formatTable(rows.map((row) => ({ ...row, keyPrefix: `${row.keyPrefix}...`, state: keyState(row) })), [
          ["id", "id"], ["role", "role"], ["keyPrefix", "key"], ["name", "name"], ["createdAt", "created"], ["state", "state"],
        ]));
  },
};

const revoke: Command = {
  noun: "api-keys",
  verb: "revoke",
  summary: "revoke an API key at once",
  usage: "ID",
  help: "A revoked key is refused from the next request on (every GraphQL server hears of it at once).",
  positionals: [1, 1],
  async run(context) {
    const id = context.positionals[0]!;
    if (!/^[1-9][0-9]{0,17}$/.test(id)) throw usageError(`${JSON.stringify(id)} is not an API key id (see mailroom api-keys list)`);
    const newly = await context.database(async (client) => {
      const { rows } = await client.query("select 1 from app_private.api_keys where id = $1", [id]);
      if (rows.length === 0) throw notFound(`there is no API key ${id} (see mailroom api-keys list)`);
      return revokeApiKey(client, id);
    });
    print(context, { id: Number(id), revoked: true, alreadyRevoked: !newly }, () => newly ? `API key ${id} revoked` : `API key ${id} was already revoked`);
  },
};

export const commands: Command[] = [create, list, revoke];
