/**
 * Replays of real CDS Hooks Sandbox requests (../shared/sandbox-captures), against the real knowledge pack.
 * The captures were made against a stub whose ids were ldn-patient-view / ldn-order-select / ldn-order-sign
 * and whose prefetch lacked our `medicationRequests` key, so replays target our service for the same hook and:
 *  - as captured, with no FHIR access: 412 naming `medicationRequests` (documented in README "Sandbox");
 *  - with the sandbox set-up (FHIR_UNAUTHENTICATED_FETCH, 127.0.0.1:8090 allow-listed, the fixture served by a
 *    mock FHIR server): 200, and the paged prefetch (07) is completed from the server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import type { Bundle, Resource } from 'fhir/r4.js';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { CdsResponseSchema, DiscoverySchema } from '../../src/cards/schema.js';
import { hasShared, loadCaptures, readShared } from '../helpers/shared.js';

const SERVICE_FOR_HOOK: Record<string, string> = { 'patient-view': 'ldn-patient-view', 'order-select': 'ldn-order-check', 'order-sign': 'ldn-order-check' };
const captures = loadCaptures();
const hookCalls = captures.filter((c) => c.method === 'POST' && !c.path.endsWith('/feedback'));
const fixture = hasShared ? (JSON.parse(readShared('sandbox-captures/fhir-fixture-ldn-demo-1.json')) as Bundle) : undefined;
const fixtureOf = (type: string): Resource[] => (fixture?.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === type);
const NOW = () => new Date('2026-11-21T04:32:00Z');

describe.skipIf(!hasShared)('CDS Hooks Sandbox captures', () => {
  let plain: AppHandle;
  let sandbox: AppHandle;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1:(?!8090)|localhost/);
    plain = await createApp(testConfig(), { now: NOW });
    sandbox = await createApp(testConfig({ FHIR_UNAUTHENTICATED_FETCH: 'true', FHIR_SERVER_ALLOWLIST: 'http://127.0.0.1:8090/fhir' }), { now: NOW });
  });
  afterAll(async () => {
    await plain.close();
    await sandbox.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });
  beforeEach(() => nock.cleanAll());

  test('there are captures to replay', () => {
    expect(hookCalls.length).toBeGreaterThanOrEqual(8);
  });

  test('our discovery passes the checks the sandbox applies (a non-empty services list)', async () => {
    const res = await request(plain.app).get('/cds-services').set('accept', 'application/json').expect(200);
    expect(DiscoverySchema.safeParse(res.body).success).toBe(true);
    expect(res.body.services.length).toBeGreaterThan(0);
    for (const hook of ['patient-view', 'order-select', 'order-sign']) expect(res.body.services.some((s: { hook: string }) => s.hook === hook)).toBe(true);
  });

  test.each(captures.filter((c) => c.method === 'OPTIONS').map((c) => [c.file, c] as const))('%s: the preflight is answered with CORS headers', async (_f, c) => {
    const res = await request(plain.app)
      .options(c.path)
      .set('origin', c.headers.origin!)
      .set('access-control-request-method', c.headers['access-control-request-method']!)
      .set('access-control-request-headers', c.headers['access-control-request-headers']!)
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBeDefined();
  });

  test.each(hookCalls.map((c) => [c.file, c] as const))('%s as captured, without FHIR access: 412 naming medicationRequests', async (_f, c) => {
    const res = await request(plain.app).post(`/cds-services/${SERVICE_FOR_HOOK[c.body!.hook as string]}`).send(c.body!).expect(412);
    expect(JSON.stringify(res.body)).toMatch(/medicationRequests/);
  });

  test.each(hookCalls.map((c) => [c.file, c] as const))('%s with the sandbox set-up: 200 and spec-valid cards', async (_f, c) => {
    const server = nock('http://127.0.0.1:8090', { badheaders: ['authorization'] });
    server.get('/fhir/MedicationRequest').query({ patient: 'ldn-demo-1' }).reply(200, { resourceType: 'Bundle', type: 'searchset', entry: fixtureOf('MedicationRequest').map((resource) => ({ resource })) });
    const next = ((c.body!.prefetch as Record<string, Bundle>).medications?.link ?? []).find((l) => l.relation === 'next');
    if (next) {
      const statements = fixtureOf('MedicationStatement');
      server.get('/fhir/MedicationStatement').query(true).reply(200, { resourceType: 'Bundle', type: 'searchset', entry: statements.slice(1).map((resource) => ({ resource })) });
    }
    const res = await request(sandbox.app).post(`/cds-services/${SERVICE_FOR_HOOK[c.body!.hook as string]}`).send(c.body!).expect(200);
    const parsed = CdsResponseSchema.safeParse(res.body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(server.isDone(), 'every page the sandbox did not follow was fetched').toBe(true);
  });
});
