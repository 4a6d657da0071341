/**
 * Client JWT: what must be accepted (ES384, RS384, aud array, each endpoint kind, tolerated skew),
 * and the key URL behaviour: rotation picked up from a jwks_url, rate-limited refetches, allow-listed
 * jku fetched, redirects never followed.
 */
import nock from 'nock';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuth, type AuthService } from '../../src/auth/index.js';
import { testConfig, type Config } from '../../src/config/index.js';
import {
  captureLogs,
  createAuthTestApp,
  generateTestKey,
  jwksOf,
  signToken,
  unauthorizedBody,
  validClaims,
  writeTrustedClients,
  type LogCapture,
  type TestKey,
} from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const PREFIXED_BASE = 'https://cds-internal.example.org/prefix';
const KEY_HOST = 'https://keys.ehr-a.test';
const ISS_REMOTE = 'https://ehr-a.example.org';
const ISS_RSA = 'https://ehr-rsa.example.org';
const SERVICE = '/cds-services/ldn-patient-view';
const START_MS = Date.UTC(2031, 5, 1, 8, 0, 0);

let keyA: TestKey;
let keyRsa: TestKey;
let config: Config;
let clock: number;
let logs: LogCapture;
let auth: AuthService;
let app: ReturnType<typeof createAuthTestApp>;

beforeAll(async () => {
  keyA = await generateTestKey('ES384', 'a-1');
  keyRsa = await generateTestKey('RS384', 'rsa-1');
  const file = await writeTrustedClients([
    { iss: ISS_REMOTE, jwks_url: `${KEY_HOST}/jwks.json`, jku_allow: [`${KEY_HOST}/jwks.json`, `${KEY_HOST}/next/jwks.json`] },
    { iss: ISS_RSA, jwks: jwksOf(keyRsa) },
  ]);
  config = testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: `${BASE},${PREFIXED_BASE}` });
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

beforeEach(async () => {
  nock.cleanAll();
  clock = START_MS;
  logs = captureLogs();
  auth = await createAuth(config, { logger: logs.logger, now: () => clock });
  app = createAuthTestApp(auth);
});

afterEach(async () => {
  await auth.close();
});

function claims(iss: string, path: string, extra: Record<string, unknown> = {}, base = BASE): Record<string, unknown> {
  return { ...validClaims({ iss, aud: `${base}${path}`, nowMs: clock }), ...extra };
}

