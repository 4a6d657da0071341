/**
 * The card playground (docs/playground.md): a static page at `/` that acts as a small EHR — pick a synthetic
 * scenario or paste a hook request, call the real `/cds-services/{id}` endpoint, render the cards, apply
 * suggestions to the shown draft order, post real feedback.
 *
 *   GET  /                       the page (strict CSP: scripts and styles from this origin only, no inline, no eval)
 *   GET  /playground/<asset>     app.js, ehr.js, markdown.js, styles.css, icon.svg (an allow-list, nothing else)
 *   GET  /playground/config      auth mode, public base URLs, knowledge name and version
 *   GET  /playground/scenarios   fixtures/scenarios/*.yaml cases and fixtures/requests/*.json, as hook requests
 *   POST /playground/token       {"aud": "<one of this service's CDS URLs>"} → a client JWT for that URL only
 *                                (AUTH_MODE=required only; same-origin only; never logged or stored)
 *   POST /playground/reset       forget the suppressions of the scenarios' synthetic patients (not in production)
 *
 * Under AUTH_MODE=required the playground is a CDS client like any other: it signs with an ES384 key generated
 * at start, trusted for the issuer `<PUBLIC_BASE_URL[0]>/playground` only (returned in `trustedClients` for
 * createAuth). With PLAYGROUND=off (the production default) the router is empty and no client is added.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { ConfigError, PROJECT_ROOT, type Config } from '../config/index.js';
import type { TrustedClient } from '../auth/trusted-clients.js';
import type { Knowledge } from '../engine/knowledge.js';
import type { Logger } from '../observability/logger.js';
import { badRequest, outcome, OutcomeError, unsupportedMediaType } from '../model/outcomes.js';
import { buildScenarioList, playgroundPatientIds, readScenarioSources } from './scenarios.js';
import type { Storage } from '../storage/index.js';
import { patientHash } from '../observability/logger.js';
import { createSigner, TOKEN_LIFETIME_S, type PlaygroundSigner } from './signer.js';

export { playgroundIssuer, ownCdsUrls, TOKEN_LIFETIME_S, PLAYGROUND_ALG } from './signer.js';
export type { PlaygroundScenario, PatientBanner } from './scenarios.js';

export interface PlaygroundDeps {
  logger: Logger;
  knowledge: Knowledge;
  /** Folder of the static page; default src/web/playground. */
  webDir?: string;
  /** Folder holding scenarios/ and requests/; default fixtures/. */
  fixturesDir?: string;
  /** Clock in ms, for token iat/exp and the scenarios' relative dates. */
  now?: () => number;
  /** For the reset of the scenario patients' suppressions (POST /playground/reset; never in production). */
  storage?: Pick<Storage, 'forgetPatients'>;
}

export interface Playground {
  router: Router;
  /** The playground's own client (one entry) when it is on under AUTH_MODE=required; otherwise empty. */
  trustedClients: TrustedClient[];
}

/** The page's files, by URL name: nothing outside this list is ever served from the folder. */
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['app.js', 'text/javascript; charset=utf-8'],
  ['ehr.js', 'text/javascript; charset=utf-8'],
  ['markdown.js', 'text/javascript; charset=utf-8'],
  ['styles.css', 'text/css; charset=utf-8'],
  ['icon.svg', 'image/svg+xml'],
]);

/** The Content-Security-Policy of the page and its assets. */
export const PLAYGROUND_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

