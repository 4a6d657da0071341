/**
 * Suites that call the app with a mocked FHIR server (nock): no real network but loopback, every mock must be
 * used, and the hook requests posted to the service of their hook.
 */
import nock from 'nock';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { AppHandle } from '../../src/app.js';
import { FHIR_TOKEN } from './app.js';

/** The mocked FHIR server of `FHIR`, answering only calls that carry withFhir's bearer token. */
export const fhirMock = (token = FHIR_TOKEN) => nock('https://fhir.example.org', { reqheaders: { authorization: `Bearer ${token}` } });

/** Register the nock guards of a suite: network off (loopback aside), mocks reset per test, every mock used. */
export function guardFhirMocks(): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(() => nock.cleanAll());
  afterEach(() => {
    expect(nock.pendingMocks(), 'every mocked FHIR call was made').toEqual([]);
    nock.cleanAll();
  });
}

/** POST a hook request to the service of its hook (order hooks through their former shared id, ldn-order-check). */
export const postHook = (app: AppHandle, body: unknown) =>
  request(app.app).post(`/cds-services/${(body as { hook: string }).hook === 'patient-view' ? 'ldn-patient-view' : 'ldn-order-check'}`).send(body as object);

/** The request without these prefetch keys (so they must be fetched). */
export function withoutPrefetch(req: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const prefetch = { ...(req.prefetch as Record<string, unknown>) };
  for (const k of keys) delete prefetch[k];
  return { ...req, prefetch };
}
