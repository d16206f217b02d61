// Campaign templates: subject, HTML and text with fields of the subscriber, the list and the campaign.
//
//   {{ subscriber.name }}     the value, HTML-escaped in the HTML part (as is in the subject and text part)
//   {{{ subscriber.name }}}   the value as is, everywhere
//
// Fields: subscriber.email, subscriber.name, subscriber.id, subscriber.attributes.KEY (empty when the
// subscriber has no such attribute), list.id, list.name (the first of the campaign's lists the subscriber
// is on), campaign.id, campaign.name, unsubscribe_url. An unknown field or a stray "{{" / "}}" is an error
// naming the part, the line and the placeholder as written:
//
//   html line 12: unknown field "subscriber.nmae" in {{ subscriber.nmae }}
//
// The same grammar, with the same messages, is checked in SQL (app_public.template_errors) when a campaign is
// scheduled or started, so errors are caught before the first message, not at message 50,000.
// A template is compiled once per campaign; rendering a message is string concatenation.

export interface TemplateFields {
  subscriber: { id: number | string; email: string; name: string; attributes: Record<string, unknown> };
  list: { id: number | string; name: string } | null;
  campaign: { id: number | string; name: string };
  unsubscribeUrl: string;
}

/**
 * Every error of a template or campaign, one per entry ("html line 12: unknown field ..."); the message lists them
 * ("template errors: ...; ..."). A single message is kept as it is.
 */
export class TemplateError extends Error {
  readonly errors: string[];

  constructor(errors: string[] | string) {
    super(typeof errors === "string" ? errors : `template errors: ${errors.join("; ")}`);
    this.name = "TemplateError";
    this.errors = typeof errors === "string" ? [errors] : errors;
  }
}

type Piece = string | ((fields: TemplateFields) => string);

export interface CompiledTemplate {
  render(fields: TemplateFields): string;
}

