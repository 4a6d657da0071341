/**
 * The JWT never reaches a log line: a successful and several refused requests run with a real pino logger
 * (trace level) writing into memory; neither the token, nor its signature, nor "Bearer <token>" may appear.
 * Refusal lines must still carry reason, iss, jti and kid, so operators can investigate.
 */
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/index.js';
import { testConfig, type Config } from '../../src/config/index.js';
import { captureLogs, createAuthTestApp, generateTestKey, jwksOf, signToken, validClaims, writeTrustedClients, type TestKey } from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const SERVICE = '/cds-services/ldn-patient-view';
const NOW_MS = Date.UTC(2031, 8, 9, 9, 0, 0);

let key: TestKey;
let config: Config;

beforeAll(async () => {
  key = await generateTestKey('ES384', 'log-test-key');
  config = testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: await writeTrustedClients([{ iss: ISS, jwks: jwksOf(key) }]), PUBLIC_BASE_URL: BASE });
});

function expectNoTokenIn(text: string, token: string): void {
  const signature = token.split('.')[2]!;
  expect(text).not.toContain(token);
  expect(text).not.toContain(signature);
  expect(text).not.toContain(`Bearer ${token}`);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./);
}

describe('log hygiene', () => {
  it('logs no token on success, on refusal, and on a replay', async () => {
    const logs = captureLogs('trace');
    const auth = await createAuth(config, { logger: logs.logger, now: () => NOW_MS });
    const app = createAuthTestApp(auth);
    const claims = validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW_MS });
    const good = await signToken(key, claims);
    const wrongAud = await signToken(key, { ...claims, jti: 'jti-wrong-aud', aud: `${BASE}/cds-services` });

    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${good}`).send({})).status).toBe(200);
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${good}`).send({})).status).toBe(401);
    expect((await request(app).post(SERVICE).set('Authorization', `Bearer ${wrongAud}`).send({})).status).toBe(401);

    const refusals = logs.lines().filter((l) => typeof l.reason === 'string');
    expect(refusals).toEqual([
      expect.objectContaining({ level: 'warn', reason: 'replayed-jti', iss: ISS, jti: claims.jti, kid: key.kid, path: SERVICE }),
      expect.objectContaining({ level: 'warn', reason: 'bad-audience', iss: ISS, jti: 'jti-wrong-aud', kid: key.kid }),
    ]);
    expectNoTokenIn(logs.text(), good);
    expectNoTokenIn(logs.text(), wrongAud);
    await auth.close();
  });

  it('scrubs a token smuggled into the logged claims (iss, jti, kid)', async () => {
    const logs = captureLogs('trace');
    const auth = await createAuth(config, { logger: logs.logger, now: () => NOW_MS });
    const secret = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW_MS }));
    const smuggler = await signToken(
      key,
      { ...validClaims({ iss: `${ISS} Bearer ${secret}`, aud: BASE + SERVICE, nowMs: NOW_MS }), jti: secret },
      { kid: secret },
    );
    const res = await request(createAuthTestApp(auth)).post(SERVICE).set('Authorization', `Bearer ${smuggler}`).send({});
    expect(res.status).toBe(401);
    expect(logs.refusalReasons()).toEqual(['unknown-issuer']);
    expectNoTokenIn(logs.text(), secret);
    expectNoTokenIn(logs.text(), smuggler);
    await auth.close();
  });
});

describe('unhandled errors', () => {
  it('log neither a token nor URL credentials, in the message or in the stack', async () => {
    const { default: express } = await import('express');
    const { errorHandler } = await import('../../src/http/errors.js');
    const logs = captureLogs('trace');
    const token = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW_MS }));
    const app = express();
    app.get('/boom', () => {
      throw new Error(`upstream said no to Bearer ${token} via redis://cache-user:s3cret-pass@cache.internal:6379/0`);
    });
    app.use(errorHandler(logs.logger));
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(token);
    const [line] = logs.lines().filter((l) => l.msg === 'unhandled error');
    expect(line).toBeDefined();
    const err = line!.err as { message: string; stack: string };
    expect(err.message).toContain('Bearer [redacted]');
    expect(err.message).toContain('redis://[redacted]@cache.internal:6379/0');
    expect(err.stack).toContain('Bearer [redacted]');
    expect(err.stack).toContain('redis://[redacted]@cache.internal');
    expectNoTokenIn(logs.text(), token);
    expect(logs.text()).not.toContain('s3cret-pass');
    expect(logs.text()).not.toContain('cache-user');
  });
});

describe('the request log line', () => {
  it('never carries a token put in the URL: a JWT-shaped path segment (plain or percent-encoded) or ?access_token=', async () => {
    const { testApp, memoryLogger } = await import('../helpers/app.js');
    const logs = memoryLogger('trace');
    const h = await testApp({}, { logger: logs.logger });
    const token = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW_MS }));
    const encoded = token.replace(/\./g, '%2E');
    const paths = [`/cds-services/${token}`, `/cds-services/${token}/feedback`, `/evidence/${encoded}`, `/cds-services?access_token=${token}`, `/x?access_token=${token}&a=1`];
    for (const path of paths) await request(h.app).get(path);
    await request(h.app).post(`/cds-services/${token}`).send({});
    const lines = logs.text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const logged = lines.filter((l) => l.msg === 'request').map((l) => l.path);
    expect(logged).toEqual([
      '/cds-services/[jwt redacted]',
      '/cds-services/[jwt redacted]/feedback',
      '/evidence/[redacted]',
      '/cds-services',
      '/x',
      '/cds-services/[jwt redacted]',
    ]);
    expectNoTokenIn(logs.text(), token);
    expect(logs.text()).not.toContain(token.split('.')[2]!);
    await h.close();
  });

  it('is capped in length', async () => {
    const { loggablePath } = await import('../../src/http/request-log.js');
    expect(loggablePath(`/${'a'.repeat(5000)}`).length).toBeLessThanOrEqual(301);
    expect(loggablePath('/cds-services/ldn-order-check')).toBe('/cds-services/ldn-order-check');
    expect(loggablePath('/a/%ZZ/b')).toBe('/a/%ZZ/b');
  });
});
