/** CORS (test case 17): preflights answered without auth; Allow-Origin on every answer, errors included. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import type { AppHandle } from '../../src/app.js';
import { orderSelect, testApp } from '../helpers/app.js';

describe('CORS', () => {
  let h: AppHandle;
  let required: AppHandle;
  beforeAll(async () => {
    h = await testApp();
    // Auth required and no trusted client: every real call is 401, preflights must still pass.
    required = await testApp({ AUTH_MODE: 'required' });
  });
  afterAll(async () => {
    await h.close();
    await required.close();
  });

  test.each(['/cds-services', '/cds-services/ldn-order-check', '/cds-services/ldn-order-check/feedback'])(
    'answers the preflight for %s with 204 and the allow headers, without auth',
    async (path) => {
      const res = await request(required.app)
        .options(path)
        .set('Origin', 'http://127.0.0.1:8080')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
      expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/i);
      expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/i);
    },
  );

  test('puts Access-Control-Allow-Origin on 200, 400, 401, 404 and 412 answers', async () => {
    const origin = { Origin: 'http://127.0.0.1:8080' };
    const ok = await request(h.app).post('/cds-services/ldn-order-check').set(origin).send(orderSelect()).expect(200);
    const bad = await request(h.app).post('/cds-services/ldn-order-check').set(origin).send({}).expect(400);
    const unauth = await request(required.app).get('/cds-services').set(origin).expect(401);
    const missing = await request(h.app).post('/cds-services/nope').set(origin).send(orderSelect()).expect(404);
    const body = orderSelect();
    delete (body.prefetch as Record<string, unknown>).medications;
    const pre = await request(h.app).post('/cds-services/ldn-order-check').set(origin).send(body).expect(412);
    for (const res of [ok, bad, unauth, missing, pre]) expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  test('with CORS_ORIGINS set, echoes an allowed origin and omits the header for others', async () => {
    const listed = await testApp({ CORS_ORIGINS: 'https://ehr.example.org, http://127.0.0.1:8080' });
    const yes = await request(listed.app).get('/cds-services').set('Origin', 'https://ehr.example.org').expect(200);
    expect(yes.headers['access-control-allow-origin']).toBe('https://ehr.example.org');
    expect(yes.headers.vary).toMatch(/Origin/);
    const no = await request(listed.app).get('/cds-services').set('Origin', 'https://evil.example.com').expect(200);
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
    await listed.close();
  });
});
