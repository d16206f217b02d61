// GET /: what runs here and where the docs are. A small page for a person who opens the server's address in a
// browser (accessible HTML, no script, no external asset), and the same as JSON for `Accept: application/json`.
// The documentation (README.md and docs/*.md) is served as plain text at the same relative names as in the
// project's repository, so that the page's links work wherever the server runs from its checkout.
import fs from "node:fs";
import path from "node:path";
import express from "express";
import { projectRoot } from "../db/migrate.ts";
import type { HttpDependencies } from "./app.ts";

export const VERSION = (JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

export interface Doc {
  /** The file's path in the repository, e.g. docs/cli.md: also its URL path, relative to /. */
  name: string;
  title: string;
}

/** README.md and docs/*.md as they are in the checkout, each with the title of its first heading. */
export function findDocs(): Doc[] {
  const names = ["README.md"];
  try {
    names.push(...fs.readdirSync(path.join(projectRoot, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`));
  } catch {
    // No docs directory: the README only.
  }
  return names.flatMap((name) => {
    try {
      const text = fs.readFileSync(path.join(projectRoot, name), "utf8");
      const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? name;
      return [{ name, title }];
    } catch {
      return [];
    }
  });
}

/** The commands a newcomer starts with (mailroom is src/cli.ts; every command has --help and --json). */
export const FIRST_COMMANDS = [
  "mailroom lists create --name Newsletter --opt-in single",
  "mailroom subscribers import --list Newsletter people.csv",
  "mailroom senders create --name News --from news@example.com",
  'mailroom templates create --name Welcome --subject "Hello {{ subscriber.name }}" --html welcome.html',
  "mailroom campaigns create --name First --template Welcome --list Newsletter --sender News",
  "mailroom campaigns preview 1",
  "mailroom campaigns start 1",
  "mailroom campaigns status 1",
  "mailroom api-keys create --role admin --name me",
];

interface Endpoint {
  path: string;
  method: string;
  description: string;
  /** Whether a browser may follow it (a GET that shows something). */
  link: boolean;
}

function endpoints(deps: HttpDependencies): Endpoint[] {
  return [
    ...(deps.graphql
      ? [{ path: "/graphql", method: "GET, POST", description: "the GraphQL API (an API key or a JWT); Ruru, its IDE, in a browser outside production", link: true }]
      : []),
    { path: "/readyz", method: "GET", description: "readiness: the database answers and the worker runs (503 otherwise)", link: true },
    { path: "/healthz", method: "GET", description: "liveness: the process answers", link: true },
    { path: "/metrics", method: "GET", description: "Prometheus metrics", link: true },
    { path: "/webhooks/acs", method: "POST", description: "Azure Event Grid deliveries (a webhook secret or Entra)", link: false },
  ];
}

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The page of GET /. `signIn` is HTML placed after the introduction (the dashboard's sign-in form); the page's
 * style is inline, and nothing else loads.
 */
export function homePage(deps: HttpDependencies, docs: Doc[], signIn = ""): string {
  const worker = deps.workerRunning === undefined ? "no worker (it runs in another process)" : "the worker, which sends campaigns and ingests events";
  const item = (e: Endpoint) =>
    `<li>${e.link ? `<a href="${e.path.slice(1)}"><code>${e.path}</code></a>` : `<code>${e.path}</code>`} (${e.method}): ${escapeHtml(e.description)}</li>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mailroom ${escapeHtml(VERSION)}</title>
<style>
  body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; background: #fff; }
  code, pre { font-family: ui-monospace, monospace; font-size: 0.95em; }
  pre { background: #f3f3f3; padding: 0.75rem; overflow-x: auto; }
  a { color: #0645ad; }
  a:focus-visible, input:focus-visible, button:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
  label { display: block; font-weight: 600; }
  input { font: inherit; padding: 0.4rem; width: 100%; max-width: 30rem; box-sizing: border-box; border: 1px solid #555; }
  button { font: inherit; padding: 0.4rem 1rem; margin-top: 0.5rem; background: #0645ad; color: #fff; border: 0; cursor: pointer; }
  .error { color: #a00000; font-weight: 600; }
</style>
</head>
<body>
<main>
<h1>Mailroom <small>${escapeHtml(VERSION)}</small></h1>
<p>Email campaigns through Azure Communication Services, with exact attribution of every Event Grid event.
This process runs the HTTP server${deps.graphql ? ", the GraphQL API" : ""} and ${escapeHtml(worker)}.</p>
${signIn}<h2>Endpoints</h2>
<ul>
${endpoints(deps).map(item).join("\n")}
</ul>
<h2>Start here</h2>
<p>From the project's directory (<code>mailroom</code> is <code>node src/cli.ts</code>; every command takes <code>--help</code>, and <code>--json</code> for scripts):</p>
<pre><code>${FIRST_COMMANDS.map(escapeHtml).join("\n")}</code></pre>
<h2>Documentation</h2>
<ul>
${docs.map((d) => `<li><a href="${escapeHtml(d.name)}">${escapeHtml(d.name)}</a>: ${escapeHtml(d.title)}</li>`).join("\n")}
</ul>
</main>
</body>
</html>
`;
}

/** GET / as JSON (`Accept: application/json`): what runs here. */
export function homeJson(deps: HttpDependencies, docs: Doc[]): Record<string, unknown> {
  return {
    name: "Mailroom",
    version: VERSION,
    worker: deps.workerRunning !== undefined,
    graphql: deps.graphql !== undefined,
    endpoints: endpoints(deps).map(({ path: p, method, description }) => ({ path: p, method, description })),
    commands: FIRST_COMMANDS,
    docs: docs.map((d) => ({ name: d.name, url: `/${d.name}`, title: d.title })),
  };
}

export function createHomeRouter(deps: HttpDependencies): express.Router {
  const router = express.Router();
  const docs = findDocs();
  const served = new Set(docs.map((d) => `/${d.name}`));

  router.get("/", (req, res) => {
    res.set("cache-control", "no-cache");
    res.vary("Accept");
    if (req.accepts(["html", "json"]) === "json") {
      res.json(homeJson(deps, docs));
      return;
    }
    // Nothing but this page's own inline style may load.
    res.set("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
    res.type("html").send(homePage(deps, docs));
  });

  // The documentation, as plain text: only the files listed on the page.
  router.get(["/README.md", "/docs/:name"], (req, res, next) => {
    if (!served.has(req.path)) {
      next();
      return;
    }
    res.set("x-content-type-options", "nosniff");
    res.set("cache-control", "no-cache");
    res.type("text/plain; charset=utf-8").send(fs.readFileSync(path.join(projectRoot, req.path.slice(1)), "utf8"));
  });

  return router;
}
