/**
 * Prometheus metrics (GET /metrics). One registry per app, so several apps in one process (tests) never collide.
 * Auth refusals are counted twice, by reason and by coarse class; which series a scrape sees is decided by
 * src/http/metrics.ts (docs/security.md "Metrics").
 * Labels are bounded sets (service ids, hooks, rule ids, reasons): never a patient id, a token or a URL.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const FAST_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'service' | 'hook' | 'status'>;
  httpDuration: Histogram<'route' | 'service' | 'hook' | 'status'>;
  ruleDuration: Histogram<'rule'>;
  ruleFailures: Counter<'rule'>;
  cards: Counter<'rule' | 'indicator'>;
  fhirRequests: Counter<'kind' | 'outcome'>;
  fhirDuration: Histogram<'kind' | 'outcome'>;
  prefetchKeys: Counter<'service' | 'source'>;
  resourcesDropped: Counter<'reason'>;
  /** Detailed refusal reasons (verify.ts FailureReason); exposed only to an authenticated or internal scrape. */
  authFailures: Counter<'reason'>;
  evaluationMemo: Counter<'result'>;
  /** Count one refused CDS client JWT, in the detailed and the coarse series. */
  authFailure(reason: string): void;
  /** The exposition text: every metric, auth refusals detailed (`detailedReasons`) or in coarse classes. */
  exposition(options: { detailedReasons: boolean }): Promise<string>;
}

/**
 * The coarse class of a refusal reason, for an unauthenticated /metrics: it must not tell a trusted issuer from
 * an unknown one (or a known kid from an unknown one), so every reason judged from the token's content is
 * `invalid`, whatever step refused it. `replayed` and `unavailable` need a validly signed token to occur.
 */
export function authFailureClass(reason: string): 'missing' | 'invalid' | 'replayed' | 'unavailable' | 'error' {
  if (reason === 'missing-header' || reason === 'not-bearer') return 'missing';
  if (reason === 'replayed-jti') return 'replayed';
  if (reason === 'replay-cache-unavailable') return 'unavailable';
  if (reason === 'internal-error') return 'error';
  return 'invalid';
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Unprefixed (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...) so stock Node.js dashboards work.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const r = [registry];
  // One metric name, two series sets: the detailed reasons and their coarse classes, each in its own registry,
  // appended to the exposition of the main registry (which holds everything else) as the scrape allows.
  const detailRegistry = new Registry();
  const coarseRegistry = new Registry();
  const authFailures = new Counter({ name: 'ldn_cds_auth_failures_total', help: 'Rejected CDS client JWTs by reason', labelNames: ['reason'], registers: [detailRegistry] });
  const coarse = new Counter({
    name: 'ldn_cds_auth_failures_total',
    help: 'Rejected CDS client JWTs by class (missing, invalid, replayed, unavailable, error); detailed reasons need METRICS_TOKEN or METRICS_PORT',
    labelNames: ['reason'],
    registers: [coarseRegistry],
  });
  return {
    registry,
    httpRequests: new Counter({ name: 'ldn_cds_http_requests_total', help: 'HTTP requests by route, service, hook and status', labelNames: ['route', 'service', 'hook', 'status'], registers: r }),
    httpDuration: new Histogram({ name: 'ldn_cds_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['route', 'service', 'hook', 'status'], buckets: LATENCY_BUCKETS, registers: r }),
    ruleDuration: new Histogram({ name: 'ldn_cds_rule_evaluation_seconds', help: 'Time to evaluate one rule', labelNames: ['rule'], buckets: FAST_BUCKETS, registers: r }),
    ruleFailures: new Counter({ name: 'ldn_cds_rule_failures_total', help: 'Rules that threw (isolated; other rules answered)', labelNames: ['rule'], registers: r }),
    cards: new Counter({ name: 'ldn_cds_cards_total', help: 'Cards returned by rule and indicator', labelNames: ['rule', 'indicator'], registers: r }),
    fhirRequests: new Counter({ name: 'ldn_cds_fhir_requests_total', help: 'Requests made to FHIR servers (kind: read, search, page)', labelNames: ['kind', 'outcome'], registers: r }),
    fhirDuration: new Histogram({ name: 'ldn_cds_fhir_request_duration_seconds', help: 'FHIR request latency', labelNames: ['kind', 'outcome'], buckets: LATENCY_BUCKETS, registers: r }),
    prefetchKeys: new Counter({ name: 'ldn_cds_prefetch_keys_total', help: 'Prefetch keys by how they were satisfied (prefetch, prefetch-null, prefetch-paged, fetched, unavailable)', labelNames: ['service', 'source'], registers: r }),
    resourcesDropped: new Counter({ name: 'ldn_cds_resources_dropped_total', help: 'FHIR resources kept from the facts (reason: other-patient, unexpected-type)', labelNames: ['reason'], registers: r }),
    evaluationMemo: new Counter({ name: 'ldn_cds_evaluation_memo_total', help: 'Evaluations answered from the memo (hit) or computed (miss)', labelNames: ['result'], registers: r }),
    authFailures,
    authFailure(reason) {
      authFailures.inc({ reason });
      coarse.inc({ reason: authFailureClass(reason) });
    },
    async exposition({ detailedReasons }) {
      return (await registry.metrics()) + (await (detailedReasons ? detailRegistry : coarseRegistry).metrics());
    },
  };
}

/**
 * A counter whose running total another module keeps (e.g. audit entries dropped since start), read when Prometheus
 * scrapes. `name` must end in `_total`; the total must only grow.
 */
export function counterFrom(metrics: Metrics, name: string, help: string, read: () => number): void {
  if (!name.endsWith('_total')) throw new Error(`counter ${name}: the name must end in _total`);
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [metrics.registry],
    collect() {
      const total = read();
      if (total > seen) this.inc(total - seen);
      seen = Math.max(seen, total);
    },
  });
}

/** A gauge whose value is read when Prometheus scrapes (e.g. a queue depth owned by another module). */
export function gaugeFrom(metrics: Metrics, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [metrics.registry],
    collect() {
      this.set(read());
    },
  });
}
