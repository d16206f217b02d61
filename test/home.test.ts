// GET / says what runs here: Mailroom, its version, the endpoints, the first commands and the documentation,
// as an accessible page without external assets, or as JSON when asked.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot } from "../src/db/migrate.ts";
import { FIRST_COMMANDS } from "../src/http/home.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

let db: TestDatabase;
let receiver: Receiver;
const version = (JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version: string }).version;
const docs = ["README.md", ...fs.readdirSync(path.join(projectRoot, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver(db.pool);
});

afterAll(async () => {
  await receiver?.close();
  await db?.drop();
});

describe("GET /", () => {
  test("a browser gets a page naming Mailroom, its version, the endpoints, the commands and every doc", async () => {
    const response = await fetch(`${receiver.url}/`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain(`<title>Mailroom ${version}</title>`);
    expect(html).toContain(`<h1>Mailroom <small>${version}</small></h1>`);
    for (const endpoint of ["readyz", "healthz", "metrics"]) expect(html).toContain(`<a href="${endpoint}"><code>/${endpoint}</code></a>`);
    // No GraphQL in this process (the test receiver has no authenticator connection): no link to it.
    expect(html).not.toContain('href="graphql"');
    expect(html).toContain("mailroom lists create --name Newsletter --opt-in single");
    // Every doc, by its relative name; nothing loaded from elsewhere, nothing run.
    for (const doc of docs) expect(html).toContain(`<a href="${doc}">${doc}</a>`);
    expect(html).not.toMatch(/<script|<img|<link|src=|https?:\/\//i);
    // Accessible structure: one h1, sections under h2, the text of every link says where it goes.
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html.match(/<h2>/g)!.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain("<main>");
    expect(html).not.toMatch(/<a [^>]*>\s*<\/a>/);
  });

  test("Accept: application/json gets the same as JSON", async () => {
    const response = await fetch(`${receiver.url}/`, { headers: { accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: "Mailroom", version, worker: false, graphql: false, commands: FIRST_COMMANDS });
    expect((body.endpoints as { path: string }[]).map((e) => e.path)).toEqual(["/readyz", "/healthz", "/metrics", "/webhooks/acs"]);
    expect((body.docs as { name: string; url: string }[]).map((d) => d.name).sort()).toEqual([...docs].sort());
  });

  test("the linked docs are served as plain text, and nothing else of the checkout", async () => {
    for (const doc of docs) {
      const response = await fetch(`${receiver.url}/${doc}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await response.text()).toBe(fs.readFileSync(path.join(projectRoot, doc), "utf8"));
    }
    for (const other of ["/package.json", "/docs/../package.json", "/docs/..%2fpackage.json", "/docs/missing.md", "/.data/credentials.json"]) {
      expect((await fetch(`${receiver.url}${other}`)).status).toBe(404);
    }
  });
});
