/**
 * Replays of real CDS Hooks Sandbox requests (../shared/sandbox-captures), against the real knowledge pack.
 * Services are found the way the sandbox finds them: discovery is read into a Map keyed by discovery URL + id
 * (a later entry with the same id replaces an earlier one), and a hook is sent to the entry whose `hook` matches.
 * So two discovery entries sharing an id (one hook would never be called) fail here.
 * The captures' prefetch lacked our `medicationRequests` key, so replays to our service for the same hook:
 *  - as captured, with no FHIR access: 412 naming `medicationRequests` (documented in README "Sandbox");
 *  - with the sandbox set-up (FHIR_UNAUTHENTICATED_FETCH, 127.0.0.1:8090 allow-listed, the fixture served by a
 *    mock FHIR server): 200, and the paged prefetch (07) is completed from the server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import type { Bundle, Resource } from 'fhir/r4.js';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { CdsResponseSchema, DiscoverySchema } from '../../src/cards/schema.js';
import { hasShared, loadCaptures, readShared } from '../helpers/shared.js';

interface Entry { id: string; hook: string; prefetch?: Record<string, string> }
const DISCOVERY_URL = 'http://127.0.0.1:3001/cds-services';

/** The sandbox's view of a discovery answer: one entry per discovery URL + id, the last one winning. */
function sandboxServices(discoveryUrl: string, services: Entry[]): Map<string, Entry> {
  const byKey = new Map<string, Entry>();
  for (const s of services) byKey.set(`${discoveryUrl}/${s.id}`, s);
  return byKey;
}
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

  let services: Map<string, Entry>;
  beforeAll(async () => {
    const res = await request(plain.app).get('/cds-services').set('accept', 'application/json').expect(200);
    expect(DiscoverySchema.safeParse(res.body).success).toBe(true);
    services = sandboxServices(DISCOVERY_URL, res.body.services as Entry[]);
    expect(services.size, 'two discovery entries share an id: the sandbox keeps only the last').toBe(res.body.services.length);
  });
  /** The service the sandbox calls for a hook: the Map entry whose hook matches (exactly one). */
  const serviceFor = (hook: string): Entry => {
    const matching = [...services.values()].filter((s) => s.hook === hook);
    expect(matching, `services the sandbox would call for ${hook}`).toHaveLength(1);
    return matching[0]!;
  };

  test('our discovery passes the checks the sandbox applies, and every hook it fires has a service left in its Map', () => {
    expect(services.size).toBeGreaterThan(0);
    for (const hook of ['patient-view', 'order-select', 'order-sign']) expect(serviceFor(hook).hook).toBe(hook);
  });

  test('the Map keyed by id loses a hook when two entries share an id (the defect this guards against)', () => {
    const shared = sandboxServices(DISCOVERY_URL, [{ id: 'ldn-order-check', hook: 'order-select' }, { id: 'ldn-order-check', hook: 'order-sign' }]);
    expect([...shared.values()].map((s) => s.hook)).toEqual(['order-sign']);
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
    const res = await request(plain.app).post(`/cds-services/${serviceFor(c.body!.hook as string).id}`).send(c.body!).expect(412);
    expect(JSON.stringify(res.body)).toMatch(/medicationRequests/);
  });

  test.each(hookCalls.map((c) => [c.file, c] as const))('%s with the sandbox set-up: 200 and spec-valid cards', async (_f, c) => {
    const service = serviceFor(c.body!.hook as string);
    const server = nock('http://127.0.0.1:8090', { badheaders: ['authorization'] });
    // The service renders its own template for the key the sandbox did not send (status-narrowed).
    const [type, query] = service.prefetch!.medicationRequests!.replace('{{context.patientId}}', 'ldn-demo-1').split('?') as [string, string];
    server.get(`/fhir/${type}`).query(Object.fromEntries(new URLSearchParams(query))).reply(200, { resourceType: 'Bundle', type: 'searchset', entry: fixtureOf('MedicationRequest').map((resource) => ({ resource })) });
    const next = ((c.body!.prefetch as Record<string, Bundle>).medications?.link ?? []).find((l) => l.relation === 'next');
    if (next) {
      const statements = fixtureOf('MedicationStatement');
      server.get('/fhir/MedicationStatement').query(true).reply(200, { resourceType: 'Bundle', type: 'searchset', entry: statements.slice(1).map((resource) => ({ resource })) });
    }
    const res = await request(sandbox.app).post(`/cds-services/${service.id}`).send(c.body!).expect(200);
    const parsed = CdsResponseSchema.safeParse(res.body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(server.isDone(), 'every page the sandbox did not follow was fetched').toBe(true);
  });
});
