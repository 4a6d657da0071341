/**
 * Client authentication for the CDS Hooks endpoints: `createAuth(config, deps)` returns an express middleware
 * that admits a request only with a valid client JWT (see verify.ts), plus readiness and shutdown hooks.
 *
 * Mount it on GET /cds-services, POST /cds-services/:id and POST /cds-services/:id/feedback. It lets OPTIONS
 * (CORS preflight) through. A refused request gets 401 (or REPLAY_CACHE_FAILURE_STATUS when the replay cache
 * cannot answer), `WWW-Authenticate: Bearer` and a generic OperationOutcome; the reason goes to the log only.
 */
import type { RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import { outcome } from '../model/outcomes.js';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';
import { KeyStore } from './keys.js';
import { MemoryReplayCache, RedisReplayCache, type ReplayCache } from './replay-cache.js';
import { AuthConfigError, loadTrustedClients, type TrustedClient } from './trusted-clients.js';
import { createVerifier, type AuthenticatedClient, type FailureReason, type TokenLabels, type Verifier } from './verify.js';
import { refusalDiagnostics } from './refusal.js';

export type { AuthenticatedClient, FailureReason, VerifyResult } from './verify.js';
export type { ReplayCache } from './replay-cache.js';
export type { TrustedClient } from './trusted-clients.js';
export { AuthConfigError } from './trusted-clients.js';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The verified CDS client, set by the auth middleware (absent when AUTH_MODE=off). */
    client?: AuthenticatedClient;
  }
}

export interface AuthDeps {
  logger: Logger;
  /** Clock in ms (tests pin it to a token's `iat`). */
  now?: () => number;
  /** Used for `jwks_url` / allow-listed `jku` fetches. */
  fetch?: typeof fetch;
  /** Supplied by the caller, who then owns it (not closed by `close()`). */
  replayCache?: ReplayCache;
  /** Told the (bounded) reason of every refusal, for metrics. */
  onFailure?: (reason: string) => void;
  /** Clients trusted in addition to TRUSTED_CLIENTS (the playground's own signing key); issuers must not clash. */
  extraClients?: readonly TrustedClient[];
}

export interface AuthService {
  middleware: RequestHandler;
  readiness(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}

/** Build the auth service; throws AuthConfigError when auth must not start (see docs/security.md). */
export async function createAuth(config: Config, deps: AuthDeps): Promise<AuthService> {
  const { logger } = deps;
  const production = config.env === 'production';
  if (production && config.authMode === 'off') throw new AuthConfigError(['AUTH_MODE: "off" is refused when NODE_ENV=production']);
  if (config.authMode === 'off') return authOff(logger);

  const configured = await loadTrustedClients({
    file: config.trustedClientsFile,
    allowSandboxIssuer: config.allowSandboxIssuer,
    production,
  });
  if (production && deps.extraClients?.length) {
    throw new AuthConfigError(['PLAYGROUND: its signing client is refused when NODE_ENV=production']);
  }
  const clients = [...configured, ...(deps.extraClients ?? [])];
  const issuers = clients.map((c) => c.iss);
  const clash = issuers.find((iss, i) => issuers.indexOf(iss) !== i);
  if (clash) throw new AuthConfigError([`trusted client issuer "${clash}" is configured twice`]);
  // Only operator-configured clients count: the playground's own key must never satisfy this check.
  if (configured.length === 0 && production) {
    throw new AuthConfigError([
      'AUTH_MODE=required but no trusted client is configured: set TRUSTED_CLIENTS to a file listing at least one client',
    ]);
  }
  logClients(clients, config, logger);

  const now = deps.now ?? Date.now;
  const replayCache = deps.replayCache ?? (await ownReplayCache(config, logger, now));
  const verify = createVerifier({
    clients,
    keys: new KeyStore({ logger, now, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
    replayCache,
    publicBaseUrls: config.audienceBaseUrls,
    maxLifetimeS: config.jwtMaxLifetimeS,
    clockSkewS: config.jwtClockSkewS,
    now,
  });

  return {
    middleware: authMiddleware(verify, config.replayCacheFailureStatus, logger, deps.onFailure),
    async readiness() {
      const cache = await replayCache.ready();
      return { ok: cache.ok, detail: `auth required, ${clients.length} trusted client(s); ${cache.detail}` };
    },
    async close() {
      if (!deps.replayCache) await replayCache.close();
    },
  };
}

function authOff(logger: Logger): AuthService {
  logger.warn('AUTH_MODE=off: CDS Hooks requests are NOT authenticated. Never run like this with real patient data.');
  return {
    middleware: (_req, _res, next) => next(),
    readiness: async () => ({ ok: true, detail: 'auth is OFF: requests are not authenticated' }),
    close: async () => {},
  };
}

function logClients(clients: readonly TrustedClient[], config: Config, logger: Logger): void {
  if (clients.length === 0) {
    logger.warn('AUTH_MODE=required and no trusted client is configured: every CDS Hooks request will be refused');
  }
  if (config.allowSandboxIssuer) {
    logger.warn('ALLOW_SANDBOX_ISSUER=true: tokens signed with the PUBLIC CDS Hooks Sandbox key are accepted. Testing only.');
  }
  logger.info({ issuers: clients.map((c) => c.iss) }, 'trusted CDS clients loaded');
}

async function ownReplayCache(config: Config, logger: Logger, now: () => number): Promise<ReplayCache> {
  if (!config.redisUrl) {
    if (config.env === 'production') logger.warn('replay cache is in memory: run a single instance or set REDIS_URL');
    return new MemoryReplayCache({ now });
  }
  const cache = new RedisReplayCache({ url: config.redisUrl, logger });
  await cache.connect();
  return cache;
}

/** The express handler around a verifier: OPTIONS passes, tokens only from the Authorization header. */
function authMiddleware(verify: Verifier, replayCacheFailureStatus: number, logger: Logger, onFailure?: (reason: string) => void): RequestHandler {
  return async (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const path = req.originalUrl.split('?', 1)[0] ?? '';
    const logPath = scrubSecrets(path).slice(0, 300);
    let status = 401;
    let reason: FailureReason | 'internal-error' = 'internal-error';
    try {
      const result = await verify({ authorization: req.get('authorization'), path });
      if (result.ok) {
        res.locals.client = result.client;
        return next();
      }
      reason = result.reason;
      onFailure?.(result.reason);
      if (result.reason === 'replay-cache-unavailable') status = replayCacheFailureStatus;
      logger.warn({ reason: result.reason, path: logPath, ...safeLabels(result.labels) }, 'request refused: client authentication failed');
    } catch (error) {
      onFailure?.('internal-error');
      logger.error({ path: logPath, error: scrubSecrets(error instanceof Error ? error.message : String(error)) }, 'request refused: unexpected error verifying the client JWT');
    }
    // Same text whatever the reason; the diagnostics name the class of check only (src/auth/refusal.ts).
    const refusal = outcome(status, [{ code: status === 401 ? 'login' : 'transient', text: 'Unauthorized', diagnostics: refusalDiagnostics(reason) }]);
    res.status(refusal.status).set('WWW-Authenticate', 'Bearer').json(refusal.body);
  };
}

/** Unverified labels are attacker-chosen: cap their length and scrub anything token-like before logging. */
function safeLabels(labels: TokenLabels): TokenLabels {
  const clean = (s: string | undefined) => (s === undefined ? undefined : scrubSecrets(s).slice(0, 200));
  return { iss: clean(labels.iss), kid: clean(labels.kid), jti: clean(labels.jti) };
}
