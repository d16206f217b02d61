// Who may do what through GraphQL: anonymous callers, analysts and admins by API key and by JWT, revoked
// and expired keys, expired and foreign tokens, against a read and a write; subscriptions likewise.
// Also the bounds (page size, depth, cost) and what errors show in production and in development.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { revokeApiKey, listApiKeys } from "../src/graphql/api-keys.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";

const ISSUER = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
const AUDIENCE = "api://mailroom";

let db: TestDatabase;
let api: GraphqlServer;
let production: GraphqlServer;
let jwksServer: http.Server;
let signingKey: CryptoKey;
let foreignKey: CryptoKey;
const keys: Record<string, string> = {};

async function token(claims: Record<string, unknown>, options: { expiresIn?: string | number; key?: CryptoKey; audience?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject("user-1")
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(options.key ?? signingKey);
}

const READ = "{ allCampaigns { totalCount nodes { id name } } }";
const WRITE = `mutation { createList(input: { list: { name: "Newsletter" } }) { list { id name } } }`;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  foreignKey = (await generateKeyPair("RS256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwksServer = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const jwt = {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/keys`,
    roleClaim: "roles",
    adminValues: ["Mailroom.Admin"],
    analystValues: ["Mailroom.Analyst"],
  };
  db = await createTestDatabase();
  await db.pool.query("insert into app_public.campaigns (name) values ('Spring sale')");
  // A fault inside the database that is nobody's request error (SQLSTATE XX000).
  await db.pool.query(`create function app_public.internal_fault() returns integer as $$
    begin raise exception 'relation app_private.secret_table is corrupt' using errcode = 'XX000'; end;
    $$ language plpgsql stable`);
  keys.admin = await apiKey(db, "admin");
  keys.analyst = await apiKey(db, "analyst");
  keys.revoked = await apiKey(db, "admin");
  const revokedId = (await listApiKeys(db.pool)).at(-1)!.id;
  expect(await revokeApiKey(db.pool, revokedId)).toBe(true);
  expect(await revokeApiKey(db.pool, revokedId)).toBe(false);
  keys.expired = await apiKey(db, "admin", new Date(Date.now() - 60_000));
  keys.jwtAdmin = await token({ roles: ["Mailroom.Admin"] });
  keys.jwtAnalyst = await token({ roles: "Mailroom.Analyst" });
  keys.jwtExpired = await token({ roles: ["Mailroom.Admin"] }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
  keys.jwtForeign = await token({ roles: ["Mailroom.Admin"] }, { key: foreignKey });
  keys.jwtOtherAudience = await token({ roles: ["Mailroom.Admin"] }, { audience: "api://other" });
  keys.jwtNoRole = await token({ roles: ["Somebody.Else"] });
  api = await startGraphqlServer(db, { graphql: { jwt } });
  production = await startGraphqlServer(db, { production: true });
});

afterAll(async () => {
  await api?.close();
  await production?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await db?.drop();
});

describe("the access matrix", () => {
  const refused: [string, string | undefined, RegExp][] = [
    ["anonymous", undefined, /authentication required/],
    ["an unknown API key", "mrk_notakey", /unknown API key/],
    ["a revoked API key", "revoked", /revoked/],
    ["an expired API key", "expired", /expired/],
    ["an expired JWT", "jwtExpired", /token has expired/],
    ["a JWT signed by another key", "jwtForeign", /not valid/],
    ["a JWT for another audience", "jwtOtherAudience", /aud claim/],
    ["a JWT without a Mailroom role", "jwtNoRole", /grants no Mailroom role/],
  ];
  for (const [who, credential, message] of refused) {
    test(`${who} can neither read nor write (401)`, async () => {
      const presented = credential === undefined ? undefined : (keys[credential] ?? credential);
      for (const document of [READ, WRITE]) {
        const response = await api.query(presented, document);
        expect(response.status).toBe(401);
        expect(response.data).toBeUndefined();
        expect(errorOf(response)).toMatch(message);
      }
    });
  }

  for (const who of ["analyst", "jwtAnalyst"]) {
    test(`an analyst (${who === "analyst" ? "API key" : "JWT"}) reads but cannot write`, async () => {
      const read = await api.query(keys[who], READ);
      expect(read.errors).toBeUndefined();
      expect(read.data!.allCampaigns.nodes).toEqual([{ id: expect.any(String), name: "Spring sale" }]);
      const write = await api.query(keys[who], WRITE);
      expect(write.data?.createList ?? null).toBeNull();
      expect(errorOf(write)).toMatch(/permission denied/);
      expect(write.errors![0]!.extensions!.code).toBe("42501");
    });
  }

  for (const who of ["admin", "jwtAdmin"]) {
    test(`an admin (${who === "admin" ? "API key" : "JWT"}) reads and writes`, async () => {
      const read = await api.query(keys[who], READ);
      expect(read.errors).toBeUndefined();
      expect(read.data!.allCampaigns.totalCount).toBe(1);
      const write = await api.query(keys[who], WRITE);
      expect(write.errors).toBeUndefined();
      expect(write.data!.createList.list.name).toBe("Newsletter");
    });
  }

  test("the request runs as the key's role, with its claims as settings", async () => {
    const { rows } = await db.pool.query("select count(*)::int as n from app_public.lists");
    expect(rows[0].n).toBe(2);
  });

  test("an analyst cannot read API keys or sender secrets: they are not in the schema", async () => {
    const response = await api.query(keys.admin, `{ __type(name: "Sender") { fields { name } } q: __type(name: "Query") { fields { name } } }`);
    const senderFields = response.data!.__type.fields.map((f: { name: string }) => f.name);
    expect(senderFields).not.toContain("connectionString");
    expect(JSON.stringify(response.data!.q)).not.toMatch(/apiKey|senderSecret/i);
  });

  test("subscriptions need a valid credential too", async () => {
    // A subscription refused ends with an error; one accepted gets an update once the server LISTENs, which
    // the client is not told: the channel is notified (the numbers unchanged) until something arrives.
    const outcome = (credential: string | undefined) =>
      new Promise<string>((resolve, reject) => {
        let settled = false;
        const settle = (value: string) => {
          settled = true;
          resolve(value);
        };
        const client = api.wsClient(credential);
        client.subscribe(
          { query: "subscription { campaignNumbers(campaignId: \"1\") { recipients } }" },
          { next: () => settle("next"), error: (e) => settle(JSON.stringify(e)), complete: () => settle("complete") },
        );
        const deadline = Date.now() + 30_000;
        void (async () => {
          while (!settled) {
            if (Date.now() > deadline) return settle("nothing within 30 s");
            await db.pool.query(`select pg_notify('mailroom:campaign_rollup:1', '{"campaignId": 1}')`);
            await new Promise((r) => setTimeout(r, 100));
          }
        })().catch(reject);
      });
    expect(await outcome(undefined)).toMatch(/authentication required/);
    expect(await outcome(keys.revoked)).toMatch(/revoked/);
    expect(await outcome(keys.analyst)).toBe("next");
  });
});

describe("bounds", () => {
  test("a page larger than the cap is refused; no first/last reads one capped page", async () => {
    await db.pool.query("insert into app_public.subscribers (email) select 's' || i || '@example.org' from generate_series(1, 130) as i");
    const tooMany = await api.query(keys.analyst, "{ allSubscribers(first: 101) { nodes { id } } }");
    expect(errorOf(tooMany)).toMatch(/at most 100 rows/);
    const unbounded = await api.query(keys.analyst, "{ allSubscribers { totalCount nodes { id } pageInfo { hasNextPage } } }");
    expect(unbounded.data!.allSubscribers.totalCount).toBe(130);
    expect(unbounded.data!.allSubscribers.nodes).toHaveLength(100);
    expect(unbounded.data!.allSubscribers.pageInfo.hasNextPage).toBe(true);
    const last = await api.query(keys.analyst, "query($n: Int) { allSubscribers(last: $n) { nodes { email } } }", { n: 3 });
    expect(last.data!.allSubscribers.nodes.map((n: { email: string }) => n.email)).toEqual(["s128@example.org", "s129@example.org", "s130@example.org"]);
    const viaVariable = await api.query(keys.analyst, "query($n: Int) { allSubscribers(first: $n) { nodes { id } } }", { n: 5000 });
    expect(errorOf(viaVariable)).toMatch(/at most 100 rows/);
  });

  test("a query nested too deep is refused before it runs", async () => {
    const deep = "{ allCampaigns { nodes { sender { campaigns { nodes { sender { campaigns { nodes { sender { campaigns { nodes { id } } } } } } } } } } } }";
    const response = await api.query(keys.analyst, deep);
    expect(errorOf(response)).toMatch(/nested 1\d deep; at most 10/);
  });

  test("a query that may read too many rows is refused before it runs", async () => {
    const wide = "{ allCampaigns(first: 100) { nodes { messages(first: 100) { nodes { events(first: 100) { nodes { status } } } } } } }";
    const response = await api.query(keys.analyst, wide);
    expect(errorOf(response)).toMatch(/may read 1010100 rows; at most 50000/);
  });
});

describe("errors", () => {
  const broken = `mutation { startCampaign(input: { campaignId: "1" }) { campaign { id } } }`;

  test("request errors are shown in production, with their code", async () => {
    const response = await production.query(keys.admin, broken);
    expect(errorOf(response)).toMatch(/campaign 1 has no sender/);
    expect(response.errors![0]!.extensions!.code).toBe("55000");
  });

  test("internal errors are masked in production and shown in development", async () => {
    const masked = await production.query(keys.admin, "{ internalFault }");
    expect(errorOf(masked)).toMatch(/^An internal error occurred \(error id [0-9a-f]{12}\)$/);
    expect(JSON.stringify(masked)).not.toMatch(/secret_table|corrupt|stack/i);
    const shown = await api.query(keys.admin, "{ internalFault }");
    expect(errorOf(shown)).toMatch(/relation app_private.secret_table is corrupt/);
  });

  test("the IDE is served in development only, and without data", async () => {
    const dev = await fetch(`${api.url}/graphql`, { headers: { accept: "text/html" } });
    expect(dev.status).toBe(200);
    expect(await dev.text()).toMatch(/ruru/i);
    const prod = await fetch(`${production.url}/graphql`, { headers: { accept: "text/html" } });
    expect(prod.status).toBe(401);
  });
});
