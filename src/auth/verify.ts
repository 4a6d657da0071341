/**
 * Verification of the CDS Hooks client JWT (`Authorization: Bearer <jwt>`), CDS Hooks 2.0 §Security and the
 * best-practice checks: header (alg, typ, kid, jku), trusted issuer, audience = the exact URL invoked, time
 * claims, tenant, signature, and finally a one-time `jti`.
 *
 * Order: everything that can be judged from the token alone is checked before any key is looked up, so a
 * junk or misdirected token never causes a key fetch; the signature is checked before the `jti` is stored,
 * so a forged token cannot burn a real one. Reasons found before the signature check describe UNVERIFIED
 * content: they are for operators' logs, never for the caller.
 */
import { createHash } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { ALLOWED_ALGORITHMS, isAllowedAlgorithm, normaliseUrl, type KeyStore } from './keys.js';
import type { ReplayCache } from './replay-cache.js';
import type { TrustedClient } from './trusted-clients.js';

/** The caller, once verified; set on `res.locals.client`. */
export interface AuthenticatedClient {
  iss: string;
  tenant?: string;
  jti: string;
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'jti'] as const;
type RequiredClaim = (typeof REQUIRED_CLAIMS)[number];

/** Stable failure codes (logged, never sent to the caller). */
export type FailureReason =
  | 'missing-header'
  | 'not-bearer'
  | 'malformed'
  | 'alg-not-allowed'
  | 'bad-typ'
  | 'missing-kid'
  | 'unsupported-header'
  | `missing-claim:${RequiredClaim | 'tenant'}`
  | `invalid-claim:${RequiredClaim | 'nbf' | 'tenant'}`
  | 'unknown-issuer'
  | 'bad-audience'
  | 'expired'
  | 'iat-in-future'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'tenant-not-allowed'
  | 'jku-not-allowed'
  | 'unknown-kid'
  | 'ambiguous-kid'
  | 'bad-signature'
  | 'jwks-unavailable'
  | 'replayed-jti'
  | 'replay-cache-unavailable';

/** Unverified header/claim values, for the log line only. */
export interface TokenLabels {
  iss?: string;
  kid?: string;
  jti?: string;
}

export type VerifyResult =
  | { ok: true; client: AuthenticatedClient }
  | { ok: false; reason: FailureReason; labels: TokenLabels };

export interface VerifyInput {
  /** The raw Authorization header, if any. Tokens anywhere else (query, body, cookies) are ignored. */
  authorization: string | undefined;
  /** Request path without query string, e.g. `/cds-services/ldn-order-select/feedback`. */
  path: string;
}

export interface VerifierOptions {
  clients: readonly TrustedClient[];
  keys: KeyStore;
  replayCache: ReplayCache;
  /** Base URLs accepted in `aud` (no trailing slash): config.audienceBaseUrls; the expected `aud` is one of them + the request path. */
  publicBaseUrls: readonly string[];
  maxLifetimeS: number;
  clockSkewS: number;
  /** Clock in ms. */
  now: () => number;
}

export type Verifier = (input: VerifyInput) => Promise<VerifyResult>;

/** Largest Authorization token accepted; a CDS Hooks JWT is well under 2 KB. */
const MAX_TOKEN_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_JTI_LENGTH = 256;

class Refusal {
  constructor(readonly reason: FailureReason) {}
}

