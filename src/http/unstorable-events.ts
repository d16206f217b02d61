// Events PostgreSQL cannot hold as jsonb, found in the text of a delivery before it is queued.
// JSON.parse accepts them all, but jsonb refuses a NUL character (\u0000) and a lone UTF-16 surrogate,
// PostgreSQL's JSON parser stops at a nesting depth that depends on its stack, and the unique index on
// (source, event id) cannot hold keys of thousands of characters. Queued as they are, such events would
// make the ingest job fail for its neighbours too; instead each is set aside with its text and the reason,
// and app_private.ingest_job keeps it in raw_events (event_text, problem). Event Grid never sends them.

/** Deeper than this, an event is kept as text: ACS events are 4 levels deep; PostgreSQL fails near 10,000. */
export const MAX_EVENT_DEPTH = 1000;
/** Longer ids or sources are kept as text under a digest (the unique index holds keys of about 2,700 bytes). */
export const MAX_KEY_LENGTH = 512;

export interface UnstorableEvent {
  /** The event's id and source when they are usable as keys; otherwise ingestion uses a digest of the text. */
  id?: string;
  source?: string;
  problem: string;
  /** The event's JSON text exactly as received. */
  text: string;
}

// A NUL escape, or any surrogate escape (whether each is paired is checked only when one is present).
const SUSPECT_ESCAPE = /\\u(0000|[dD][89a-fA-F])/;
const LONE_SURROGATE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

/** Whether the delivery needs a closer look: cheap, and false for every delivery Event Grid sends. */
export function mayHoldUnstorable(body: string, events: Record<string, unknown>[]): boolean {
  if (SUSPECT_ESCAPE.test(body)) return true;
  if (events.some((e) => tooLong(e.id) || tooLong(e.topic) || tooLong(e.source))) return true;
  return bracketCount(body) > MAX_EVENT_DEPTH;
}

function tooLong(value: unknown): boolean {
  return typeof value === "string" && value.length > MAX_KEY_LENGTH;
}

function bracketCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) count++;
  }
  return count;
}

/** Why PostgreSQL cannot store this event as it is, or null when it can. */
export function unstorableProblem(text: string, event: Record<string, unknown>): string | null {
  if (nestingDepth(text) > MAX_EVENT_DEPTH) return `nested deeper than ${MAX_EVENT_DEPTH} levels`;
  if (text.includes("\\u0000")) return "a string holds a NUL character (\\u0000), which jsonb cannot store";
  if (LONE_SURROGATE.test(text)) return "a string holds a lone UTF-16 surrogate, which is not Unicode";
  if (tooLong(event.id)) return `id longer than ${MAX_KEY_LENGTH} characters`;
  if (tooLong(event.topic) || tooLong(event.source)) return `topic or source longer than ${MAX_KEY_LENGTH} characters`;
  return null;
}

/** A key that can go into the queued JSON and the index as it is, or undefined. */
export function usableKey(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_KEY_LENGTH) return undefined;
  return JSON.stringify(value).includes("\\u") ? undefined : value;
}

function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/** The text of each element of a JSON array, as received (the text must be a valid JSON array). */
export function arrayElementTexts(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      if (depth === 1 && start < 0) start = i;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth === 2 && start < 0) start = i;
      else if (depth === 1) continue;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
      if (depth === 0 && start >= 0) elements.push(text.slice(start, i).trim());
    } else if (c === 0x2c && depth === 1) {
      elements.push(text.slice(start, i).trim());
      start = -1;
    } else if (depth === 1 && start < 0 && c > 0x20) {
      start = i;
    }
  }
  return elements;
}
