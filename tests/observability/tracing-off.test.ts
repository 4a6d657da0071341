/**
 * Tracing off (no SDK started in this process): which variables turn it on, the URL redaction the client spans
 * use, and stageSpan as a transparent pass-through (values, promises and errors go through unchanged).
 */
import { describe, expect, test } from 'vitest';
import { trace } from '@opentelemetry/api';
import { redactUrl, stageSpan, tracingRequested } from '../../src/observability/tracing.js';

describe('tracingRequested', () => {
  test.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_SERVICE_NAME: 'ldn-cds' }, false],
  ])('%j → %s', (env, on) => {
    expect(tracingRequested(env)).toBe(on);
  });
});

describe('redactUrl', () => {
  test.each([
    ['https://fhir.example.org/r4/Patient/pat-123', 'https://fhir.example.org/r4/Patient/{id}'],
    ['https://fhir.example.org/r4/MedicationRequest?patient=pat-123&status=active', 'https://fhir.example.org/r4/MedicationRequest?{query}'],
    ['https://fhir.example.org/r4/Medication/med-9/_history/2', 'https://fhir.example.org/r4/Medication/{id}/_history/2'],
    ['https://fhir.example.org/r4/MedicationRequest/_search', 'https://fhir.example.org/r4/MedicationRequest/_search'],
    ['https://fhir.example.org/r4?_getpages=abc&_getpagesoffset=50', 'https://fhir.example.org/r4?{query}'],
    ['not a url', '{unparsable url}'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('stageSpan with no SDK', () => {
  test('no tracer provider is registered: spans are non-recording', () => {
    stageSpan('test', {}, (span) => expect(span.isRecording()).toBe(false));
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  test('returns what the function returns, sync or async, and rethrows its errors', async () => {
    expect(stageSpan('test', {}, () => 42)).toBe(42);
    await expect(stageSpan('test', {}, async () => 'later')).resolves.toBe('later');
    const boom = new TypeError('boom');
    expect(() => stageSpan('test', {}, () => {
      throw boom;
    })).toThrow(boom);
    await expect(stageSpan('test', {}, async () => {
      throw boom;
    })).rejects.toBe(boom);
  });
});
