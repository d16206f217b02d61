// GraphQL settings and API key options: defaults, and one clear error for each invalid value.
import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { ApiKeyError, parseExpiry } from "../src/graphql/api-keys.ts";
import { roleFromClaims } from "../src/graphql/auth.ts";

describe("GraphQL settings", () => {
  test("defaults", () => {
    expect(loadConfig({}).graphql).toEqual({ maxPageSize: 100, maxDepth: 10, maxCost: 50000, apiKeyCacheSeconds: 5, jwt: undefined });
  });

  test("JWT settings come together", () => {
    const config = loadConfig({
      GRAPHQL_JWT_ISSUER: "https://login.microsoftonline.com/t/v2.0",
      GRAPHQL_JWT_AUDIENCE: "api://mailroom",
      GRAPHQL_JWT_JWKS_URL: "https://login.microsoftonline.com/t/discovery/v2.0/keys",
      GRAPHQL_JWT_ADMIN_ROLES: "Mailroom.Admin, Ops",
    });
    expect(config.graphql.jwt).toMatchObject({ roleClaim: "roles", adminValues: ["Mailroom.Admin", "Ops"], analystValues: ["analyst"] });
    expect(() => loadConfig({ GRAPHQL_JWT_ISSUER: "https://issuer" })).toThrow(
      new ConfigError("GRAPHQL_JWT_AUDIENCE", "Invalid configuration: GRAPHQL_JWT_AUDIENCE is unset; expected GRAPHQL_JWT_ISSUER, GRAPHQL_JWT_AUDIENCE and GRAPHQL_JWT_JWKS_URL to be set together (or none)."),
    );
    expect(() => loadConfig({ GRAPHQL_JWT_ISSUER: "i", GRAPHQL_JWT_AUDIENCE: "a", GRAPHQL_JWT_JWKS_URL: "not a url" })).toThrow(/GRAPHQL_JWT_JWKS_URL="not a url"; expected an absolute URL/);
    expect(() => loadConfig({ GRAPHQL_MAX_PAGE_SIZE: "0" })).toThrow(/GRAPHQL_MAX_PAGE_SIZE="0"; expected an integer from 1 to 10000/);
  });

  test("the role claim: admin wins, unknown values grant nothing", () => {
    const jwt = { issuer: "i", audience: "a", jwksUrl: "u", roleClaim: "roles", adminValues: ["A"], analystValues: ["R"] };
    expect(roleFromClaims({ roles: ["R", "A"] }, jwt)).toBe("admin");
    expect(roleFromClaims({ roles: "R" }, jwt)).toBe("analyst");
    expect(roleFromClaims({ roles: ["X"] }, jwt)).toBeUndefined();
    expect(roleFromClaims({}, jwt)).toBeUndefined();
  });
});

describe("API key expiry", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  test("durations and times", () => {
    expect(parseExpiry("90d", now).toISOString()).toBe("2027-02-25T12:00:00.000Z");
    expect(parseExpiry("12h", now).toISOString()).toBe("2026-11-28T00:00:00.000Z");
    expect(parseExpiry("2027-01-01T00:00:00Z", now).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(() => parseExpiry("soon", now)).toThrow(ApiKeyError);
    expect(() => parseExpiry("2020-01-01", now)).toThrow(/in the past/);
  });
});
