/** Wiring between the pipeline and Prometheus metrics: request counters, the engine observer and GET /metrics. */
import { Router, type RequestHandler } from 'express';
import type { EngineObserver } from '../engine.js';
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

export function metricsRoute(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
