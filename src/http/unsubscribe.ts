// One-click unsubscribe (RFC 8058). Every message carries
//   List-Unsubscribe: <PUBLIC_URL/unsubscribe/TOKEN>
//   List-Unsubscribe-Post: List-Unsubscribe=One-Click
// POST to that URL unsubscribes the message's recipient from the campaign's lists, without login (mail
// clients POST "List-Unsubscribe=One-Click"); GET shows a page with a button that POSTs, and changes nothing
// (link scanners follow GETs). The token is signed (src/sending/unsubscribe-token.ts): it names one message
// and cannot be forged or pointed at another subscriber. An unknown or altered token gets 404.
import express from "express";
import type pg from "pg";
import type { Log } from "../log.ts";
import { unsubscribeSecret, verifyUnsubscribeToken } from "../sending/unsubscribe-token.ts";
import { escapeHtml } from "../sending/template.ts";

export interface UnsubscribeDependencies {
  pool: pg.Pool;
  log: Log;
  /** UNSUBSCRIBE_SECRET; undefined: the secret stored in the database. */
  secret: string | undefined;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>
`;
}

interface MessageRow {
  recipient: string;
  campaign_name: string;
  unsubscribed_at: Date | null;
}

export function createUnsubscribeRouter(deps: UnsubscribeDependencies): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "16kb" });

  const messageOf = async (token: string): Promise<{ operationId: string; message: MessageRow } | undefined> => {
    const operationId = verifyUnsubscribeToken(await unsubscribeSecret(deps.pool, deps.secret), token);
    if (!operationId) return undefined;
    const { rows } = await deps.pool.query<MessageRow>(
      `select m.recipient, c.name as campaign_name, m.unsubscribed_at
       from app_public.messages as m join app_public.campaigns as c on c.id = m.campaign_id
       where m.operation_id = $1`,
      [operationId],
    );
    return rows[0] ? { operationId, message: rows[0] } : undefined;
  };

  const notFound = (res: express.Response) =>
    res
      .status(404)
      .type("html")
      .send(page("Link not valid", "<p>This unsubscribe link is not valid. Please use the link from the email you received.</p>"));

  router.get("/unsubscribe/:token", async (req, res, next) => {
    try {
      const found = await messageOf(req.params.token);
      if (!found) return notFound(res);
      const { message } = found;
      res.set("cache-control", "no-store");
      if (message.unsubscribed_at) {
        return res.type("html").send(page("You are unsubscribed", `<p>${escapeHtml(message.recipient)} will no longer receive these emails.</p>`));
      }
      res.type("html").send(
        page(
          "Unsubscribe",
          `<p>Stop sending emails like “${escapeHtml(message.campaign_name)}” to <strong>${escapeHtml(message.recipient)}</strong>?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
        ),
      );
    } catch (error) {
      next(error);
    }
  });

  router.post("/unsubscribe/:token", form, async (req, res, next) => {
    try {
      const found = await messageOf(req.params.token);
      if (!found) return notFound(res);
      const oneClick = (req.body as Record<string, unknown> | undefined)?.["List-Unsubscribe"] === "One-Click";
      await deps.pool.query("select app_private.unsubscribe($1::uuid, $2)", [found.operationId, oneClick ? "one_click" : "link"]);
      deps.log.info({ operationId: found.operationId }, "unsubscribed");
      res
        .set("cache-control", "no-store")
        .type("html")
        .send(page("You are unsubscribed", `<p>${escapeHtml(found.message.recipient)} will no longer receive these emails.</p>`));
    } catch (error) {
      next(error);
    }
  });

  return router;
}
