// The dashboard, served at / by the HTTP app: sign-in with an API key, then server-rendered pages of the
// campaigns, a campaign's report (updating live through Server-Sent Events), a subscriber's timeline, the senders
// and attribution health; admins may pause, resume and cancel a campaign. Signed out, GET / is home.ts's page
// with the sign-in form (and JSON for Accept: application/json); the documentation routes stay home.ts's.
// Page URLs are stable (bench/dashboard.ts measures them): /campaigns, /campaigns/:id, /subscribers?q=, /senders,
// /health. docs/dashboard.md describes every page, what it reads and how sessions and CSRF work.
import fs from "node:fs";
import path from "node:path";
import express from "express";
import { projectRoot } from "../db/migrate.ts";
import type { HttpDependencies } from "../http/app.ts";
import { createHomeRouter, findDocs, homeJson, homePage } from "../http/home.ts";
import { LiveNumbersHub } from "./live.ts";
import { campaignPage, campaignsPage, cancelPage, healthPage, messagePage, reportCells, sendersPage, signInSection, subscribersPage } from "./pages.ts";
import { CAMPAIGN_STATUSES, findSubscriber, listCampaigns, readCampaignReport, readHealth, readLiveReport, readSenders, readTimeline } from "./queries.ts";
import {
  clearSessionCookie,
  csrfTokenMatches,
  refusalMessage,
  sameOrigin,
  sessionCookie,
  setSessionCookie,
  signIn,
  signOut,
  withSession,
  type DashboardOptions,
  type Session,
  type SessionWork,
} from "./session.ts";

export type { DashboardOptions } from "./session.ts";

