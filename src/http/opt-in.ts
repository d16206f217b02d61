// Double opt-in over HTTP (docs/opt-in.md):
//
//   GET  /confirm/TOKEN     a page with the list's name and a "Confirm my subscription" button; changes nothing
//                           (link scanners and mail security gateways fetch GETs and HEADs of every link)
//   POST /confirm/TOKEN     confirms (app_private.confirm_subscription); idempotent
//   GET  /subscribe/LIST    the public subscribe form of a list whose public_subscribe is on (else 404)
//   POST /subscribe/LIST    adds the person (app_private.subscribe) and answers the same page, with the same status,
//                           whoever the address belongs to (no enumeration); rate limited per client address and
//                           per email address (429 with Retry-After); bad input 400 with the reason
//
// TOKEN is signed (src/sending/confirmation-token.ts): a forged or altered one gets a 404 page and changes nothing.
// When the database cannot be reached the answer is a 503 page with Retry-After.
import crypto from "node:crypto";
import express from "express";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { verifyConfirmationToken } from "../sending/confirmation-token.ts";
import { escapeHtml } from "../sending/template.ts";
import { unsubscribeSecret } from "../sending/unsubscribe-token.ts";

export interface OptInOptions {
  /** UNSUBSCRIBE_SECRET (confirmation links are signed with it, under their own label); undefined: the stored one. */
  secret?: string;
  /** SUBSCRIBE_RATE_WINDOW_SECONDS, SUBSCRIBE_RATE_PER_IP, SUBSCRIBE_RATE_PER_ADDRESS. */
  rateWindowSeconds?: number;
  ratePerIp?: number;
  ratePerAddress?: number;
}

export const DEFAULT_OPT_IN_OPTIONS = { rateWindowSeconds: 600, ratePerIp: 20, ratePerAddress: 3 } as const;

/** The opt-in settings of the HTTP app, from the configuration. */
export function optInOptions(config: Config): OptInOptions {
  return { secret: config.sending.unsubscribeSecret, ...config.optIn };
}

/** The longest name the form takes (characters). */
export const MAX_NAME_LENGTH = 200;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}label{display:block;margin:.75rem 0 .25rem}
input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}.problem{color:#a00000;font-weight:bold}
.trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}</main></body></html>
`;
}

/** Errors that mean the database cannot be reached now (connection refused, lost, timed out, shutting down). */
export function databaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : "";
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "EPIPE"].includes(code) ||
    code.startsWith("08") || // connection exception
    code.startsWith("57P") || // admin shutdown, crash shutdown, cannot connect now
    code.startsWith("53") || // insufficient resources (too many connections)
    /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  );
}

interface ConfirmationRow {
  list_name: string;
  recipient: string;
  state: "confirmable" | "already confirmed" | "unsubscribed" | "blocklisted" | "not a member" | "not found";
}

interface PublicList {
  id: string;
  name: string;
  description: string;
  opt_in: "single" | "double";
}

export function createOptInRouter(deps: { pool: pg.Pool; log: Log; options?: OptInOptions }): express.Router {
  const options = { ...DEFAULT_OPT_IN_OPTIONS, ...Object.fromEntries(Object.entries(deps.options ?? {}).filter(([, v]) => v !== undefined)) } as
    Required<Pick<OptInOptions, "rateWindowSeconds" | "ratePerIp" | "ratePerAddress">> & OptInOptions;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 });

  const send = (res: express.Response, status: number, title: string, body: string) =>
    res.status(status).set("cache-control", "no-store").type("html").send(page(title, body));

  /** Runs a handler; the database unreachable is a 503 page, anything else a 500 page (logged). */
  const handle =
    (work: (req: express.Request, res: express.Response) => Promise<unknown>) =>
    async (req: express.Request, res: express.Response) => {
      try {
        await work(req, res);
      } catch (error) {
        if (res.headersSent) return;
        if (databaseUnavailable(error)) {
          deps.log.warn({ err: (error as Error).message, path: req.path }, "opt-in page: database unreachable");
          res.set("retry-after", "30");
          return send(res, 503, "Please try again shortly", "<p>This service cannot answer right now. Nothing was changed. Please try again in a minute.</p>");
        }
        deps.log.error({ err: error, path: req.path }, "opt-in page failed");
        send(res, 500, "Something went wrong", "<p>This request could not be handled. Nothing was changed.</p>");
      }
    };

  /** The url-encoded form, or a 400/413 page when the body cannot be read. */
  const readForm: express.RequestHandler = (req, res, next) => {
    form(req, res, (error?: unknown) => {
      if (!error) return next();
      const status = (error as { status?: number }).status === 413 ? 413 : 400;
      send(res, status, "Request not accepted", status === 413 ? "<p>The form sent is too large.</p>" : "<p>The form sent could not be read.</p>");
    });
  };

  // -- Confirmation links --

  const confirmationOf = async (token: string): Promise<{ id: string; row: ConfirmationRow } | undefined> => {
    const id = verifyConfirmationToken(await unsubscribeSecret(deps.pool, options.secret), token);
    if (!id) return undefined;
    const { rows } = await deps.pool.query<ConfirmationRow>(
      `select l.name as list_name, c.recipient, app_private.confirmation_link_state(c.id) as state
       from app_public.confirmations as c join app_public.lists as l on l.id = c.list_id
       where c.id = $1`,
      [id],
    );
    return rows[0] ? { id, row: rows[0] } : undefined;
  };

  const linkNotValid = (res: express.Response) =>
    send(res, 404, "Link not valid", "<p>This confirmation link is not valid. Please use the link from the email you received.</p>");

  /** The page for a state; `confirmed` after this very POST. */
  const confirmationPage = (res: express.Response, row: ConfirmationRow, state: ConfirmationRow["state"] | "confirmed") => {
    const list = `<strong>${escapeHtml(row.list_name)}</strong>`;
    switch (state) {
      case "confirmable":
        return send(
          res,
          200,
          `Confirm your subscription`,
          `<p>Subscribe <strong>${escapeHtml(row.recipient)}</strong> to ${list}?</p>
