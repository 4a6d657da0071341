/**
 * The playground's own CDS client identity: an ES384 key pair generated at start (the private key is not
 * extractable and never leaves this process), trusted for one issuer only, `<PUBLIC_BASE_URL[0]>/playground`.
 *
 * It signs short-lived client JWTs for the page, one per call, each for ONE audience that must be exactly one of
 * this service's own CDS Hooks URLs (discovery, a service, its feedback endpoint) under a configured public base
 * URL. Tokens are returned to the caller only: never logged, never stored.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { TrustedClient } from '../auth/trusted-clients.js';

export const PLAYGROUND_ALG = 'ES384';
/** Lifetime of a minted token, seconds (the brief caps it at 5 minutes; a call needs a few seconds). */
export const TOKEN_LIFETIME_S = 120;

export interface MintedToken {
  token: string;
  aud: string;
  expiresIn: number;
}

export interface PlaygroundSigner {
  iss: string;
  kid: string;
  /** The trusted-client entry for the auth layer: this issuer, this public key, no `jku`. */
  client: TrustedClient;
  /** Audiences a token may be minted for (exact strings). */
  audiences: ReadonlySet<string>;
  /** Sign a token for `aud`; undefined when `aud` is not one of this service's own CDS URLs. */
  mint(aud: unknown): Promise<MintedToken | undefined>;
}

/** The issuer the playground signs as, derived from the first public base URL. */
export function playgroundIssuer(publicBaseUrls: readonly string[]): string {
  return `${publicBaseUrls[0]}/playground`;
}

/** Every URL a CDS client may legitimately call here: discovery, each service, each feedback endpoint, per base. */
export function ownCdsUrls(publicBaseUrls: readonly string[], serviceIds: readonly string[]): Set<string> {
  const urls = new Set<string>();
  for (const base of publicBaseUrls) {
    urls.add(`${base}/cds-services`);
    for (const id of serviceIds) {
      urls.add(`${base}/cds-services/${id}`);
      urls.add(`${base}/cds-services/${id}/feedback`);
    }
  }
  return urls;
}

export async function createSigner(options: {
  publicBaseUrls: readonly string[];
  serviceIds: readonly string[];
  /** Clock in ms (tests). */
  now?: () => number;
}): Promise<PlaygroundSigner> {
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = await generateKeyPair(PLAYGROUND_ALG, { extractable: false });
  const jwk = await exportJWK(publicKey);
  const kid = `playground-${(await calculateJwkThumbprint(jwk)).slice(0, 16)}`;
  const iss = playgroundIssuer(options.publicBaseUrls);
  const audiences = ownCdsUrls(options.publicBaseUrls, options.serviceIds);
  const client: TrustedClient = {
    iss,
    keys: { kind: 'local', jwks: { keys: [{ ...jwk, kid, alg: PLAYGROUND_ALG, use: 'sig' }] }, origin: 'playground key generated at start' },
    jkuAllow: [],
  };

  return {
    iss,
    kid,
    client,
    audiences,
    async mint(aud) {
      if (typeof aud !== 'string' || !audiences.has(aud)) return undefined;
      return { token: await sign(privateKey, { iss, kid, aud, nowS: Math.floor(now() / 1000) }), aud, expiresIn: TOKEN_LIFETIME_S };
    },
  };
}

function sign(key: CryptoKey, claims: { iss: string; kid: string; aud: string; nowS: number }): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: PLAYGROUND_ALG, typ: 'JWT', kid: claims.kid })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setIssuedAt(claims.nowS)
    .setExpirationTime(claims.nowS + TOKEN_LIFETIME_S)
    .setJti(randomUUID())
    .sign(key);
}
