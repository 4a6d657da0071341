/**
 * A 401 says what is missing, in general terms, with the documentation: no token, a header that is not a bearer
 * JWT, a JWT header that is not accepted, or "not accepted" for everything checked after the issuer is looked up.
 * An unknown issuer and a known issuer with a bad audience or signature get the very same body, so the answer
 * never tells which issuers or keys exist.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { refusalClass } from '../../src/auth/refusal.js';
import { generateTestKey, jwksOf, signToken, validClaims, writeTrustedClients, type TestKey } from '../helpers/jwt.js';

const BASE = 'http://localhost:3000';
const ISS = 'https://ehr.example.org';
const SERVICE = '/cds-services/ldn-order-check';

let h: AppHandle;
let key: TestKey;
let stranger: TestKey;

beforeAll(async () => {
  key = await generateTestKey('ES384', 'ehr-2031');
  stranger = await generateTestKey('ES384', 'stranger');
  const file = await writeTrustedClients([{ iss: ISS, jwks: jwksOf(key) }]);
  h = await createApp(testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: BASE, PLAYGROUND: 'off' }));
  return () => h.close();
});

async function refused(authorization?: string) {
  const req = request(h.app).post(SERVICE).send({});
  const res = await (authorization === undefined ? req : req.set('authorization', authorization));
  expect(res.status).toBe(401);
  expect(res.body.issue[0].details.text).toBe('Unauthorized');
  return res.body.issue[0].diagnostics as string;
}

const now = () => Date.now();

describe('401 diagnostics', () => {
  test('no token: says a bearer JWT is needed, points at the quick start and the docs', async () => {
    const text = await refused();
    expect(text).toMatch(/^No bearer token\. .*Authorization: Bearer <JWT>/);
    expect(text).toContain('README quick start');
    expect(text).toContain('docs/security.md');
    expect(text).toContain('https://cds-hooks.hl7.org/2.0/#trusting-cds-clients');
  });

  test('not a bearer JWT, and a JWT whose header is refused, are told apart from the rest', async () => {
    expect(await refused('Basic dXNlcjpwYXNz')).toMatch(/^The Authorization header is not "Bearer <JWT>"/);
    expect(await refused('Bearer not-a-jwt')).toMatch(/^The Authorization header is not "Bearer <JWT>"/);
    const noKid = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: now() }), { kid: undefined });
    expect(await refused(`Bearer ${noKid}`)).toMatch(/^The JWT header is not accepted/);
  });

  test('unknown issuer, wrong audience, foreign key, expired: one and the same answer, naming no issuer or key', async () => {
    const answers = new Set<string>();
    const claims = validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: now() });
    answers.add(await refused(`Bearer ${await signToken(key, { ...claims, iss: 'https://unknown.example.org' })}`));
    answers.add(await refused(`Bearer ${await signToken(key, { ...claims, aud: `${BASE}/cds-services/other` })}`));
    answers.add(await refused(`Bearer ${await signToken(stranger, claims, { kid: key.kid })}`));
    answers.add(await refused(`Bearer ${await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: now() - 7_200_000, lifetimeS: 60 }))}`));
    expect(answers.size).toBe(1);
    const [text] = [...answers];
    expect(text).toMatch(/^The JWT was not accepted\. It must name a trusted issuer \(iss\), be signed with that client's key, have aud equal to the exact URL called/);
    expect(text).not.toContain(ISS);
    expect(text).not.toContain(key.kid);
  });

  test('every reason checked after the issuer lookup falls in the one general class', () => {
    for (const reason of ['unknown-issuer', 'bad-audience', 'expired', 'unknown-kid', 'bad-signature', 'tenant-not-allowed', 'jku-not-allowed', 'missing-claim:jti', 'replayed-jti', 'jwks-unavailable', 'internal-error'] as const) {
      expect(refusalClass(reason), reason).toBe('token');
    }
  });
});
