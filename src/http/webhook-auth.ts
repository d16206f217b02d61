// Who may deliver events: a shared secret (query parameter `code` or header `x-webhook-key`, any of
// WEBHOOK_SECRETS, compared in constant time), or a Microsoft Entra bearer token checked for
// signature (JWKS), issuer, audience and expiry. With neither configured, nobody may.
import crypto from "node:crypto";
import type { Request } from "express";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { EntraConfig } from "../config.ts";

export interface WebhookAuthenticator {
  /** False when neither secrets nor Entra are configured: every delivery is refused. */
  configured: boolean;
  authenticate(req: Request): Promise<boolean>;
}

/** The key set could not be fetched: not the sender's fault, so the delivery is to be retried. */
export class TransientAuthError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransientAuthError";
  }
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // ERR_JOSE_GENERIC: the key set answered with something other than 200 OK.
  if (code === "ERR_JWKS_TIMEOUT" || code === "ERR_JOSE_GENERIC") return true;
  // jose's verdicts about the token itself carry an ERR_J* code; anything else is the network.
  return typeof code !== "string" || !code.startsWith("ERR_J");
}

function digest(value: string): Buffer {
  return crypto.createHash("sha256").update(value, "utf8").digest();
}

export function createWebhookAuthenticator(secrets: string[], entra: EntraConfig | undefined): WebhookAuthenticator {
  // Hashing first gives equal-length buffers, so timingSafeEqual reveals nothing about length either.
  const secretDigests = secrets.map(digest);
  const jwks: JWTVerifyGetKey | undefined = entra ? createRemoteJWKSet(new URL(entra.jwksUrl)) : undefined;

  const secretMatches = (presented: string): boolean => {
    const d = digest(presented);
    let match = false;
    for (const s of secretDigests) match = crypto.timingSafeEqual(d, s) || match;
    return match;
  };

  return {
    configured: secretDigests.length > 0 || entra !== undefined,
    async authenticate(req) {
      const code = typeof req.query.code === "string" ? req.query.code : undefined;
      const header = req.get("x-webhook-key");
      if (secretDigests.length > 0) {
        if (code !== undefined && secretMatches(code)) return true;
        if (header !== undefined && secretMatches(header)) return true;
      }
      const authorization = req.get("authorization");
      if (entra && jwks && authorization?.startsWith("Bearer ")) {
        try {
          await jwtVerify(authorization.slice("Bearer ".length), jwks, {
            issuer: entra.issuer,
            audience: entra.audience,
            algorithms: ["RS256", "RS384", "RS512", "PS256", "ES256"],
            requiredClaims: ["exp"],
          });
          return true;
        } catch (error) {
          if (isTransient(error)) throw new TransientAuthError(`the JWKS at ${entra.jwksUrl} could not be read`, { cause: error });
          return false;
        }
      }
      return false;
    },
  };
}