<form method="post"><button type="submit">Confirm my subscription</button></form>
<p>If you did not ask for this, close this page: nothing happens until you press the button.</p>`,
        );
      case "confirmed":
      case "already confirmed":
        return send(res, 200, "You are subscribed", `<p>${escapeHtml(row.recipient)} is subscribed to ${list}. Thank you.</p>`);
      case "unsubscribed":
        return send(res, 200, "This link no longer subscribes you", `<p>${escapeHtml(row.recipient)} unsubscribed from ${list} after this link was sent, so it does not subscribe you again.</p>`);
      default:
        return send(res, 200, "This link can no longer be used", `<p>This confirmation link can no longer be used for ${list}.</p>`);
    }
  };

  router.get(
    "/confirm/:token",
    handle(async (req, res) => {
      const found = await confirmationOf(String(req.params.token));
      if (!found) return linkNotValid(res);
      confirmationPage(res, found.row, found.row.state);
    }),
  );

  router.post(
    "/confirm/:token",
    handle(async (req, res) => {
      const found = await confirmationOf(String(req.params.token));
      if (!found) return linkNotValid(res);
      const { rows } = await deps.pool.query<{ outcome: ConfirmationRow["state"] | "confirmed" }>(
        "select app_private.confirm_subscription($1) as outcome",
        [found.id],
      );
      const outcome = rows[0].outcome;
      deps.log.info({ confirmationId: found.id, outcome }, "confirmation link used");
      confirmationPage(res, found.row, outcome);
    }),
  );

  // -- The public subscribe form --

  const publicList = async (param: string): Promise<PublicList | undefined> => {
    if (!/^[1-9][0-9]{0,17}$/.test(param)) return undefined;
    const { rows } = await deps.pool.query<PublicList>(
      "select id, name, description, opt_in from app_public.lists where id = $1 and public_subscribe",
      [param],
    );
    return rows[0];
  };

  const listNotFound = (res: express.Response) =>
    send(res, 404, "Not found", "<p>There is no subscription form here.</p>");

  const subscribeForm = (res: express.Response, list: PublicList, status = 200, values = { email: "", name: "" }, problem?: string) =>
    send(
      res,
      status,
      `Subscribe to ${list.name}`,
      `${list.description ? `<p>${escapeHtml(list.description)}</p>` : ""}