export async function createPlayground(config: Config, deps: PlaygroundDeps): Promise<Playground> {
  const router = Router();
  if (!config.playground) return { router, trustedClients: [] };
  // loadConfig refuses PLAYGROUND=on in production; this holds even for a Config built another way.
  if (config.env === 'production') throw new ConfigError(['PLAYGROUND: "on" is refused when NODE_ENV=production (the playground signs trusted client JWTs for anyone who reaches it)']);

  const logger = deps.logger.child({ component: 'playground' });
  const now = deps.now ?? Date.now;
  const webDir = deps.webDir ?? path.join(PROJECT_ROOT, 'src', 'web', 'playground');
  const missing = ['index.html', ...ASSETS.keys()].filter((f) => !existsSync(path.join(webDir, f)));
  if (missing.length) {
    throw new Error(`PLAYGROUND=on but the page is incomplete: ${missing.join(', ')} missing in ${webDir} (set PLAYGROUND=off, or ship src/web/playground)`);
  }
  const sources = readScenarioSources(deps.fixturesDir ?? path.join(PROJECT_ROOT, 'fixtures'));
  for (const problem of sources.problems) logger.warn({ problem }, 'playground: scenario source skipped');

  const signer =
    config.authMode === 'required'
      ? await createSigner({ publicBaseUrls: config.publicBaseUrls, serviceIds: deps.knowledge.services.ids(), now })
      : undefined;
  if (signer) {
    logger.info({ iss: signer.iss, kid: signer.kid }, 'playground on: signing key generated at start, trusted for its own issuer only');
  } else logger.info('playground on (AUTH_MODE=off: it calls without a client JWT)');

  // Never in production: createPlayground refuses to run there (above).
  const resetAvailable = deps.storage !== undefined;
  const security = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: PLAYGROUND_CSP },
    // TLS is terminated in front of the service (docs/security.md); HSTS is that proxy's decision.
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  const send =
    (file: string, type: string): RequestHandler =>
    (_req, res, next) => {
      res.type(type);
      res.sendFile(path.join(webDir, file), { dotfiles: 'deny' }, (err) => {
        if (err) next(err);
      });
    };

  router.get('/', security, send('index.html', 'text/html; charset=utf-8'));
  for (const [name, type] of ASSETS) router.get(`/playground/${name}`, security, send(name, type));

  router.get('/playground/config', security, (_req, res) => {
    res.json({
      authMode: config.authMode,
      publicBaseUrls: config.publicBaseUrls,
      ...(signer ? { issuer: signer.iss, tokenLifetimeS: TOKEN_LIFETIME_S } : {}),
      reset: resetAvailable,
      knowledge: { name: deps.knowledge.name, version: deps.knowledge.version },
    });
  });

  router.get('/playground/scenarios', security, (_req, res) => {
    res.json({ scenarios: buildScenarioList(sources, new Date(now())) });
  });

  if (signer) {
    const hosts = config.playgroundTokensForAnyHost ? [] : [loopbackOnly()];
    router.post('/playground/token', security, ...hosts, sameOriginOnly(config.publicBaseUrls), ...tokenBody(), tokenHandler(signer, config.publicBaseUrls));
  }

  // Reset: forget the suppressions of the playground's own synthetic patients (and only theirs). Never in production,
  // whatever PLAYGROUND says: there, "the patients of a scenario" could be anyone's.
  if (resetAvailable && deps.storage) {
    const storage = deps.storage;
    const hashes = playgroundPatientIds(sources).map((id) => patientHash(config.patientIdHashKey, id));
    const hosts = config.playgroundTokensForAnyHost ? [] : [loopbackOnly()];
    router.post('/playground/reset', security, ...hosts, sameOriginOnly(config.publicBaseUrls), async (_req, res) => {
      const removed = await storage.forgetPatients(hashes);
      logger.info({ patients: hashes.length, suppressionsRemoved: removed }, 'playground reset: suppressions of its scenario patients forgotten');
      res.json({ patients: hashes.length, suppressionsRemoved: removed });
    });
  }

  return { router, trustedClients: signer ? [signer.client] : [] };
}

/**
 * Unless PLAYGROUND=on was set explicitly, tokens go to clients on this machine only: a development instance
 * reachable on a network must not hand out trusted JWTs to anyone who asks.
 */
export function loopbackOnly(): RequestHandler {
  return (req, _res, next) => {
    const address = req.socket.remoteAddress ?? '';
    const loopback = address === '::1' || /^(::ffff:)?127\./.test(address);
    next(loopback ? undefined : new OutcomeError(outcome(403, [{ code: 'forbidden', text: 'Playground tokens are issued to clients on this machine only; set PLAYGROUND=on to allow other hosts' }])));
  };
}

/**
 * The token endpoint answers the page only: a browser request from another origin is refused (Origin and
 * Sec-Fetch-Site checked when present) and the answer carries no CORS grant, so other sites cannot read it.
 */
function sameOriginOnly(publicBaseUrls: readonly string[]): RequestHandler {
  const origins = new Set(publicBaseUrls.map((u) => new URL(u).origin));
  return (req, res, next) => {
    res.removeHeader('Access-Control-Allow-Origin');
    res.removeHeader('Access-Control-Expose-Headers');
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((origin !== undefined && !origins.has(origin)) || (site !== undefined && site !== 'same-origin')) {
      next(new OutcomeError(outcome(403, [{ code: 'forbidden', text: 'Playground tokens are issued to the playground page only (same origin as PUBLIC_BASE_URL)' }])));
      return;
    }
    next();
  };
}

function tokenBody(): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    next(req.is('application/json') ? undefined : new OutcomeError(unsupportedMediaType('Content-Type must be application/json')));
  };
  return [requireJson, express.json({ limit: '4kb', strict: true })];
}

function tokenHandler(signer: PlaygroundSigner, publicBaseUrls: readonly string[]): RequestHandler {
  return async (req, res) => {
    const aud = (req.body as { aud?: unknown } | undefined)?.aud;
    const minted = await signer.mint(aud);
    if (!minted) {
      throw new OutcomeError(
        badRequest(
          `aud must be exactly the URL of one of this service's CDS endpoints (discovery, a service, its feedback) under PUBLIC_BASE_URL: ${publicBaseUrls.join(', ')}`,
          ['aud'],
        ),
      );
    }
    res.setHeader('Pragma', 'no-cache');
    res.json({ token: minted.token, tokenType: 'Bearer', aud: minted.aud, expiresIn: minted.expiresIn });
  };
}
