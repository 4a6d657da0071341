/**
 * What a refused caller is told (the OperationOutcome's `diagnostics`): which class of check failed, in general
 * terms, and where the rules are written. Never which issuer, key or tenant exists: every check that runs after
 * the issuer is looked up (claims, audience, times, key, signature, replay) gets one and the same text, so the
 * answer to an unknown issuer cannot be told apart from the answer to a known issuer with a bad token.
 * The exact reason goes to the log only (src/auth/index.ts).
 */
import type { FailureReason } from './verify.js';

export const AUTH_DOCS = 'docs/security.md "Verification steps" in the ldn-cds repository; CDS Hooks 2.0: https://cds-hooks.hl7.org/2.0/#trusting-cds-clients';

const HINTS = {
  missing:
    'No bearer token. Every discovery, service and feedback call needs "Authorization: Bearer <JWT>" signed by a trusted CDS client (AUTH_MODE=required). For a first local call, see the README quick start.',
  format: 'The Authorization header is not "Bearer <JWT>" (one compact, signed JWS).',
  header: 'The JWT header is not accepted: it needs an allowed asymmetric alg, typ "JWT" and a kid, and no crit or b64.',
  token:
    'The JWT was not accepted. It must name a trusted issuer (iss), be signed with that client\'s key, have aud equal to the exact URL called under this service\'s public base URL, be current (iat, exp; lifetime within the configured maximum), and have a jti not used before.',
  unavailable: 'The token could not be checked right now (the replay cache is unreachable). Retry later.',
} as const;

export type RefusalClass = keyof typeof HINTS;

/** The class of a refusal: only checks that run before the issuer is looked up are told apart. */
export function refusalClass(reason: FailureReason | 'internal-error'): RefusalClass {
  switch (reason) {
    case 'missing-header':
      return 'missing';
    case 'not-bearer':
    case 'malformed':
      return 'format';
    case 'alg-not-allowed':
    case 'bad-typ':
    case 'missing-kid':
    case 'unsupported-header':
      return 'header';
    case 'replay-cache-unavailable':
      return 'unavailable';
    default:
      return 'token';
  }
}

/** The `diagnostics` text for a refusal: the hint and the documentation. */
export function refusalDiagnostics(reason: FailureReason | 'internal-error'): string {
  return `${HINTS[refusalClass(reason)]} See ${AUTH_DOCS}.`;
}
