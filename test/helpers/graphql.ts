// The HTTP application with the GraphQL API on a test database, and a small GraphQL client over HTTP
// (fetch) and websockets (graphql-ws).
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { createClient, type Client } from "graphql-ws";
import { loadConfig, type GraphqlConfig } from "../../src/config.ts";
import { createApiKey } from "../../src/graphql/api-keys.ts";
import type { PreviewBackend } from "../../src/graphql/preview.ts";
import { createGraphqlApi } from "../../src/graphql/server.ts";
import { createHttpApp } from "../../src/http/app.ts";
import { createWebhookAuthenticator } from "../../src/http/webhook-auth.ts";
import type { TestDatabase } from "./database.ts";
import { endPool, testPool } from "./pg.ts";

export interface GraphqlResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface GraphqlServer {
  url: string;
  /** POST /graphql with `credential` as the bearer token (none when undefined). */
  query<T = Record<string, any>>(credential: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse<T>>;
  /** A graphql-ws client authenticating with `credential`. */
  wsClient(credential: string | undefined): Client;
  close(): Promise<void>;
}

export async function startGraphqlServer(
  db: TestDatabase,
  options: { production?: boolean; graphql?: Partial<GraphqlConfig>; preview?: PreviewBackend } = {},
): Promise<GraphqlServer> {
  const pool = testPool({ connectionString: db.authUrl, max: 10 });
  const graphqlConfig = { ...loadConfig({}).graphql, ...options.graphql };
  const log = pino({ level: "silent" });
  const graphql = createGraphqlApi({ pool, roles: db.roles, config: graphqlConfig, production: options.production ?? false, log, preview: options.preview });
  const app = createHttpApp({
    pool: db.pool,
    log,
    shuttingDown: () => false,
    webhook: { authenticator: createWebhookAuthenticator([], undefined), maxBodyBytes: 1024 * 1024 },
    graphql,
  });
  const server = http.createServer(app);
  await graphql.attachWebsockets(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    url,
    async query(credential, query, variables) {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphqlResponse;
      return { ...body, status: response.status } as never;
    },
    wsClient(credential) {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: globalThis.WebSocket,
        connectionParams: credential ? { authorization: `Bearer ${credential}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await graphql.release();
      await endPool(pool);
    },
  };
}

/** An API key of the given role, created as `mailroom api-key create` does. */
export async function apiKey(db: TestDatabase, role: "admin" | "analyst", expiresAt?: Date): Promise<string> {
  return (await createApiKey(db.pool, { name: `test ${role}`, role, expiresAt })).key;
}

/** The first error's message, or undefined. */
export function errorOf(response: GraphqlResponse): string | undefined {
  return response.errors?.[0]?.message;
}

