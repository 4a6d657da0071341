/**
 * /metrics is not an oracle (issue 12 §5): every refused JWT gets the same 401, and an unauthenticated /metrics
 * must not tell them apart either. Open (the development default) it counts refusals in coarse classes only;
 * behind METRICS_TOKEN, or on the internal METRICS_PORT listener, it has the detailed reasons; in production it
 * is never open on the public port.
 */
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppHandle } from '../../src/app.js';
import { loadConfig, testConfig } from '../../src/config/index.js';
import { authFailureClass } from '../../src/observability/metrics.js';
import { testKnowledge } from '../helpers/app.js';
import { captureLogs, generateTestKey, jwksOf, signToken, validClaims, writeTrustedClients, type TestKey } from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const DISCOVERY = '/cds-services';
const NOW_MS = Date.UTC(2031, 8, 9, 9, 0, 0);
const TOKEN = 'metrics-scrape-token-0123456789';

let trusted: TestKey;
let stranger: TestKey;
let clientsFile: string;

beforeAll(async () => {
  trusted = await generateTestKey('ES384', 'trusted-kid');
  stranger = await generateTestKey('ES384', 'unknown-kid-x');
  clientsFile = await writeTrustedClients([{ iss: ISS, jwks: jwksOf(trusted) }]);
});

async function app(env: NodeJS.ProcessEnv, production = false): Promise<AppHandle> {
  const base = { AUTH_MODE: 'required', TRUSTED_CLIENTS: clientsFile, PUBLIC_BASE_URL: BASE, SQLITE_PATH: ':memory:', LOG_LEVEL: 'silent', ...env };
  const config = production ? loadConfig({ NODE_ENV: 'production', PATIENT_ID_HASH_KEY: 'test-only-hash-key-of-at-least-32-characters', ...base }) : testConfig(base);
  return createApp(config, { knowledge: testKnowledge(), logger: captureLogs().logger, authNow: () => NOW_MS });
}

/** One refusal for an unknown issuer and one for an unknown kid of a trusted issuer: same 401 body. */
async function probe(h: AppHandle): Promise<void> {
  const claims = () => validClaims({ iss: ISS, aud: BASE + DISCOVERY, nowMs: NOW_MS });
  const unknownIssuer = await signToken(stranger, { ...claims(), iss: 'https://guess.example.org' });
  const unknownKid = await signToken(stranger, claims());
  const a = await request(h.app).get(DISCOVERY).set('Authorization', `Bearer ${unknownIssuer}`);
  const b = await request(h.app).get(DISCOVERY).set('Authorization', `Bearer ${unknownKid}`);
  expect([a.status, b.status]).toEqual([401, 401]);
  expect(a.body).toEqual(b.body);
  await request(h.app).get(DISCOVERY);
}

function authSeries(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('ldn_cds_auth_failures_total'));
}

describe('GET /metrics exposure', () => {
  it('open on the public port (development default): coarse classes only, issuers and kids indistinguishable', async () => {
    const h = await app({});
    await probe(h);
    const res = await request(h.app).get('/metrics').expect(200);
    expect(authSeries(res.text)).toEqual(['ldn_cds_auth_failures_total{reason="invalid"} 2', 'ldn_cds_auth_failures_total{reason="missing"} 1']);
    expect(res.text).not.toMatch(/unknown-issuer|unknown-kid/);
    expect(res.text.match(/^# TYPE ldn_cds_auth_failures_total /gm)).toHaveLength(1);
    expect(res.text).toContain('ldn_cds_http_requests_total');
    await h.close();
  });

  it('behind METRICS_TOKEN: 401 without it, the detailed reasons with it', async () => {
    const h = await app({ METRICS_TOKEN: TOKEN });
    await probe(h);
    const refused = await request(h.app).get('/metrics').expect(401);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(refused.text).not.toContain('ldn_cds');
    expect((await request(h.app).get('/metrics').set('Authorization', 'Bearer not-the-token-at-all')).status).toBe(401);
    const res = await request(h.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(authSeries(res.text).sort()).toEqual([
      'ldn_cds_auth_failures_total{reason="missing-header"} 1',
      'ldn_cds_auth_failures_total{reason="unknown-issuer"} 1',
      'ldn_cds_auth_failures_total{reason="unknown-kid"} 1',
    ]);
    await h.close();
  });

  it('with METRICS_PORT: only on the internal listener, detailed; nothing on the public port', async () => {
    const h = await app({ METRICS_PORT: '9464' });
    await probe(h);
    expect((await request(h.app).get('/metrics')).status).toBe(404);
    expect(h.metricsApp).toBeDefined();
    const res = await request(h.metricsApp!).get('/metrics').expect(200);
    expect(res.text).toContain('ldn_cds_auth_failures_total{reason="unknown-kid"} 1');
    expect((await request(h.metricsApp!).get('/cds-services')).status).toBe(404);
    await h.close();
  });

  it('in production, never open on the public port: off without METRICS_TOKEN or METRICS_PORT', async () => {
    const h = await app({}, true);
    const res = await request(h.app).get('/metrics');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('ldn_cds');
    await h.close();
    const withToken = await app({ METRICS_TOKEN: TOKEN }, true);
    expect((await request(withToken.app).get('/metrics')).status).toBe(401);
    expect((await request(withToken.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200);
    await withToken.close();
  });

  it('every reason judged from the token content is one class, whatever step refused it', () => {
    const contentReasons = ['malformed', 'alg-not-allowed', 'bad-typ', 'missing-kid', 'unsupported-header', 'missing-claim:aud', 'invalid-claim:exp', 'unknown-issuer', 'bad-audience', 'expired', 'iat-in-future', 'not-yet-valid', 'lifetime-too-long', 'tenant-not-allowed', 'jku-not-allowed', 'unknown-kid', 'ambiguous-kid', 'bad-signature', 'jwks-unavailable'];
    expect(new Set(contentReasons.map(authFailureClass))).toEqual(new Set(['invalid']));
    expect(authFailureClass('replayed-jti')).toBe('replayed');
    expect(authFailureClass('replay-cache-unavailable')).toBe('unavailable');
    expect(authFailureClass('missing-header')).toBe('missing');
  });
});