/** Build the verifier; unexpected errors (bugs, not bad tokens) are thrown for the caller to log and refuse. */
export function createVerifier(options: VerifierOptions): Verifier {
  const clientsByIss = new Map(options.clients.map((c) => [c.iss, c]));

  return async function verify(input: VerifyInput): Promise<VerifyResult> {
    const labels: TokenLabels = {};
    try {
      const client = await verifyOrRefuse(input, labels);
      return { ok: true, client };
    } catch (error) {
      if (error instanceof Refusal) return { ok: false, reason: error.reason, labels };
      throw error;
    }
  };

  async function verifyOrRefuse(input: VerifyInput, labels: TokenLabels): Promise<AuthenticatedClient> {
    const token = bearerToken(input.authorization);
    const header = protectedHeader(token);
    if (typeof header.kid === 'string') labels.kid = header.kid;
    checkHeader(header, token);

    const unverified = decodeClaims(token);
    if (typeof unverified.iss === 'string') labels.iss = unverified.iss;
    if (typeof unverified.jti === 'string') labels.jti = unverified.jti;
    const iss = stringClaim(unverified, 'iss');
    const client = clientsByIss.get(iss);
    if (!client) throw new Refusal('unknown-issuer');
    const claims = checkClaims(unverified, client, input.path);

    const getKey = options.keys.keysFor(client, header.jku);
    if (typeof getKey === 'string') throw new Refusal(getKey);
    const verified = await verifySignature(token, getKey);
    // With b64/crit refused, the signed payload is the bytes decoded above; compare to be certain.
    if (Buffer.from(verified).toString('base64url') !== token.split('.')[1]) throw new Refusal('malformed');

    await consumeJti(claims);
    return { iss: claims.iss, jti: claims.jti, ...(claims.tenant !== undefined ? { tenant: claims.tenant } : {}) };
  }

  function checkClaims(payload: Record<string, unknown>, client: TrustedClient, path: string) {
    for (const name of REQUIRED_CLAIMS) if (payload[name] === undefined) throw new Refusal(`missing-claim:${name}`);
    const iss = stringClaim(payload, 'iss');
    const jti = stringClaim(payload, 'jti');
    if (jti.length > MAX_JTI_LENGTH) throw new Refusal('invalid-claim:jti');
    const exp = numericDate(payload, 'exp');
    const iat = numericDate(payload, 'iat');
    const nbf = payload.nbf === undefined ? undefined : numericDate(payload, 'nbf');

    if (!audienceMatches(payload.aud, path)) throw new Refusal('bad-audience');
    const nowS = options.now() / 1000;
    const skew = options.clockSkewS;
    if (exp <= nowS - skew) throw new Refusal('expired');
    if (iat > nowS + skew) throw new Refusal('iat-in-future');
    if (nbf !== undefined && nbf > nowS + skew) throw new Refusal('not-yet-valid');
    if (exp - iat > options.maxLifetimeS) throw new Refusal('lifetime-too-long');

    let tenant: string | undefined;
    if (payload.tenant !== undefined) tenant = stringClaim(payload, 'tenant');
    if (client.tenants) {
      if (tenant === undefined) throw new Refusal('missing-claim:tenant');
      if (!client.tenants.includes(tenant)) throw new Refusal('tenant-not-allowed');
    }
    return { iss, jti, exp, tenant };
  }

  /**
   * `aud` (string or array of strings) must contain the exact URL invoked under one of our public bases. Both
   * sides are compared as WHATWG-normalised URLs, so only the spelling of scheme, host and default port may
   * differ (`HTTP://LocalHost:80/x` is `http://localhost/x`); the path must be the one invoked, with no query.
   */
  function audienceMatches(aud: unknown, path: string): boolean {
    const expected = new Set(options.publicBaseUrls.flatMap((base) => normaliseUrl(base + path) ?? []));
    const matches = (a: string) => {
      const normalised = normaliseUrl(a);
      return normalised !== undefined && expected.has(normalised);
    };
    if (typeof aud === 'string') return matches(aud);
    if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) return aud.some(matches);
    throw new Refusal('invalid-claim:aud');
  }

  async function consumeJti(claims: { iss: string; jti: string; exp: number }): Promise<void> {
    const ttlMs = Math.max(1, (claims.exp + options.clockSkewS) * 1000 - options.now());
    let firstUse: boolean;
    try {
      firstUse = await options.replayCache.checkAndStore(replayKey(claims.iss, claims.jti), ttlMs);
    } catch {
      throw new Refusal('replay-cache-unavailable');
    }
    if (!firstUse) throw new Refusal('replayed-jti');
  }
}

/** The replay-cache key for (iss, jti): a hash, so it is fixed-length and unambiguous whatever the strings hold. */
export function replayKey(iss: string, jti: string): string {
  return createHash('sha256').update(JSON.stringify([iss, jti])).digest('hex');
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new Refusal('missing-header');
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) throw new Refusal(/^Bearer(\s|$)/i.test(authorization) ? 'malformed' : 'not-bearer');
  const token = match[1] ?? '';
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw new Refusal('malformed');
  return token;
}

function protectedHeader(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw new Refusal('malformed');
  }
}

function checkHeader(header: ProtectedHeaderParameters, token: string): void {
  if (!isAllowedAlgorithm(header.alg)) throw new Refusal('alg-not-allowed');
  if (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') throw new Refusal('bad-typ');
  if (typeof header.kid !== 'string' || header.kid === '') throw new Refusal('missing-kid');
  // No critical extensions are supported; b64=false would make the signed payload differ from the decoded one.
  if (header.crit !== undefined || header.b64 !== undefined) throw new Refusal('unsupported-header');
  if (token.endsWith('.')) throw new Refusal('malformed'); // signature stripped
}

function decodeClaims(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token);
  } catch {
    throw new Refusal('malformed');
  }
}

function stringClaim(payload: Record<string, unknown>, name: 'iss' | 'jti' | 'tenant'): string {
  const value = payload[name];
  if (value === undefined) throw new Refusal(`missing-claim:${name}`);
  if (typeof value !== 'string' || value === '') throw new Refusal(`invalid-claim:${name}`);
  return value;
}

function numericDate(payload: Record<string, unknown>, name: 'exp' | 'iat' | 'nbf'): number {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Refusal(`invalid-claim:${name}`);
  return value;
}

/** Signature check with the chosen keys; jose errors are mapped by their stable `code`. */
async function verifySignature(token: string, getKey: Parameters<typeof compactVerify>[1]): Promise<Uint8Array> {
  try {
    const { payload } = await compactVerify(token, getKey, { algorithms: [...ALLOWED_ALGORITHMS] });
    return payload;
  } catch (error) {
    throw new Refusal(signatureFailure(error));
  }
}

/** jose (and key store) error codes → reasons; any other error is unexpected and rethrown. */
const SIGNATURE_FAILURES: ReadonlyMap<string, FailureReason> = new Map<string, FailureReason>([
  ['ERR_JWKS_NO_MATCHING_KEY', 'unknown-kid'],
  ['ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ambiguous-kid'],
  ['ERR_LDN_JWKS_UNAVAILABLE', 'jwks-unavailable'],
  ['ERR_JOSE_ALG_NOT_ALLOWED', 'alg-not-allowed'],
  ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'bad-signature'],
  ['ERR_JWS_INVALID', 'malformed'],
  ['ERR_JOSE_NOT_SUPPORTED', 'malformed'],
]);

function signatureFailure(error: unknown): FailureReason {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const reason = typeof code === 'string' ? SIGNATURE_FAILURES.get(code) : undefined;
  if (reason === undefined) throw error;
  return reason;
}
