/**
 * Verification keys per trusted client.
 *
 * - Inline and file key sets (and the bundled sandbox set) are local: jose `createLocalJWKSet`, no network.
 * - A `jwks_url` is fetched on first use, cached, and fetched again when a token names an unknown `kid`
 *   (rate-limited per URL, so key rotation is picked up without letting callers hammer the key server).
 * - A token's `jku` header is honoured only when it is on that client's `jku_allow` list; anything else is
 *   refused here, before any network request. For a client with a local key set an allow-listed `jku` is a
 *   label only: the local keys are used and the URL is never fetched.
 * - Key fetches never follow redirects, time out, and stop reading a body past the byte cap (src/net/read-capped.ts).
 */
import { createLocalJWKSet, type CompactVerifyGetKey, type JSONWebKeySet, type LocalJWKSet } from 'jose';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';
import type { KeySource, TrustedClient } from './client.js';
import { readCappedText } from '../net/read-capped.js';

/** Asymmetric JWS algorithms accepted on client JWTs. Never `none`, never HMAC. */
export const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export function isAllowedAlgorithm(alg: unknown): alg is AllowedAlgorithm {
  return typeof alg === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
}

/** One public signing key, as an operator must write it in a trusted-clients file. */
const StrictJwk = z
  .object({
    kty: z.enum(['EC', 'RSA'], { message: 'kty must be "EC" or "RSA" (asymmetric keys only)' }),
    kid: z.string().min(1, 'kid is required'),
    use: z.literal('sig', { message: 'use must be "sig" when present' }).optional(),
    alg: z.enum(ALLOWED_ALGORITHMS, { message: `alg must be one of ${ALLOWED_ALGORITHMS.join(', ')}` }).optional(),
    d: z.undefined({ message: 'private key material ("d") must never be in a trusted-client key set' }),
  })
  .passthrough();

/** A key set written by an operator (inline or file): every key must be usable, kids unique. */
export const StrictJwksSchema = z
  .object({ keys: z.array(StrictJwk).min(1, 'keys must list at least one key') })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.keys.forEach((k, i) => {
      if (seen.has(k.kid)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['keys', i, 'kid'], message: `duplicate kid "${k.kid}"` });
      seen.add(k.kid);
    });
  });

/** Keys from a remote set that can verify our tokens; others (encryption keys, private keys, OKP, …) are dropped. */
function usableRemoteKeys(body: unknown): JSONWebKeySet {
  const keys = z.object({ keys: z.array(z.unknown()) }).parse(body).keys;
  return { keys: keys.flatMap((key) => StrictJwk.safeParse(key).data ?? []) };
}

/** Why no key getter could be chosen for a token. */
export type KeySelectionFailure = 'jku-not-allowed';

/** Raised by a remote key set that has no keys to offer (fetch failed and nothing cached). */
export class JwksUnavailableError extends Error {
  readonly code = 'ERR_LDN_JWKS_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'JwksUnavailableError';
  }
}

export interface KeyStoreOptions {
  logger: Logger;
  /** Injectable for tests; must honour `redirect: 'error'` and `signal` like the global fetch. */
  fetch?: typeof fetch;
  /** Clock in ms, used for cache age and the refetch rate limit. */
  now?: () => number;
  fetchTimeoutMs?: number;
  /** A fetched key set is fetched again after this age (on the next token that needs it). */
  cacheTtlMs?: number;
  /** At most one fetch per URL within this interval, whatever the reason (unknown kid, failure, expiry). */
  minFetchIntervalMs?: number;
  maxResponseBytes?: number;
}

type KeyStoreSettings = Required<KeyStoreOptions>;