${problem ? `<p class="problem" role="alert" id="problem">${escapeHtml(problem)}</p>` : ""}
<form method="post">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(values.email)}"${problem ? ' aria-describedby="problem" aria-invalid="true"' : ""}>
<label for="name">Name (optional)</label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="${MAX_NAME_LENGTH}" value="${escapeHtml(values.name)}">
<div class="trap" aria-hidden="true"><label for="website">Leave this field empty</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Subscribe</button></p>
</form>`,
    );

  /** The one answer to every accepted submission, whoever the address belongs to. */
  const thanks = (res: express.Response, list: PublicList) =>
    send(
      res,
      200,
      list.opt_in === "double" ? "Check your inbox" : "Thank you",
      list.opt_in === "double"
        ? `<p>If this address can receive emails from <strong>${escapeHtml(list.name)}</strong>, an email asking you to confirm is on its way. Your subscription starts once you confirm.</p>`
        : `<p>If this address can receive emails from <strong>${escapeHtml(list.name)}</strong>, it is subscribed.</p>`,
    );

  const tooMany = (res: express.Response, retryAfter: number) => {
    res.set("retry-after", String(retryAfter));
    send(res, 429, "Too many requests", `<p>Too many subscription requests. Please try again in ${Math.ceil(retryAfter / 60)} minute${retryAfter > 60 ? "s" : ""}.</p>`);
  };

  const allowance = async (keys: string[], limits: number[]): Promise<number> => {
    const { rows } = await deps.pool.query<{ wait: number }>("select app_private.take_subscribe_allowance($1, $2, $3) as wait", [
      keys,
      limits,
      options.rateWindowSeconds,
    ]);
    return rows[0].wait;
  };

  router.get(
    "/subscribe/:list",
    handle(async (req, res) => {
      const list = await publicList(String(req.params.list));
      if (!list) return listNotFound(res);
      subscribeForm(res, list);
    }),
  );

  router.post(
    "/subscribe/:list",
    readForm,
    handle(async (req, res) => {
      const list = await publicList(String(req.params.list));
      if (!list) return listNotFound(res);
      // Every submission counts against the client's address, bad ones too.
      const ipWait = await allowance([`ip:${req.ip ?? "unknown"}`], [options.ratePerIp]);
      if (ipWait > 0) return tooMany(res, ipWait);

      const body = (req.body ?? {}) as Record<string, unknown>;
      const field = (name: string) => (typeof body[name] === "string" ? (body[name] as string) : "");
      const values = { email: field("email").trim(), name: field("name").trim() };
      const { rows } = await deps.pool.query<{ problem: string | null }>("select app_hidden.subscriber_email_problem($1) as problem", [values.email]);
      let problem = rows[0].problem;
      if (problem === null && values.name.length > MAX_NAME_LENGTH) problem = `name is longer than ${MAX_NAME_LENGTH} characters`;
      if (problem !== null) {
        const reason = problem.charAt(0).toUpperCase() + problem.slice(1);
        return subscribeForm(res, list, 400, { email: values.email.slice(0, 254), name: values.name.slice(0, MAX_NAME_LENGTH) }, `${reason}.`);
      }
      // Per address (of all lists): a hash, so that addresses of people who never subscribed are not kept.
      const addressKey = `email:${crypto.createHash("sha256").update(values.email.toLowerCase()).digest("hex")}`;
      const addressWait = await allowance([addressKey], [options.ratePerAddress]);
      if (addressWait > 0) return tooMany(res, addressWait);

      if (field("website") !== "") {
        // The hidden field, filled in: a robot. It is answered as everyone is, and nothing happens.
        deps.log.info({ listId: list.id }, "subscribe form: honeypot filled in, ignored");
        return thanks(res, list);
      }
      const { rows: done } = await deps.pool.query<{ outcome: string }>("select app_private.subscribe($1, $2, $3) as outcome", [
        list.id,
        values.email,
        values.name,
      ]);
      deps.log.info({ listId: list.id, outcome: done[0].outcome }, "subscribe form");
      thanks(res, list);
    }),
  );

  return router;
}
