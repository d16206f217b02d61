// Microsoft Entra authentication of deliveries: tokens signed by a key pair made here, the public
// key served from a local JWKS endpoint, as Entra serves its keys.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EntraConfig } from "../src/config.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUDIENCE = "api://mailroom-webhook";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

let db: TestDatabase;
let receiver: Receiver;
let jwksServer: http.Server;
let privateKey: CryptoKey;
let otherPrivateKey: CryptoKey;
let jwksAvailable = true;

const body = JSON.stringify([
  {
    id: "entra-1",
    topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs",
    subject: "sender/news@news.example.com/message/7f3c1d2e-0a4b-4c5d-8e9f-102132435465",
    eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
    eventTime: "2026-11-27T10:04:31.822Z",
    dataVersion: "1.0",
    metadataVersion: "1",
    data: { status: "Delivered", recipient: "ada@example.org", messageId: "7f3c1d2e-0a4b-4c5d-8e9f-102132435465" },
  },
]);

beforeAll(async () => {
  const keys = await generateKeyPair("RS256");
  privateKey = keys.privateKey;
  otherPrivateKey = (await generateKeyPair("RS256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  jwksServer = http.createServer((_req, res) => {
    if (!jwksAvailable) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const entra: EntraConfig = {
    tenantId: TENANT,
    audience: AUDIENCE,
    issuer: ISSUER,
    jwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/keys`,
  };
  db = await createTestDatabase();
  receiver = await startReceiver(db.pool, { secrets: [], entra });
});

afterAll(async () => {
  await receiver?.close();
  await db?.drop();
  jwksServer?.close();
});

async function token(options: { key?: CryptoKey; audience?: string; issuer?: string; expiresIn?: string | number } = {}) {
  return new SignJWT({ appid: "4962773b-9cdb-44cf-a8bf-237846a00ab7" })
    .setProtectedHeader({ alg: "RS256", kid: "test-key" })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "1h")
    .sign(options.key ?? privateKey);
}

function unsigned(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${part({ iss: ISSUER, aud: AUDIENCE, exp: now + 3600, iat: now })}.`;
}

async function deliver(authorization?: string) {
  const response = await fetch(`${receiver.url}/webhooks/acs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body,
  });
  return response.status;
}

describe("Entra bearer tokens", () => {
  test("a valid token is accepted", async () => {
    expect(await deliver(`Bearer ${await token()}`)).toBe(200);
  });

  test.each([
    ["expired", async () => token({ expiresIn: Math.floor(Date.now() / 1000) - 600 })],
    ["for another audience", async () => token({ audience: "api://someone-else" })],
    ["from another issuer", async () => token({ issuer: "https://login.microsoftonline.com/other-tenant/v2.0" })],
    ["signed by a key not in the JWKS", async () => token({ key: otherPrivateKey })],
    ["unsigned (alg: none)", async () => unsigned()],
    ["garbage", async () => "not.a.token"],
  ])("a token %s gets 401", async (_name, make) => {
    expect(await deliver(`Bearer ${await make()}`)).toBe(401);
  });

  test("the key set cannot be fetched: 503, so Event Grid retries instead of dropping", async () => {
    const port = (jwksServer.address() as AddressInfo).port;
    const fresh = await startReceiver(db.pool, {
      secrets: [],
      entra: { tenantId: TENANT, audience: AUDIENCE, issuer: ISSUER, jwksUrl: `http://127.0.0.1:${port}/keys` },
    });
    jwksAvailable = false;
    try {
      const response = await fetch(`${fresh.url}/webhooks/acs`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token()}` },
        body,
      });
      expect(response.status).toBe(503);
    } finally {
      jwksAvailable = true;
      await fresh.close();
    }
  });

  test("no token gets 401", async () => {
    expect(await deliver()).toBe(401);
  });
});