/** URL normalised by WHATWG parsing (scheme/host case, default port, dot segments); undefined if not http(s). */
export function normaliseUrl(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Chooses and serves verification keys for every trusted client. */
export class KeyStore {
  private readonly local = new Map<TrustedClient, LocalJWKSet>();
  private readonly remote = new Map<string, RemoteKeySet>();
  private readonly settings: KeyStoreSettings;

  constructor(options: KeyStoreOptions) {
    this.settings = {
      logger: options.logger,
      fetch: options.fetch ?? globalThis.fetch,
      now: options.now ?? Date.now,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 3000,
      cacheTtlMs: options.cacheTtlMs ?? 10 * 60_000,
      minFetchIntervalMs: options.minFetchIntervalMs ?? 30_000,
      maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
    };
  }

  /**
   * The key getter for a token from `client` carrying header `jku` (if any).
   * A `jku` off the client's allow-list is refused without any network request.
   */
  keysFor(client: TrustedClient, jku: unknown): CompactVerifyGetKey | KeySelectionFailure {
    if (jku === undefined) return this.getter(client, client.keys);
    const url = typeof jku === 'string' ? normaliseUrl(jku) : undefined;
    if (url === undefined || !client.jkuAllow.includes(url)) return 'jku-not-allowed';
    return this.getter(client, client.keys.kind === 'local' ? client.keys : { kind: 'remote', url });
  }

  private getter(client: TrustedClient, source: KeySource): CompactVerifyGetKey {
    if (source.kind === 'local') {
      let set = this.local.get(client);
      if (!set) {
        set = createLocalJWKSet(source.jwks);
        this.local.set(client, set);
      }
      return set;
    }
    let set = this.remote.get(source.url);
    if (!set) {
      set = new RemoteKeySet(source.url, this.settings);
      this.remote.set(source.url, set);
    }
    const remoteSet = set;
    return (header, token) => remoteSet.getKey(header, token);
  }
}

/** One key URL: cached, refetched on an unknown kid at most once per interval, concurrent refreshes shared. */
class RemoteKeySet {
  private keySet: LocalJWKSet | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly settings: KeyStoreSettings,
  ) {}

  async getKey(...args: Parameters<LocalJWKSet>): ReturnType<LocalJWKSet> {
    const { now, cacheTtlMs } = this.settings;
    if (!this.keySet || now() - this.fetchedAt > cacheTtlMs) await this.refreshIfAllowed();
    const current = this.keySet;
    if (!current) throw new JwksUnavailableError('no keys available');
    try {
      return await current(...args);
    } catch (error) {
      if (!isJoseCode(error, 'ERR_JWKS_NO_MATCHING_KEY')) throw error;
      await this.refreshIfAllowed();
      if (!this.keySet || this.keySet === current) throw error;
      return this.keySet(...args);
    }
  }

  private refreshIfAllowed(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const { now, minFetchIntervalMs } = this.settings;
    if (now() - this.lastAttemptAt < minFetchIntervalMs) return Promise.resolve();
    this.lastAttemptAt = now();
    this.inFlight = this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<void> {
    const { logger, now } = this.settings;
    try {
      const jwks = await this.download();
      this.keySet = createLocalJWKSet(jwks);
      this.fetchedAt = now();
      logger.info({ jwksUrl: this.url, keys: jwks.keys.length }, 'trusted-client key set fetched');
    } catch (error) {
      // Keep serving the previous keys, if any: a key server outage should not lock every client out at once.
      logger.warn({ jwksUrl: this.url, error: scrubSecrets(errorText(error)) }, 'trusted-client key set fetch failed');
    }
  }

  private async download(): Promise<JSONWebKeySet> {
    const { fetch: fetchFn, fetchTimeoutMs, maxResponseBytes } = this.settings;
    const response = await fetchFn(this.url, {
      redirect: 'error',
      signal: AbortSignal.timeout(fetchTimeoutMs),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    // `redirected` guards against an injected fetch that ignores `redirect: 'error'`.
    if (response.status !== 200 || response.redirected) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    // Streamed with a byte cap: a chunked or endless body is cancelled as soon as it passes the cap.
    return usableRemoteKeys(JSON.parse(await readCappedText(response, maxResponseBytes)));
  }
}

/** True when `error` is a jose (or our) error with this stable `code`. */
export function isJoseCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}
