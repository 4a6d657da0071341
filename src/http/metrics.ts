/**
 * Wiring between the pipeline and Prometheus metrics: request counters, the engine observer and GET /metrics
 * (on the public app or its own listener, behind METRICS_TOKEN when set; docs/security.md "Metrics").
 */
import express, { Router, type Express, type RequestHandler } from 'express';
import { bearerToken } from './bearer-token.js';
import { errorHandler, notFoundHandler } from './errors.js';
import type { Logger } from '../observability/logger.js';
import type { EngineObserver } from '../engine/index.js';
import type { Metrics } from '../observability/metrics.js';

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const labels = {
        route: routeName(req.method, req.path),
        service: String(res.locals.serviceId ?? ''),
        hook: String(res.locals.hook ?? ''),
        status: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}

/** A bounded label: never the raw path (it would hold arbitrary ids). */
function routeName(method: string, path: string): string {
  if (method === 'OPTIONS') return 'preflight';
  if (path === '/cds-services') return 'discovery';
  if (/^\/cds-services\/[^/]+\/feedback$/.test(path)) return 'feedback';
  if (/^\/cds-services\/[^/]+$/.test(path)) return 'service';
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1);
  return 'other';
}

export function engineObserver(metrics: Metrics): EngineObserver {
  return {
    ruleEvaluated: (rule, ms) => metrics.ruleDuration.observe({ rule }, ms / 1000),
    ruleFailed: (rule) => metrics.ruleFailures.inc({ rule }),
    memo: (hit) => metrics.evaluationMemo.inc({ result: hit ? 'hit' : 'miss' }),
    fhirRequest: ({ ms, ok, kind }) => {
      const labels = { kind, outcome: ok ? 'ok' : 'error' };
      metrics.fhirRequests.inc(labels);
      metrics.fhirDuration.observe(labels, ms / 1000);
    },
    resourcesDropped: (reason, count) => metrics.resourcesDropped.inc({ reason }, count),
    evaluated: (service, evaluation) => {
      for (const draft of evaluation.cards) metrics.cards.inc({ rule: draft.ruleId, indicator: draft.indicator });
      for (const k of Object.values(evaluation.report.keys)) metrics.prefetchKeys.inc({ service: service.id, source: k.source });
    },
  };
}

export interface MetricsRouteOptions {
  /** Require `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string;
  /** Expose detailed auth-refusal reasons (only to a token holder or on the internal port). */
  detailedReasons: boolean;
}

/** GET /metrics, behind METRICS_TOKEN when one is set. */
export function metricsRoute(metrics: Metrics, options: MetricsRouteOptions): Router {
  const router = Router();
  const guard: RequestHandler[] = options.token ? [bearerToken(options.token, 'ldn-cds-metrics', 'A valid metrics token is required (METRICS_TOKEN)')] : [];
  router.get('/metrics', ...guard, async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.exposition({ detailedReasons: options.detailedReasons }));
  });
  return router;
}

/** The internal metrics listener (METRICS_PORT): /metrics only; anything else is a 404 OperationOutcome. */
export function metricsApp(metrics: Metrics, options: MetricsRouteOptions, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(metricsRoute(metrics, options));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
