// The GraphQL API: PostGraphile v5 over app_public, served by grafserv on the Express app at /graphql
// (POST; websockets for subscriptions; Ruru on GET in development). Every request runs on the
// authenticator's connection with `role` and the caller's claims set from its credentials.
import type http from "node:http";
import type express from "express";
import type pg from "pg";
import { postgraphile, type PostGraphileInstance } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { grafserv } from "postgraphile/grafserv/express/v4";
import { GraphQLError } from "postgraphile/graphql";
import type { GraphqlConfig } from "../config.ts";
import type { DatabaseRoles } from "../db/roles.ts";
import type { Log } from "../log.ts";
import { createGraphqlAuthenticator, type Authentication, type GraphqlAuthenticator } from "./auth.ts";
import { makeMaskError } from "./errors.ts";
import { makeLimitsPlugin, makePaginationCapPlugin } from "./limits.ts";
import { LiveNumbersPlugin } from "./live-numbers.ts";
import { makeCampaignPreviewPlugin, type PreviewBackend } from "./preview.ts";
import { MailroomSmartTagsPlugin } from "./smart-tags.ts";

export const GRAPHQL_PATH = "/graphql";

/** Where Express keeps a request's authentication for the GraphQL context (res.locals). */
const AUTH_LOCAL = "mailroomAuth";

export interface GraphqlPresetOptions {
  /** A pool connected as the authenticator. */
  pool: pg.Pool;
  config: GraphqlConfig;
  production: boolean;
  log: Log;
  /** Authenticates websocket subscriptions (HTTP requests are authenticated before grafserv). */
  authenticator?: GraphqlAuthenticator;
  /** The owner's pool and sending settings campaignPreview renders with (without: it answers "not available"). */
  preview?: PreviewBackend;
}

type RequestContext = Partial<Grafast.RequestContext>;

/** The `authorization` connection parameter of a graphql-ws connection (any case). */
function websocketAuthorization(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  for (const [key, value] of Object.entries(params ?? {})) {
    if (key.toLowerCase() === "authorization" && typeof value === "string") return value;
  }
  return undefined;
}

/** The PostGraphile preset: also used by `npm run graphql:export`. */
export function makeGraphqlPreset(options: GraphqlPresetOptions): GraphileConfig.Preset {
  const { config, production, authenticator } = options;
  return {
    extends: [PostGraphileAmberPreset],
    // Relay global object ids are not used: rows are identified by their `id` column.
    disablePlugins: ["NodePlugin"],
    plugins: [
      {
        // Without Relay global ids there is no `id` to clash with: a table's id column stays `id`
        // (PostGraphile v5 renames it `rowId` by default).
        name: "MailroomIdColumnPlugin",
        version: "1.0.0",
        inflection: {
          replace: {
            _attributeName(previous, _options, details) {
              return previous!({ ...details, skipRowId: true });
            },
          },
        },
      },
      MailroomSmartTagsPlugin,
      LiveNumbersPlugin,
      makeCampaignPreviewPlugin(options.preview),
      makePaginationCapPlugin(config.maxPageSize),
      makeLimitsPlugin(config),
      {
        name: "MailroomWebsocketAuthenticationPlugin",
        version: "1.0.0",
        grafserv: {
          middleware: {
            async onSubscribe(next, event) {
              if (!authenticator) return [new GraphQLError("subscriptions are not available")];
              const auth = await authenticator.authenticate(websocketAuthorization(event.ctx.connectionParams));
              if (!auth.ok) return [new GraphQLError(auth.message, { extensions: { code: "UNAUTHENTICATED" } })];
              return next();
            },
          },
        },
      },
    ],
    pgServices: [makePgService({ pool: options.pool, schemas: ["app_public"], pubsub: true })],
    grafserv: {
      graphqlPath: GRAPHQL_PATH,
      eventStreamPath: `${GRAPHQL_PATH}/stream`,
      graphiql: !production,
      graphiqlOnGraphQLGET: !production,
      graphiqlPath: GRAPHQL_PATH,
      websockets: true,
      // A bulk import of 10,000 subscribers is about 1-2 MB of JSON.
      maxRequestLength: 8 * 1024 * 1024,
      maskError: makeMaskError(production, options.log),
    },
    grafast: {
      async context(requestContext: RequestContext) {
        let auth: Authentication | undefined = requestContext.expressv4?.res.locals[AUTH_LOCAL] as Authentication | undefined;
        if (!auth && requestContext.ws && authenticator) {
          auth = await authenticator.authenticate(websocketAuthorization(requestContext.ws.connectionParams));
        }
        // No credentials, no role: the authenticator itself may read nothing.
        return { pgSettings: auth?.ok ? auth.pgSettings : {} };
      },
    },
  };
}

export interface GraphqlApi {
  /** Adds authentication and the GraphQL handler to the Express app. */
  mount(app: express.Express): void;
  /** Serves subscriptions (graphql-ws) on the HTTP server's websocket upgrades at /graphql. */
  attachWebsockets(server: http.Server): Promise<void>;
  release(): Promise<void>;
}

export interface GraphqlApiOptions {
  pool: pg.Pool;
  roles: DatabaseRoles;
  config: GraphqlConfig;
  production: boolean;
  log: Log;
  preview?: PreviewBackend;
}

export function createGraphqlApi(options: GraphqlApiOptions): GraphqlApi {
  const authenticator = createGraphqlAuthenticator({
    pool: options.pool,
    roles: options.roles,
    jwt: options.config.jwt,
    apiKeyCacheSeconds: options.config.apiKeyCacheSeconds,
    log: options.log,
  });
  const preset = makeGraphqlPreset({ ...options, authenticator });
  const pgl: PostGraphileInstance = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const ruru = !options.production;

  return {
    mount(app) {
      app.use(GRAPHQL_PATH, async (req, res, next) => {
        // The in-browser IDE (development only) is a page without data; queries it sends carry a key.
        if (ruru && req.method === "GET" && req.accepts(["application/json", "text/html"]) === "text/html") return next();
        const auth = await authenticator.authenticate(req.get("authorization"));
        if (!auth.ok) {
          res
            .status(auth.status)
            .set("WWW-Authenticate", 'Bearer realm="mailroom"')
            .json({ errors: [{ message: auth.message, extensions: { code: auth.status === 401 ? "UNAUTHENTICATED" : "UNAVAILABLE" } }] });
          return;
        }
        res.locals[AUTH_LOCAL] = auth;
        next();
      });
      // Without websockets addTo only adds the handler, synchronously; the upgrades are attachWebsockets'.
      void serv.addTo(app, null, false);
    },
    async attachWebsockets(server) {
      const upgradeHandler = await serv.getUpgradeHandler();
      if (!upgradeHandler) return;
      const upgrade = (req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => {
        if (serv.shouldHandleUpgrade(req, socket, head)) upgradeHandler(req, socket, head);
      };
      server.on("upgrade", upgrade);
      serv.onRelease(() => {
        server.off("upgrade", upgrade);
      });
    },
    async release() {
      await authenticator.release();
      await pgl.release(); // releases the server too
      // The service's LISTEN connection goes back to the pool (the pool itself is the caller's).
      for (const service of preset.pgServices ?? []) await service.release?.();
    },
  };
}
