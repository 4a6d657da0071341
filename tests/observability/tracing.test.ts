/**
 * Traces on an in-memory exporter: the SDK starts first (as src/server.ts does), the service is imported after it,
 * and a real order-select call over HTTP fetches its chart from a real (local) FHIR server. The EHR's traceparent
 * reaches the FHIR server; the pipeline's stages have spans in that trace; and no span name, attribute, event or
 * status holds the bearer token, the FHIR access token, the patient id or a card's text.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SpanKind, TraceFlags, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../src/observability/tracing.js';

const exporter = new InMemorySpanExporter();
const tracing: Tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// Imported after the SDK started, as src/server.ts does.
const { createApp } = await import('../../src/app.js');
const { PROJECT_ROOT, testConfig } = await import('../../src/config/index.js');

const PATIENT = 'pat-secret-4711';
const BEARER = 'eyJhbGciOiJFUzM4NCJ9.client-jwt-SECRET-do-not-trace.c2lnbmF0dXJl';
const ACCESS_TOKEN = 'fhir-access-token-SECRET-0042';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
/** The EHR's side of the call: its trace, continued over HTTP by a traceparent header (W3C trace context). */
const EHR_SPAN = { traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };

/** What the FHIR server received. */
const received: Array<{ url: string; traceparent?: string; authorization?: string }> = [];
let fhir: http.Server;
let service: http.Server;
let fhirBase = '';
let serviceBase = '';
let handle: Awaited<ReturnType<typeof createApp>>;
let answer: { cards: Array<{ summary: string; detail?: string }> };

const opioid = {
  resourceType: 'MedicationRequest',
  id: 'oxy-1',
  status: 'active',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT}` },
  authoredOn: '2026-11-01',
  medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7804', display: 'oxycodone' }], text: 'oxycodone 5 mg tablet' },
};

function fhirServer(): http.Server {
  return http.createServer((req, res) => {
    received.push({ url: req.url ?? '', traceparent: req.headers.traceparent as string | undefined, authorization: req.headers.authorization });
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/fhir+json');
    if (url.pathname.endsWith(`/Patient/${PATIENT}`)) return res.end(JSON.stringify({ resourceType: 'Patient', id: PATIENT }));
    const entries = url.pathname.endsWith('/MedicationRequest') ? [{ resource: opioid }] : [];
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries }));
  });
}

const listen = (s: http.Server) => new Promise<string>((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

beforeAll(async () => {
  fhir = fhirServer();
  fhirBase = `${await listen(fhir)}/fhir`;
  handle = await createApp(testConfig({ FHIR_SERVER_ALLOWLIST: fhirBase }));
  service = http.createServer(handle.app);
  serviceBase = await listen(service);

  const request = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json'), 'utf8').replaceAll('ldn-demo-1', PATIENT));
  delete request.prefetch;
  request.fhirServer = fhirBase;
  request.fhirAuthorization = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'ldn-cds' };
  // The test's fetch is instrumented too: inside the EHR's span it sends `traceparent: 00-<TRACE_ID>-…`.
  const res = await context.with(trace.setSpanContext(context.active(), EHR_SPAN), () =>
    fetch(`${serviceBase}/cds-services/ldn-order-select`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BEARER}` },
      body: JSON.stringify(request),
    }),
  );
  expect(res.status).toBe(200);
  answer = (await res.json()) as typeof answer;
  await handle.close(); // flushes the audit queue: its write has a span too
});

afterAll(async () => {
  await tracing.shutdown();
  service?.close();
  fhir?.close();
});

/** The service's spans: not those of the stand-in FHIR server, which this process also runs (instrumented). */
const spans = (): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((s) => !(s.kind === SpanKind.SERVER && `http://127.0.0.1:${s.attributes['server.port']}/fhir` === fhirBase));
const callSpans = () => spans().filter((s) => s.spanContext().traceId === TRACE_ID);

describe('traces of a hook call', () => {
  test('the call did reach the FHIR server with the patient id and the access token, and answered cards', () => {
    expect(received.length).toBeGreaterThan(0);
    expect(received.some((r) => r.url.includes(PATIENT))).toBe(true);
    expect(received.every((r) => r.authorization === `Bearer ${ACCESS_TOKEN}`)).toBe(true);
    expect(answer.cards.length).toBeGreaterThan(0);
  });

  test('the EHR\'s traceparent continues into every FHIR fetch', () => {
    for (const r of received) {
      expect(r.traceparent, r.url).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    }
  });

  test('gather, extract, rules and render have spans in the call\'s trace, and the audit write has one', () => {
    const server = callSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === '/cds-services/ldn-order-select');
    expect(server, 'the service continued the EHR\'s trace').toBeDefined();
    const names = callSpans().map((s) => s.name);
    for (const stage of ['ldn-cds.gather', 'ldn-cds.extract', 'ldn-cds.rules', 'ldn-cds.render']) expect(names).toContain(stage);
    expect(spans().map((s) => s.name)).toContain('ldn-cds.storage.audit');
    const gather = callSpans().find((s) => s.name === 'ldn-cds.gather')!;
    expect(gather.attributes).toMatchObject({ 'ldn_cds.service': 'ldn-order-select', 'ldn_cds.hook': 'order-select' });
    // The FHIR fetches are client spans under the call (undici instrumentation), their URLs cut to the resource type.
    const clientUrls = callSpans().map((s) => s.attributes['url.full']).filter((u): u is string => typeof u === 'string' && u.startsWith(fhirBase));
    expect(clientUrls.length).toBeGreaterThan(0);
    expect(clientUrls).toContain(`${fhirBase}/Patient/{id}`);
  });

  test('no span holds the client JWT, the FHIR access token, the patient id or card text', () => {
    const secrets = [BEARER, 'client-jwt-SECRET', ACCESS_TOKEN, PATIENT, ...answer.cards.flatMap((c) => [c.summary, c.detail ?? '']).filter((t) => t.length > 20)];
    expect(spans().length).toBeGreaterThan(5);
    for (const span of spans()) {
      const text = JSON.stringify({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
        resource: span.resource.attributes,
      });
      for (const secret of secrets) expect(text, `${span.name} holds "${secret.slice(0, 40)}"`).not.toContain(secret);
    }
  });
});