/** Pages: scripts and styles from this server only; nothing inline runs. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/** The signed-out page (home.ts's, whose style is inline): it may post the sign-in form, nothing else. */
const HOME_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The static files pages load, by their URL name: uPlot from node_modules, the dashboard's own from assets/. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const here = path.join(projectRoot, "src", "dashboard", "assets");
  const uplot = path.join(projectRoot, "node_modules", "uplot", "dist");
  const files: [string, string, string][] = [
    ["dashboard.css", path.join(here, "dashboard.css"), "text/css; charset=utf-8"],
    ["campaign.js", path.join(here, "campaign.js"), "text/javascript; charset=utf-8"],
    ["uPlot.iife.min.js", path.join(uplot, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
    ["uPlot.min.css", path.join(uplot, "uPlot.min.css"), "text/css; charset=utf-8"],
  ];
  return new Map(files.map(([name, file, type]) => [name, { type, body: fs.readFileSync(file) }]));
}

/** The shortest time between two reads of a live page's numbers (changes meanwhile are read together). */
const LIVE_READ_INTERVAL_MS = 250;

/** Whether a request wants JSON rather than a page (GET / with Accept: application/json). */
const wantsJson = (req: express.Request) => req.accepts(["html", "json"]) === "json";

export function createDashboardRouter(deps: HttpDependencies): express.Router {
  const router = express.Router();
  const options: DashboardOptions | undefined = deps.dashboard;
  const docs = findDocs();
  const assets = loadAssets();
  const hub = options ? new LiveNumbersHub({ ...(options.pool.options as object) }, deps.log) : undefined;
  const form = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 20 });

  const sendPage = (res: express.Response, status: number, html: string) => {
    res.status(status).set({ "content-security-policy": PAGE_CSP, "cache-control": "no-store", "x-frame-options": "DENY" }).type("html").send(html);
  };

  const sendHome = (res: express.Response, status: number, message?: string, error = false) => {
    res
      .status(status)
      .set({ "content-security-policy": HOME_CSP, "cache-control": "no-store", "x-frame-options": "DENY" })
      .vary("Accept")
      .type("html")
      .send(homePage(deps, docs, signInSection({ available: options !== undefined, message, error })));
  };

  /**
   * Runs `work` in the request's session (see withSession). Without a session, or with one that is no longer
   * valid, the browser goes to the sign-in page (303) with the reason, and the cookie is cleared.
   */
  async function inSession<T>(req: express.Request, res: express.Response, work: SessionWork<T>): Promise<{ value: T; session: Session } | undefined> {
    const token = sessionCookie(req);
    if (!options) {
      sendPage(res, 503, messagePage(undefined, "Dashboard not available", "The dashboard needs the authenticator's database connection (AUTH_DATABASE_URL).", "/"));
      return undefined;
    }
    if (!token) {
      res.redirect(303, "/");
      return undefined;
    }
    const result = await withSession(options, token, work);
    if (!result.ok) {
      clearSessionCookie(res, req, options);
      res.redirect(303, `/?session=${encodeURIComponent(result.refusal)}`);
      return undefined;
    }
    return result;
  }

  /** A POST's checks before anything else: same origin, and (signed in) the session's CSRF token. 403 otherwise. */
  function refusedPost(req: express.Request, res: express.Response, csrf: boolean): boolean {
    if (!options) {
      sendPage(res, 503, messagePage(undefined, "Dashboard not available", "The dashboard needs the authenticator's database connection (AUTH_DATABASE_URL).", "/"));
      return true;
    }
    if (!sameOrigin(req, options)) {
      sendPage(res, 403, messagePage(undefined, "Request refused", "This form was not sent from a page of this server (its Origin is missing or foreign), so it was refused. Go back, reload the page and try again.", "/"));
      return true;
    }
    if (csrf) {
      const token = sessionCookie(req);
      if (!token || !csrfTokenMatches(token, (req.body as Record<string, unknown> | undefined)?.csrf)) {
        sendPage(res, 403, messagePage(undefined, "Request refused", "This form's security token is missing or does not belong to your session, so it was refused. Go back, reload the page and try again.", "/"));
        return true;
      }
    }
    return false;
  }

  router.get("/dashboard/assets/:name", (req, res, next) => {
    const asset = assets.get(req.params.name);
    if (!asset) {
      next();
      return;
    }
    res.set({ "cache-control": "no-cache", "x-content-type-options": "nosniff" }).type(asset.type).send(asset.body);
  });

  // Browsers ask for it on every site: no icon, and no 404 in their console.
  router.get("/favicon.ico", (_req, res) => {
    res.status(204).set("cache-control", "max-age=86400").end();
  });

  // GET /: what runs here and, signed out, the sign-in form; signed in, the campaigns.
  router.get("/", async (req, res) => {
    res.vary("Accept");
    if (wantsJson(req)) {
      res.set("cache-control", "no-cache").json(homeJson(deps, docs));
      return;
    }
    const token = sessionCookie(req);
    if (options && token) {
      const result = await withSession(options, token, async () => undefined);
      if (result.ok) {
        res.redirect(303, "/campaigns");
        return;
      }
      clearSessionCookie(res, req, options);
      sendHome(res, 200, refusalMessage(result.refusal));
      return;
    }
    const session = typeof req.query.session === "string" ? req.query.session : undefined;
    const message = req.query["signed-out"] !== undefined ? "You have signed out." : session ? refusalMessage(session as never) : undefined;
    sendHome(res, 200, message);
  });

  router.post("/sign-in", form, async (req, res) => {
    if (refusedPost(req, res, false)) return;
    const key = (req.body as Record<string, unknown> | undefined)?.apiKey;
    const result = await signIn(options!, typeof key === "string" ? key : "");
    if (!result.ok) {
      sendHome(res, 401, result.message, true);
      return;
    }
    setSessionCookie(res, req, options!, result.token, result.expiresAt);
    res.redirect(303, "/campaigns");
  });

  router.post("/sign-out", form, async (req, res) => {
    if (refusedPost(req, res, true)) return;
    await signOut(options!, sessionCookie(req)!);
    clearSessionCookie(res, req, options!);
    res.redirect(303, "/?signed-out");
  });

  router.get("/campaigns", async (req, res) => {
    const wanted = typeof req.query.status === "string" && (CAMPAIGN_STATUSES as readonly string[]).includes(req.query.status) ? req.query.status : undefined;
    const result = await inSession(req, res, (client) => listCampaigns(client, wanted));
    if (result) sendPage(res, 200, campaignsPage(result.session, result.value, wanted));
  });

  const campaignId = (req: express.Request) => (/^\d{1,18}$/.test(String(req.params.id)) ? String(req.params.id) : undefined);

  router.get("/campaigns/:id", async (req, res, next) => {
    const id = campaignId(req);
    if (!id) {
      next();
      return;
    }
    const result = await inSession(req, res, (client) => readCampaignReport(client, id));
    if (!result) return;
    if (!result.value) {
      sendPage(res, 404, messagePage(result.session, "No such campaign", `There is no campaign ${id}.`));
      return;
    }
    sendPage(res, 200, campaignPage(result.session, result.value));
  });

  router.get("/campaigns/:id/cancel", async (req, res, next) => {
    const id = campaignId(req);
    if (!id) {
      next();
      return;
    }
    const result = await inSession(req, res, (client) => readLiveReport(client, id));
    if (!result) return;
    if (!result.value) {
      sendPage(res, 404, messagePage(result.session, "No such campaign", `There is no campaign ${id}.`));
      return;
    }
    sendPage(res, 200, cancelPage(result.session, result.value.campaign));
  });

  // Pause, resume, cancel: the database function runs as the session's role, so an analyst's request is refused by
  // the database (permission denied) whatever the page showed; a change the campaign's state does not allow is
  // refused by the function with its reason.
  for (const action of ["pause", "resume", "cancel"] as const) {
    router.post(`/campaigns/:id/${action}`, form, async (req, res, next) => {
      const id = campaignId(req);
      if (!id) {
        next();
        return;
      }
      if (refusedPost(req, res, true)) return;
      let refused: { status: number; message: string } | undefined;
      const result = await inSession(req, res, async (client) => {
        try {
          await client.query("savepoint action");
          await client.query(`select app_public.${action}_campaign($1)`, [id]);
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === undefined) throw error;
          await client.query("rollback to savepoint action");
          const message = (error as Error).message;
          refused = code === "42501" ? { status: 403, message: `The database refused: ${message}.` } : { status: code === "P0002" ? 404 : 409, message: `The database refused: ${message}.` };
        }
      });
      if (!result) return;
      if (refused) {
        sendPage(res, refused.status, messagePage(result.session, `Could not ${action} the campaign`, refused.message, `/campaigns/${id}`));
        return;
      }
      res.redirect(303, `/campaigns/${id}`);
    });
  }

  // The live numbers of a campaign page, as Server-Sent Events: an event `numbers` at every change of the rollup,
  // read as the session's role; `signed-out` when the session has ended (the page stops listening).
  router.get("/campaigns/:id/live", async (req, res, next) => {
    const id = campaignId(req);
    if (!id) {
      next();
      return;
    }
    const token = sessionCookie(req);
    if (!options || !hub || !token) {
      res.status(401).type("text/plain").send("sign in first");
      return;
    }
    const first = await withSession(options, token, (client) => readLiveReport(client, id));
    if (!first.ok) {
      res.status(401).type("text/plain").send(refusalMessage(first.refusal));
      return;
    }
    if (!first.value) {
      res.status(404).type("text/plain").send(`there is no campaign ${id}`);
      return;
    }
    res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.flushHeaders();
    let closed = false;
    let reading = false;
    let again = false;
    const send = (event: string, data: unknown) => {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const push = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const started = Date.now();
          const result = await withSession(options, token, (client) => readLiveReport(client, id));
          if (!result.ok) {
            send("signed-out", { reason: refusalMessage(result.refusal) });
            end();
            return;
          }
          if (result.value) send("numbers", { cells: reportCells(result.value), series: result.value.series });
          // A campaign sending fast changes its rollup many times a second: at most one read per page every 250 ms.
          if (again && !closed) await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + LIVE_READ_INTERVAL_MS - Date.now())));
        } while (again && !closed);
      } catch (error) {
        deps.log.warn({ err: (error as Error).message }, "dashboard live numbers not read");
        end();
      } finally {
        reading = false;
      }
    };
    let unsubscribe: (() => Promise<void>) | undefined;
    // Every half second: a stopping server ends the stream (so that it does not hold the stop up); every 15 s a
    // comment line keeps proxies from closing an idle stream.
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
      if (deps.shuttingDown()) end();
      else if (ticks % 30 === 0) res.write(": keep-alive\n\n");
    }, 500);
    function end() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      void unsubscribe?.();
      res.end();
    }
    res.on("close", end);
    // The browser reconnects after 3 s when the stream ends (a restart, a lost database connection).
    res.write("retry: 3000\n\n");
    try {
      unsubscribe = await hub.subscribe(id, (what) => (what === "lost" ? end() : void push()));
    } catch (error) {
      deps.log.warn({ err: (error as Error).message }, "dashboard live numbers: LISTEN failed");
      end();
      return;
    }
    if (closed) {
      void unsubscribe();
      return;
    }
    // Whatever changed between the page's load and the LISTEN.
    void push();
  });

  router.get("/subscribers", async (req, res) => {
    const q = typeof req.query.q === "string" ? req.query.q.trim() : "";
    const result = await inSession(req, res, async (client) => {
      if (q === "") return undefined;
      const subscriber = await findSubscriber(client, q);
      return subscriber && { subscriber, timeline: await readTimeline(client, subscriber.id) };
    });
    if (result) sendPage(res, 200, subscribersPage(result.session, q, result.value));
  });

  router.get("/senders", async (req, res) => {
    const result = await inSession(req, res, (client) => readSenders(client));
    if (result) sendPage(res, 200, sendersPage(result.session, result.value));
  });

  router.get("/health", async (req, res) => {
    const result = await inSession(req, res, (client) => readHealth(client));
    if (result) sendPage(res, 200, healthPage(result.session, result.value, new Date()));
  });

  // The documentation routes of home.ts (its GET / is never reached: the one above answers first).
  router.use(createHomeRouter(deps));
  return router;
}
