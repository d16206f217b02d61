// Rendering for Mailroom's own engagement tracking (campaigns whose engagement_tracking is mailroom or both): every
// http(s) link of the HTML and text parts becomes PUBLIC_URL/t/c/TOKEN, and the HTML part gets an open pixel
// (PUBLIC_URL/t/o/TOKEN) and a hidden honeypot link that no person sees and link scanners follow. Unsubscribe links
// (PUBLIC_URL/unsubscribe/...) are never rewritten, nor is the List-Unsubscribe header (set elsewhere). Links are
// numbered in their order of first appearance; the same URL in both parts has one number.
import { decodeEntities, type RenderedContent } from "../sending/template.ts";
import { MAX_TRACKED_URL_BYTES, type TrackingKeys } from "./token.ts";

export interface TrackingContext {
  keys: TrackingKeys;
  /** PUBLIC_URL, without a trailing slash. */
  publicUrl: string;
  operationId: string;
}

const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)("([^"]*)"|'([^']*)')/gi;
const TEXT_URL = /\bhttps?:\/\/[^\s<>"']+/gi;

export function trackingUrl(context: TrackingContext, kind: "o" | "c", token: string): string {
  return `${context.publicUrl}/t/${kind}/${token}`;
}

/** The content with tracked links, the open pixel and the honeypot (for an HTML part). */
export function addTracking(content: RenderedContent, context: TrackingContext): RenderedContent {
  const unsubscribe = `${context.publicUrl}/unsubscribe/`;
  const numbers = new Map<string, number>();
  const tracked = (url: string): string | undefined => {
    if (!/^https?:\/\//i.test(url) || url.startsWith(unsubscribe) || /\/unsubscribe\/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{27}$/.test(url)) {
      return undefined;
    }
    if (Buffer.byteLength(url) > MAX_TRACKED_URL_BYTES) return undefined;
    let link = numbers.get(url);
    if (link === undefined) {
      link = numbers.size + 1;
      numbers.set(url, link);
    }
    return trackingUrl(context, "c", context.keys.sign("click", context.operationId, link, url));
  };

  let html = content.html;
  if (html !== undefined) {
    html = html.replace(ANCHOR_HREF, (whole, start: string, _quoted, dq: string | undefined, sq: string | undefined) => {
      const url = decodeEntities((dq ?? sq ?? "").trim());
      const replacement = tracked(url);
      return replacement === undefined ? whole : `${start}"${replacement}"`;
    });
    const honeypot =
      `<a href="${trackingUrl(context, "c", context.keys.sign("honeypot", context.operationId))}" ` +
      `style="display:none!important;mso-hide:all;font-size:0;max-height:0;overflow:hidden" aria-hidden="true" tabindex="-1"></a>`;
    const pixel =
      `<img src="${trackingUrl(context, "o", context.keys.sign("open", context.operationId))}" width="1" height="1" alt="" ` +
      `style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">`;
    const body = /<body\b[^>]*>/i.exec(html);
    html = body ? html.slice(0, body.index + body[0].length) + honeypot + html.slice(body.index + body[0].length) : honeypot + html;
    const end = html.search(/<\/body\s*>/i);
    html = end >= 0 ? html.slice(0, end) + pixel + html.slice(end) : html + pixel;
  }

  const plainText = content.plainText.replace(TEXT_URL, (match) => {
    // A sentence's closing punctuation is not part of the link.
    const url = match.replace(/[.,;:!?)\]]+$/, "");
    const replacement = tracked(url);
    return replacement === undefined ? match : replacement + match.slice(url.length);
  });
  return { subject: content.subject, html, plainText };
}
