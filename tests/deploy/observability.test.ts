/**
 * Metrics as dashboards expect them: counters end in _total, Node/process metrics unprefixed, and the Grafana
 * dashboard and Prometheus alert rules in deploy/ name only metrics (and labels) the service's registry exposes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import type { AppHandle } from '../../src/app.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { counterFrom, createMetrics } from '../../src/observability/metrics.js';
import { testApp } from '../helpers/app.js';

/** Series Prometheus itself adds to every scrape target. */
const SCRAPE_SERIES = new Set(['up']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'le', 'inf', 'nan']);

/** The metric names and label names a PromQL expression reads (functions, keywords, strings and durations removed). */
export function promqlNames(expr: string): { metrics: Array<{ name: string; labels: string[] }> } {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const metrics: Array<{ name: string; labels: string[] }> = [];
  const withoutGroups = noStrings.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  const re = /([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?\s*(\()?/g;
  for (const m of withoutGroups.matchAll(re)) {
    const [, name, selector, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase()) || /^\d/.test(name!)) continue;
    const labels = selector ? [...selector.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!) : [];
    metrics.push({ name: name!, labels });
  }
  return { metrics };
}

const alerts = parse(readFileSync(path.join(PROJECT_ROOT, 'deploy/prometheus/alerts.yaml'), 'utf8')) as {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }> }>;
};
const dashboard = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'deploy/grafana/ldn-cds-dashboard.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; query: string | object }> };
};
const rules = alerts.groups.flatMap((g) => g.rules);
const expressions: Array<[string, string]> = [
  ...rules.map((r): [string, string] => [`alert ${r.alert}`, r.expr]),
  ...dashboard.panels.flatMap((p) => p.targets.map((t): [string, string] => [`panel "${p.title}"`, t.expr])),
  ...dashboard.templating.list.filter((v) => typeof v.query === 'string' && v.query.includes('(')).map((v): [string, string] => [`variable ${v.name}`, (v.query as string).replace(/^label_values\(([^,]+),.*$/, '$1')]),
];

let handle: AppHandle;
/** name → { type, labels } from the registry of a running app (default metrics included). */
let registry: Map<string, { type: string; labels: Set<string> }>;
beforeAll(async () => {
  handle = await testApp();
  registry = new Map();
  for (const m of await handle.metrics.registry.getMetricsAsJSON()) {
    const declared = (handle.metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    registry.set(m.name, { type: String(m.type), labels: new Set([...declared, ...m.values.flatMap((v) => Object.keys(v.labels))]) });
  }
  // Auth refusals live in their own registries (detailed or coarse, chosen per scrape: src/http/metrics.ts).
  const auth = handle.metrics.authFailures as unknown as { name: string; labelNames: string[] };
  registry.set(auth.name, { type: 'counter', labels: new Set(auth.labelNames) });
});
afterAll(() => handle.close());

/** Where a series name comes from: a histogram's _bucket/_sum/_count belong to the histogram. */
function lookup(series: string) {
  const direct = registry.get(series);
  if (direct) return { name: series, ...direct };
  const base = series.replace(/_(bucket|sum|count)$/, '');
  const histogram = registry.get(base);
  if (histogram && ['histogram', 'summary'].includes(histogram.type)) {
    return { name: base, type: histogram.type, labels: new Set([...histogram.labels, ...(series.endsWith('_bucket') ? ['le'] : [])]) };
  }
  return undefined;
}

describe('the registry', () => {
  test('every counter ends in _total, including the audit-dropped and write-failure totals', () => {
    const counters = [...registry].filter(([, m]) => m.type === 'counter').map(([n]) => n);
    for (const name of counters) expect(name).toMatch(/_total$/);
    expect(counters).toEqual(expect.arrayContaining(['ldn_cds_audit_dropped_total', 'ldn_cds_storage_write_failures_total']));
    expect(registry.has('ldn_cds_audit_dropped')).toBe(false);
  });

  test('default Node.js and process metrics carry no project prefix', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(registry.has(name), name).toBe(true);
    }
    expect([...registry.keys()].filter((n) => n.startsWith('ldn_cds_process_') || n.startsWith('ldn_cds_nodejs_'))).toEqual([]);
  });

  test('/metrics exposes the audit totals as counters', async () => {
    const text = (await request(handle.app).get('/metrics')).text;
    expect(text).toMatch(/^# TYPE ldn_cds_audit_dropped_total counter$/m);
    expect(text).toMatch(/^# TYPE ldn_cds_storage_write_failures_total counter$/m);
    expect(text).toMatch(/^ldn_cds_audit_dropped_total 0$/m);
  });
});

describe('counterFrom', () => {
  test('follows a running total kept elsewhere, never goes down, and insists on _total', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const totals = [0, 3, 3, 7, 2];
    let i = 0;
    counterFrom(metrics, 'test_things_total', 'things', () => totals[i]!);
    const seen: number[] = [];
    for (i = 0; i < totals.length; i++) seen.push((await metrics.registry.getSingleMetric('test_things_total')!.get()).values[0]!.value);
    expect(seen).toEqual([0, 3, 3, 7, 7]);
    expect(() => counterFrom(metrics, 'test_things', 'things', () => 0)).toThrow(/_total/);
  });
});

describe('deploy/ dashboard and alert rules', () => {
  test('the PromQL name extractor finds metrics and labels, not functions or keywords', () => {
    expect(promqlNames('histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{route="x",status=~"5.."}[5m]))) / on (job) b_total > 1').metrics).toEqual([
      { name: 'a_seconds_bucket', labels: ['route', 'status'] },
      { name: 'b_total', labels: [] },
    ]);
  });

  test('every metric and label they read exists in the registry the service exposes', () => {
    expect(expressions.length).toBeGreaterThan(15);
    for (const [where, expr] of expressions) {
      const { metrics } = promqlNames(expr);
      expect(metrics.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const { name, labels } of metrics) {
        if (SCRAPE_SERIES.has(name)) continue;
        const found = lookup(name);
        expect(found, `${where} names ${name}, which the service does not expose`).toBeDefined();
        for (const label of labels.filter((l) => !['job', 'instance'].includes(l))) {
          expect([...found!.labels], `${where}: ${name} has no label ${label}`).toContain(label);
        }
      }
    }
  });

  test('alerts cover error rate, p99, audit queue, auth failures and FHIR fetch failures, each documented', () => {
    const reads = (alert: string) => promqlNames(rules.find((r) => r.alert === alert)!.expr).metrics.map((m) => m.name);
    expect(reads('LdnCdsHighErrorRate')).toContain('ldn_cds_http_requests_total');
    expect(reads('LdnCdsSlowP99')).toContain('ldn_cds_http_request_duration_seconds_bucket');
    expect(reads('LdnCdsAuditQueueBacklog')).toContain('ldn_cds_audit_queue_depth');
    expect(reads('LdnCdsAuthFailures')).toContain('ldn_cds_auth_failures_total');
    expect(reads('LdnCdsFhirFetchFailures')).toContain('ldn_cds_fhir_requests_total');
    for (const r of rules) {
      expect(r.labels.severity, r.alert).toMatch(/^(page|warn)$/);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(10);
    }
  });

  test('the dashboard is a Grafana dashboard with a data source variable', () => {
    expect(dashboard).toMatchObject({ uid: 'ldn-cds', title: 'ldn-cds' });
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'job']));
  });
});