const TAG = /\{\{\{\s*([^{}]*?)\s*\}\}\}|\{\{(?!\{)\s*([^{}]*?)\s*\}\}/g;
const FIELD = /^(subscriber\.(email|name|id|attributes\.[A-Za-z0-9_-]+)|list\.(id|name)|campaign\.(id|name)|unsubscribe_url)$/;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function getter(field: string): (fields: TemplateFields) => string {
  if (field === "unsubscribe_url") return (f) => f.unsubscribeUrl;
  if (field.startsWith("subscriber.attributes.")) {
    const key = field.slice("subscriber.attributes.".length);
    return (f) => text(f.subscriber.attributes[key]);
  }
  const [scope, name] = field.split(".") as ["subscriber" | "list" | "campaign", string];
  return (f) => text((f[scope] as Record<string, unknown> | null)?.[name]);
}

function lineOf(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** A placeholder as written, on one line (for error messages). */
function asWritten(tag: string): string {
  return tag.replace(/\s+/g, " ");
}

/**
 * The errors of one template text, each "line N: ...", in the order they occur: an unknown field (with the
 * placeholder as written), and the first stray "{{" or "}}" between two placeholders. app_public.template_errors
 * gives the same list for the same text.
 */
export function templateErrors(source: string): string[] {
  return parseTemplate(source).errors;
}

interface ParsedTemplate {
  /** Literal text and fields ({ field, raw }), in order. */
  pieces: (string | { field: string; raw: boolean })[];
  errors: string[];
}

function parseTemplate(source: string): ParsedTemplate {
  const pieces: ParsedTemplate["pieces"] = [];
  const errors: string[] = [];
  const literal = (from: number, to: number) => {
    const chunk = source.slice(from, to);
    const stray = /\{\{|\}\}/.exec(chunk);
    if (stray) errors.push(`line ${lineOf(source, from + stray.index)}: unbalanced braces: "${stray[0]}" outside a {{ field }}`);
    if (chunk !== "") pieces.push(chunk);
  };
  let at = 0;
  for (const match of source.matchAll(TAG)) {
    literal(at, match.index);
    at = match.index + match[0].length;
    const raw = match[1] !== undefined;
    const field = (raw ? match[1] : match[2]) as string;
    if (FIELD.test(field)) pieces.push({ field, raw });
    else errors.push(`line ${lineOf(source, match.index)}: unknown field "${field}" in ${asWritten(match[0])}`);
  }
  literal(at, source.length);
  return { pieces, errors };
}

/**
 * Compiles one part; `part` names it in errors ("subject", "html", "text"): TemplateError with one entry per
 * error, "html line 12: unknown field ...".
 */
export function compileTemplate(source: string, part: string, mode: "html" | "text"): CompiledTemplate {
  const { pieces: parsed, errors } = parseTemplate(source);
  if (errors.length > 0) throw new TemplateError(errors.map((error) => `${part} ${error}`));
  const pieces: Piece[] = parsed.map((piece) => {
    if (typeof piece === "string") return piece;
    const get = getter(piece.field);
    return mode === "html" && !piece.raw ? (f: TemplateFields) => escapeHtml(get(f)) : get;
  });
  return {
    render(fields) {
      let out = "";
      for (const piece of pieces) out += typeof piece === "string" ? piece : piece(fields);
      return out;
    },
  };
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", "#39": "'" };

/** Decodes HTML character references (named ones of ENTITIES, decimal and hex). */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** A readable text part from HTML: blocks become lines, links "text (url)", list items "- ", tags dropped. */
export function htmlToText(html: string): string {
  let s = html.replace(/\r\n?/g, "\n");
  s = s.replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "");
  s = s.replace(/<!--[\s\S]*?-->/g, "");
  s = s.replace(/<a\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi, (_m, _q, dq: string, sq: string, inner: string) => {
    const href = decodeEntities(dq ?? sq ?? "").trim();
    const label = inner.replace(/<[^>]*>/g, "").trim();
    if (href === "" || href.startsWith("#")) return label;
    return label === "" || decodeEntities(label) === href ? href : `${label} (${href})`;
  });
  s = s.replace(/\s+/g, " ");
  s = s.replace(/<br\s*\/?>/gi, "\n");
  s = s.replace(/<li\b[^>]*>/gi, "\n- ");
  s = s.replace(/<\/?(p|div|h[1-6]|ul|ol|table|tr|blockquote|section|article|header|footer|hr)\b[^>]*>/gi, "\n\n");
  s = s.replace(/<\/?(td|th)\b[^>]*>/gi, " ");
  s = s.replace(/<[^>]*>/g, "");
  s = decodeEntities(s);
  return s
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export interface CampaignContent {
  subject: string;
  html: string;
  text: string;
}

export interface RenderedContent {
  subject: string;
  html: string | undefined;
  plainText: string;
}

export interface CompiledCampaign {
  render(fields: TemplateFields): RenderedContent;
}

/**
 * Compiles a campaign's subject and bodies once; throws TemplateError with every problem of every part, in the
 * order subject, html, text.
 */
export function compileCampaign(content: CampaignContent): CompiledCampaign {
  const problems: string[] = [];
  const attempt = (source: string, part: string, mode: "html" | "text"): CompiledTemplate | undefined => {
    try {
      return compileTemplate(source, part, mode);
    } catch (error) {
      if (error instanceof TemplateError) problems.push(...error.errors);
      else throw error;
      return undefined;
    }
  };
  if (content.subject.trim() === "") problems.push("the subject is empty");
  if (content.html.trim() === "" && content.text.trim() === "") problems.push("the HTML and text parts are both empty");
  const subject = attempt(content.subject, "subject", "text");
  const html = content.html.trim() === "" ? undefined : attempt(content.html, "html", "html");
  const text = content.text.trim() === "" ? undefined : attempt(content.text, "text", "text");
  if (problems.length > 0 || !subject) throw new TemplateError(problems);
  return {
    render(fields) {
      const renderedHtml = html?.render(fields);
      return {
        subject: subject.render(fields).replace(/[\r\n]+/g, " ").trim(),
        html: renderedHtml,
        plainText: text ? text.render(fields) : htmlToText(renderedHtml ?? ""),
      };
    },
  };
}
