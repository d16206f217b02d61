// What a client sees of an error. Errors about the request itself (a campaign that cannot start, an
// invalid address, a missing privilege, a page too large) are shown in every environment, with the
// Postgres error code in `extensions.code`. Anything else is an internal error: in development it is
// shown as it is; in production (NODE_ENV=production) the client gets an id and the log gets the rest.
import crypto from "node:crypto";
import { GraphQLError, type GraphQLFormattedError } from "postgraphile/graphql";
import { isSafeError } from "postgraphile/grafast";
import type { Log } from "../log.ts";

interface PgError {
  code: string;
  severity?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  message: string;
}

/** Clearer words for the constraints a client can run into. */
export const CONSTRAINT_MESSAGES: Record<string, string> = {
  subscribers_email_check: "email is not a valid address",
  subscribers_email_key: "a subscriber with this email already exists",
  senders_from_address_check: "from_address is not a valid address",
  senders_from_address_key: "a sender with this from_address already exists",
  senders_sending_domain_check: "sending_domain is not a valid domain name",
  list_memberships_pkey: "the subscriber is already a member of this list",
  campaign_lists_pkey: "the campaign already goes to this list",
};

function isPgError(error: unknown): error is PgError {
  const e = error as Partial<PgError> | null;
  return typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === "string";
}

/**
 * Postgres errors caused by the request: invalid data (22), constraint violations (23), missing
 * privileges (42501), a state that forbids the change (55000), errors raised by our functions (P0001,
 * P0002), serialization failures to retry (40001, 40P01).
 */
export function isClientPgError(error: PgError): boolean {
  return /^(22|23)/.test(error.code) || ["42501", "55000", "P0001", "P0002", "40001", "40P01"].includes(error.code);
}

export function makeMaskError(production: boolean, log: Log) {
  return function maskError(error: GraphQLError): GraphQLError | GraphQLFormattedError {
    const original = error.originalError;
    const at = { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: original };
    if (!original || original instanceof GraphQLError) return error;
    if (isSafeError(original)) {
      return new GraphQLError(original.message, { ...at, extensions: { ...(original.extensions ?? {}) } });
    }
    if (isPgError(original) && isClientPgError(original)) {
      const message = (original.constraint && CONSTRAINT_MESSAGES[original.constraint]) ?? original.message;
      return new GraphQLError(message, {
        ...at,
        extensions: {
          code: original.code,
          ...(original.hint ? { hint: original.hint } : {}),
          ...(!production && original.detail ? { detail: original.detail } : {}),
          ...(!production && original.constraint ? { constraint: original.constraint } : {}),
        },
      });
    }
    if (!production) {
      return new GraphQLError(original.message, {
        ...at,
        extensions: {
          ...(isPgError(original) ? { code: original.code, detail: original.detail, hint: original.hint } : {}),
          stack: original.stack?.split("\n"),
        },
      });
    }
    const errorId = crypto.randomBytes(6).toString("hex");
    log.error({ err: original, errorId, path: error.path }, "GraphQL request failed");
    return new GraphQLError(`An internal error occurred (error id ${errorId})`, {
      ...at,
      extensions: { code: "INTERNAL", errorId },
    });
  };
}