describe('accepted tokens', () => {
  it('accepts ES384 from a jwks_url client and exposes the client on res.locals', async () => {
    const scope = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA));
    const c = claims(ISS_REMOTE, SERVICE);
    const res = await request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(keyA, c)}`).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, client: { iss: ISS_REMOTE, jti: c.jti } });
    expect(scope.isDone()).toBe(true);
  });

  it('accepts RS384 from an inline-key client, without any network request', async () => {
    const res = await request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(keyRsa, claims(ISS_RSA, SERVICE))}`).send({});
    expect(res.status).toBe(200);
    expect(res.body.client.iss).toBe(ISS_RSA);
  });

  it('accepts aud as a one-element array and as an array holding our URL among others', async () => {
    for (const aud of [[`${BASE}${SERVICE}`], ['https://elsewhere.example.org/x', `${BASE}${SERVICE}`]]) {
      const token = await signToken(keyRsa, claims(ISS_RSA, SERVICE, { aud }));
      expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${token}`).send({})).status).toBe(200);
    }
  });

  it('accepts the aud of each endpoint kind on that endpoint: discovery, service, feedback', async () => {
    const discovery = await signToken(keyRsa, claims(ISS_RSA, '/cds-services'));
    expect((await request(app).get('/cds-services').set('Authorization', `Bearer ${discovery}`)).status).toBe(200);
    const feedback = await signToken(keyRsa, claims(ISS_RSA, `${SERVICE}/feedback`));
    expect((await request(app).post(`${SERVICE}/feedback`).set('Authorization', `Bearer ${feedback}`).send({})).status).toBe(200);
  });

  it('accepts any configured public base URL (here one with a path prefix)', async () => {
    const token = await signToken(keyRsa, claims(ISS_RSA, SERVICE, {}, PREFIXED_BASE));
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${token}`).send({})).status).toBe(200);
  });

  it('ignores the query string when computing the audience', async () => {
    const token = await signToken(keyRsa, claims(ISS_RSA, SERVICE));
    expect((await request(app).post(`${SERVICE}?trace=1`).set('Authorization', `Bearer ${token}`).send({})).status).toBe(200);
  });

  it('accepts typ "jwt" in lower case and a lower-case "bearer" scheme', async () => {
    const token = await signToken(keyRsa, claims(ISS_RSA, SERVICE), { typ: 'jwt' });
    expect((await request(app).post(SERVICE).set('Authorization', `bearer ${token}`).send({})).status).toBe(200);
  });

  it('tolerates the configured clock skew on exp and iat (and no more)', async () => {
    const nowS = clock / 1000;
    const skew = config.jwtClockSkewS;
    const justExpired = await signToken(keyRsa, claims(ISS_RSA, SERVICE, { iat: nowS - 300, exp: nowS - skew + 1 }));
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${justExpired}`).send({})).status).toBe(200);
    const slightlyAhead = await signToken(keyRsa, claims(ISS_RSA, SERVICE, { iat: nowS + skew, exp: nowS + skew + 300 }));
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${slightlyAhead}`).send({})).status).toBe(200);
    const tooFarAhead = await signToken(keyRsa, claims(ISS_RSA, SERVICE, { iat: nowS + skew + 1, exp: nowS + skew + 300 }));
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${tooFarAhead}`).send({})).status).toBe(401);
  });

  it('lets OPTIONS preflights through without a token on all three routes', async () => {
    for (const path of ['/cds-services', SERVICE, `${SERVICE}/feedback`]) {
      const res = await request(app)
        .options(path)
        .set('Origin', 'http://127.0.0.1:8080')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect(res.status).toBe(204);
    }
    expect(logs.refusalReasons()).toEqual([]);
  });
});

describe('key URLs', () => {
  it('picks up a rotated key: refetches the jwks_url on an unknown kid (at most once per 30 s)', async () => {
    const rotated = await generateTestKey('ES384', 'a-2');
    const first = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA));
    const second = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA, rotated));
    const send = async (key: TestKey) =>
      request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(key, claims(ISS_REMOTE, SERVICE))}`).send({});

    expect((await send(keyA)).status).toBe(200);
    expect(first.isDone()).toBe(true);

    clock += 5_000; // too soon after the last fetch: the unknown kid is refused without a fetch
    expect((await send(rotated)).status).toBe(401);
    expect(second.isDone()).toBe(false);
    expect(logs.refusalReasons()).toEqual(['unknown-kid']);

    clock += 30_000;
    expect((await send(rotated)).status).toBe(200);
    expect(second.isDone()).toBe(true);
    expect((await send(keyA)).status).toBe(200); // the old key still verifies from the refreshed set
  });

  it('fetches an allow-listed jku URL (normalised) instead of the jwks_url', async () => {
    const next = await generateTestKey('ES384', 'a-next');
    const jwksUrl = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA));
    const jkuUrl = nock(KEY_HOST).get('/next/jwks.json').reply(200, jwksOf(next));
    const token = await signToken(next, claims(ISS_REMOTE, SERVICE), { jku: 'HTTPS://KEYS.EHR-A.TEST:443/next/./jwks.json' });
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${token}`).send({})).status).toBe(200);
    expect(jkuUrl.isDone()).toBe(true);
    expect(jwksUrl.isDone()).toBe(false);
  });

  it('never follows a redirect from a key URL', async () => {
    const redirect = nock(KEY_HOST).get('/jwks.json').reply(302, '', { Location: 'https://elsewhere.test/jwks.json' });
    const target = nock('https://elsewhere.test').get('/jwks.json').reply(200, jwksOf(keyA));
    const res = await request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(keyA, claims(ISS_REMOTE, SERVICE))}`).send({});
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorizedBody());
    expect(redirect.isDone()).toBe(true);
    expect(target.isDone()).toBe(false);
    expect(logs.refusalReasons()).toEqual(['jwks-unavailable']);
  });

  it('does not hammer a failing key URL: one attempt per 30 s', async () => {
    const failing = nock(KEY_HOST).get('/jwks.json').reply(500);
    const retry = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA));
    const send = async () =>
      request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(keyA, claims(ISS_REMOTE, SERVICE))}`).send({});
    expect((await send()).status).toBe(401);
    expect(failing.isDone()).toBe(true);
    clock += 10_000;
    expect((await send()).status).toBe(401);
    expect(retry.isDone()).toBe(false);
    clock += 25_000;
    expect((await send()).status).toBe(200);
    expect(retry.isDone()).toBe(true);
    expect(logs.refusalReasons()).toEqual(['jwks-unavailable', 'jwks-unavailable']);
  });

  it('drops unusable keys from a fetched set (private, symmetric) and still verifies with the good one', async () => {
    const set = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'a-1' }, { ...keyA.publicJwk, kid: 'a-1', d: 'private' }, keyA.publicJwk] };
    nock(KEY_HOST).get('/jwks.json').reply(200, set);
    const res = await request(app).post(SERVICE).set('Authorization', `Bearer ${await signToken(keyA, claims(ISS_REMOTE, SERVICE))}`).send({});
    expect(res.status).toBe(200);
  });
});
