// Cached API key checks (GRAPHQL_API_KEY_CACHE_SECONDS): a key checked once is not checked again while
// cached, yet a revocation stops it at once (NOTIFY), an expiry is never passed, and without the LISTEN
// connection nothing is served from the cache.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listApiKeys, revokeApiKey } from "../src/graphql/api-keys.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { apiKey, errorOf, startGraphqlServer, type GraphqlServer } from "./helpers/graphql.ts";

let db: TestDatabase;
let api: GraphqlServer;

const QUERY = "{ allCampaigns { totalCount } }";

/** The key check itself made impossible for the authenticator: only a cached check lets a request through. */
const denyChecks = () => db.pool.query("revoke execute on function app_hidden.authenticate_api_key(text) from mailroom_authenticator");
const allowChecks = () => db.pool.query("grant execute on function app_hidden.authenticate_api_key(text) to mailroom_authenticator");

/** Polls `check` until it holds (a generous timeout: the machine may be busy). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 20 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function keyId(): Promise<string> {
  return (await listApiKeys(db.pool)).at(-1)!.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Cached for a minute: anything refused sooner was refused by the notification or the expiry.
  api = await startGraphqlServer(db, { graphql: { apiKeyCacheSeconds: 60 } });
});

afterAll(async () => {
  await allowChecks();
  await api?.close();
  await db?.drop();
});

describe("cached API key checks", () => {
  test("a cached key needs no check; a revoked key is refused at once all the same", async () => {
    const cached = await apiKey(db, "analyst");
    const cachedId = await keyId();
    const fresh = await apiKey(db, "analyst");
    // The LISTEN connection comes up with the first key check; until then nothing is cached.
    await eventually(async () => {
      expect((await api.query(cached, QUERY)).status).toBe(200);
      await denyChecks();
      const served = (await api.query(cached, QUERY)).status === 200;
      await allowChecks();
      return served;
    }, "the key check is cached");

    await denyChecks();
    expect((await api.query(cached, QUERY)).status).toBe(200);
    const unchecked = await api.query(fresh, QUERY);
    expect(unchecked.status).toBe(503); // a key not in the cache is checked, and the check fails
    await allowChecks();

    expect(await revokeApiKey(db.pool, cachedId)).toBe(true);
    await eventually(async () => (await api.query(cached, QUERY)).status === 401, "the revoked key is refused");
    expect(errorOf(await api.query(cached, QUERY))).toBe("this API key has been revoked");
  });

  test("a key is not served from the cache after it expires", async () => {
    const expiresAt = new Date(Date.now() + 5_000);
    const expiring = await apiKey(db, "analyst", expiresAt);
    expect((await api.query(expiring, QUERY)).status).toBe(200);
    expect((await api.query(expiring, QUERY)).status).toBe(200);
    while (Date.now() <= expiresAt.getTime()) await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 50));
    expect(errorOf(await api.query(expiring, QUERY))).toBe("this API key has expired");
  });

  test("without the LISTEN connection nothing is served from the cache", async () => {
    const key = await apiKey(db, "analyst");
    await eventually(async () => {
      await api.query(key, QUERY);
      await denyChecks();
      const served = (await api.query(key, QUERY)).status === 200;
      await allowChecks();
      return served;
    }, "the key check is cached");

    // The listening connection is lost: the cache is emptied, and stays unused until it listens again.
    await db.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = current_database() and usename = 'mailroom_authenticator' and query like 'listen %'`,
    );
    await eventually(async () => {
      await denyChecks();
      const status = (await api.query(key, QUERY)).status;
      await allowChecks();
      return status === 503;
    }, "the key is checked again");
  });
});
