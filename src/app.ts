/**
 * The app factory: builds the Express app from a validated Config. Nothing listens here (src/server.ts does).
 * Order: request id + log → CORS (headers on every answer, preflights without auth) → routes → 404 → errors.
 */
import express, { type Express } from 'express';
import type { Config } from './config/index.js';
import { createAuth, type AuthService } from './auth/index.js';
import type { ReplayCache } from './auth/replay-cache.js';
import { createEngine, type Engine } from './engine/index.js';
import { jsonBody, jsonDocument } from './http/body.js';
import { cors } from './http/cors.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { requestLog } from './http/request-log.js';
import { cdsRoutes } from './http/routes.js';
import { loadKnowledge, type Knowledge } from './engine/knowledge.js';
import { createLogger, type Logger } from './observability/logger.js';
import { counterFrom, createMetrics, gaugeFrom, type Metrics } from './observability/metrics.js';
import { createStorage, type Storage } from './storage/index.js';
import { feedbackRouter } from './http/feedback.js';
import { adminRouter } from './http/admin.js';
import { evidenceRouter } from './http/evidence.js';
import { openapiRouter } from './http/openapi.js';
import { createPlayground } from './playground/index.js';
import { httpMetrics, metricsApp, metricsRoute, engineObserver } from './http/metrics.js';

export interface AppDeps {
  logger?: Logger;
  /** A pre-loaded knowledge pack (tests); default: loaded from config.cdsServicesDir. */
  knowledge?: Knowledge;
  /** fetch used for FHIR requests (tests may inject one). */
  fetch?: typeof fetch;
  /** Clinical clock: "now" for date arithmetic in facts. */
  now?: () => Date;
  /** JWT clock, ms since epoch (tests pin it to a token's iat). */
  authNow?: () => number;
  /** fetch used for JWKS URLs. */
  jwksFetch?: typeof fetch;
  replayCache?: ReplayCache;
  metrics?: Metrics;
  /** A storage the caller owns (not closed by close()); default: opened from config (SQLite or DATABASE_URL). */
  storage?: Storage;
}

export interface AppHandle {
  app: Express;
  /** The internal /metrics listener's app, when METRICS_PORT is set (src/server.ts listens on it). */
  metricsApp?: Express;
  config: Config;
  engine: Engine;
  logger: Logger;
  metrics: Metrics;
  storage: Storage;
  close(): Promise<void>;
}

export async function createApp(config: Config, deps: AppDeps = {}): Promise<AppHandle> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const knowledge = deps.knowledge ?? loadKnowledge(config.cdsServicesDir);
  const metrics = deps.metrics ?? createMetrics();
  const storage = deps.storage ?? (await createStorage(config, { logger, options: config.storage, overrideReasons: knowledge.overrideReasons }));
  gaugeFrom(metrics, 'ldn_cds_audit_queue_depth', 'Card-audit entries waiting for the database', () => storage.stats().auditQueueDepth);
  counterFrom(metrics, 'ldn_cds_audit_dropped_total', 'Card-audit entries dropped because the queue was full (since start)', () => storage.stats().auditDropped);
  counterFrom(metrics, 'ldn_cds_storage_write_failures_total', 'Failed database writes (since start)', () => storage.stats().writeFailures);
  const engine = createEngine(knowledge, { config, logger, fetch: deps.fetch, now: deps.now, observer: engineObserver(metrics), storage });
  const playground = await createPlayground(config, { logger, knowledge, storage });
  const auth: AuthService = await createAuth(config, {
    extraClients: playground.trustedClients,
    logger,
    now: deps.authNow,
    fetch: deps.jwksFetch,
    replayCache: deps.replayCache,
    onFailure: (reason) => metrics.authFailure(reason),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  app.set('etag', false); // answers are no-store and mostly POSTs: an ETag would be a hash of every body for nothing

  app.use(requestLog(logger));
  app.use(httpMetrics(metrics));
  app.use(cors(config.corsOrigins));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(
    healthRoutes(
      [
        { name: 'knowledge', check: async () => ({ ok: true, detail: `${knowledge.name} ${knowledge.version}: ${knowledge.services.all().length} services, ${knowledge.rules.size} rules` }) },
        { name: 'auth', check: () => auth.readiness() },
        { name: 'storage', check: () => storage.readiness() },
      ],
      () => (config.authMode === 'off' ? ['AUTH_MODE=off: CDS client JWTs are NOT verified (development only)'] : []),
    ),
  );
  const metricsOptions = { ...(config.metrics.token ? { token: config.metrics.token } : {}), detailedReasons: config.metrics.detailedReasons };
  if (config.metrics.onPublicPort) app.use(metricsRoute(metrics, metricsOptions));
  else if (config.metrics.port === undefined) logger.warn('GET /metrics is off: in production it is served only with METRICS_PORT (internal listener) or METRICS_TOKEN');
  const body = jsonBody(config.bodyLimit, config.bodyMaxDepth);
  app.use(feedbackRouter({ storage, auth: auth.middleware, body, serviceExists: (id) => knowledge.services.endpoint(id) !== undefined }));
  app.use(cdsRoutes({ engine, auth: auth.middleware, body: jsonDocument(config.bodyLimit, config.bodyMaxDepth) }));
  app.use(adminRouter({ storage, adminToken: config.adminToken }));
  app.use(openapiRouter({ publicBaseUrl: config.publicBaseUrls[0]! }));
  app.use(evidenceRouter({ knowledge }));
  app.use(playground.router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  return {
    app,
    ...(config.metrics.port !== undefined ? { metricsApp: metricsApp(metrics, metricsOptions, logger) } : {}),
    config,
    engine,
    logger,
    metrics,
    storage,
    async close() {
      await auth.close();
      if (!deps.storage) await storage.close();
    },
  };
}
