import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import { gzipSync } from 'node:zlib';
import type { OperationOutcome } from 'fhir/r4.js';
import type { AppHandle } from '../../src/app.js';
import { orderSelect, testApp, withFhir, patientView } from '../helpers/app.js';

function expressions(body: OperationOutcome): string[] {
  return body.issue.flatMap((i) => i.expression ?? []);
}

describe('POST /cds-services/{id}: request validation (spec §2, test case 13)', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(() => h.close());
  const post = (body: unknown, id = 'ldn-order-check') => request(h.app).post(`/cds-services/${id}`).send(body as object);

  test.each(['hook', 'hookInstance', 'context'])('answers 400 naming "%s" when it is missing', async (field) => {
    const body = orderSelect();
    delete body[field];
    const res = await post(body).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(expressions(res.body)).toContain(field);
  });

  test('lists every problem at once, each by JSON path', async () => {
    const res = await post({ hook: 'order-select', context: { patientId: '' } }).expect(400);
    const paths = expressions(res.body);
    expect(paths).toEqual(expect.arrayContaining(['hookInstance', 'context.userId', 'context.patientId', 'context.draftOrders', 'context.selections']));
  });

  test('answers 400 when fhirAuthorization comes without fhirServer', async () => {
    const body = withFhir(orderSelect());
    delete body.fhirServer;
    const res = await post(body).expect(400);
    expect(expressions(res.body)).toContain('fhirServer');
  });

  test.each(['access_token', 'token_type', 'expires_in', 'scope', 'subject'])('answers 400 when fhirAuthorization.%s is missing', async (field) => {
    const body = withFhir(orderSelect());
    delete (body.fhirAuthorization as Record<string, unknown>)[field];
    const res = await post(body).expect(400);
    expect(expressions(res.body)).toContain(`fhirAuthorization.${field}`);
  });

  test('never echoes the access token in a validation error', async () => {
    const body = withFhir(orderSelect(), 'tok-DO-NOT-ECHO');
    (body.fhirAuthorization as Record<string, unknown>).expires_in = 'soon';
    const res = await post(body).expect(400);
    expect(JSON.stringify(res.body)).not.toContain('tok-DO-NOT-ECHO');
  });

  test('answers 404 with an OperationOutcome for an unknown service id', async () => {
    const res = await post(orderSelect(), 'no-such-service').expect(404);
    expect(res.body.issue[0].code).toBe('not-found');
  });

  test('answers 400 when the service id does not serve the hook', async () => {
    const res = await post(patientView(), 'ldn-order-check').expect(400);
    expect(res.body.issue[0].details.text).toMatch(/does not serve hook "patient-view"/);
  });

  test('answers 415 for a body that is not JSON', async () => {
    const res = await request(h.app).post('/cds-services/ldn-order-check').set('content-type', 'text/plain').send('hook=order-select').expect(415);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('answers 400 for malformed JSON', async () => {
    const res = await request(h.app).post('/cds-services/ldn-order-check').set('content-type', 'application/json').send('{"hook": ').expect(400);
    expect(res.body.issue[0].details.text).toMatch(/not valid JSON/);
  });

  test('answers 413 over the body limit', async () => {
    const small = await testApp({ BODY_LIMIT: '2kb' });
    const body = orderSelect({ padding: 'x'.repeat(4096) });
    const res = await request(small.app).post('/cds-services/ldn-order-check').send(body).expect(413);
    expect(res.body.issue[0].code).toBe('too-long');
    await small.close();
  });

  test('answers 400 for a body nested deeper than the limit', async () => {
    let deep: unknown = {};
    for (let i = 0; i < 100; i++) deep = { a: deep };
    const res = await post(orderSelect({ extension: { deep } })).expect(400);
    expect(res.body.issue[0].details.text).toMatch(/nested deeper/);
  });

  test('answers 400 for a prefetch that is not JSON, every time (a bad prefetch is never remembered)', async () => {
    const text = JSON.stringify(orderSelect()).replace('"prefetch":{', '"prefetch":{"broken": tru,');
    for (let i = 0; i < 2; i++) {
      const res = await request(h.app).post('/cds-services/ldn-order-check').set('content-type', 'application/json').send(text).expect(400);
      expect(res.body.issue[0].details.text).toMatch(/not valid JSON/);
    }
  });

  test.each([
    ['null', null],
    ['an array', [{ resourceType: 'Patient', id: 'p1' }]],
    ['a string', 'patient'],
  ])('answers 400 naming prefetch when it is %s, not an object', async (_name, value) => {
    const res = await post(orderSelect({ prefetch: value })).expect(400);
    expect(expressions(res.body)).toContain('prefetch');
  });

  test('answers 400 for a prefetch nested deeper than the limit', async () => {
    let deep: unknown = {};
    for (let i = 0; i < 100; i++) deep = [deep];
    const body = orderSelect();
    (body.prefetch as Record<string, unknown>).extra = deep;
    const res = await post(body).expect(400);
    expect(res.body.issue[0].details.text).toMatch(/nested deeper/);
  });

  test('answers 415 for a charset other than UTF-8, and accepts UTF-8 named either way', async () => {
    const text = JSON.stringify(orderSelect());
    const send = (type: string) => request(h.app).post('/cds-services/ldn-order-check').set('content-type', type).send(text);
    const res = await send('application/json; charset=utf-16').expect(415);
    expect(res.body.issue[0].details.text).toMatch(/UTF-8/);
    await send('application/json; charset=UTF-8').expect(200);
    await send('application/json;charset="utf8"').expect(200);
    await send('application/fhir+json').expect(200);
  });

  test('accepts a UTF-8 byte-order mark and a gzip-encoded body', async () => {
    const text = JSON.stringify(orderSelect());
    const raw = (bytes: Buffer, encoding?: string) => {
      const r = request(h.app).post('/cds-services/ldn-order-check').set('content-type', 'application/json');
      if (encoding) r.set('content-encoding', encoding);
      return r.serialize((b: unknown) => b as string).send(bytes as unknown as string); // the bytes as they are
    };
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const a = await raw(bom).expect(200);
    expect(a.body.cards[0].summary).toBe('1 medications, 1 conditions');
    const b = await raw(gzipSync(text), 'gzip').expect(200);
    expect(b.body.cards[0].summary).toBe('1 medications, 1 conditions');
    const c = await raw(Buffer.from('this is not gzip'), 'gzip').expect(400);
    expect(c.body.issue[0].details.text).toMatch(/could not be read/);
  });

  test('answers 400 when the body is a JSON array', async () => {
    await post([orderSelect()]).expect(400);
  });

  test('answers 400 for a userId that is not "[ResourceType]/[id]"', async () => {
    const body = orderSelect();
    (body.context as Record<string, unknown>).userId = 'Device/1';
    const res = await post(body).expect(400);
    expect(expressions(res.body)).toContain('context.userId');
  });
});

describe('tolerance of real-world clients (test case 20)', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(() => h.close());

  test('accepts and ignores unknown top-level fields and an extension object', async () => {
    const res = await request(h.app)
      .post('/cds-services/ldn-order-check')
      .send(orderSelect({ extension: { 'org.example.flag': { on: true } }, somethingNew: 1 }))
      .expect(200);
    expect(Array.isArray(res.body.cards)).toBe(true);
  });

  test('accepts draft orders the sandbox sends: Bundle without type, no intent, no medication, unknown resource types', async () => {
    const body = orderSelect();
    (body.context as Record<string, unknown>).draftOrders = {
      resourceType: 'Bundle',
      entry: [
        { resource: { resourceType: 'MedicationRequest', id: 'draft-1', status: 'draft', subject: { reference: 'Patient/p1' } } },
        { resource: { resourceType: 'NutritionOrder', id: 'n1', status: 'draft' } },
        { resource: { resourceType: 'MedicationOrder', id: 'dstu2', status: 'draft' } },
        {},
      ],
    };
    await request(h.app).post('/cds-services/ldn-order-check').send(body).expect(200);
  });
});
