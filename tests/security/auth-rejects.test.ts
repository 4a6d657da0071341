/**
 * Client JWT: every way a token must be refused. Each case starts from a token that is accepted
 * (see the baseline test) and breaks one thing. Every refusal must be 401 with the generic body and
 * `WWW-Authenticate: Bearer`; the log must carry the expected reason; and when the check comes before
 * any key lookup, the client's key URL (nock) must not have been fetched.
 */
import { exportSPKI } from 'jose';
import nock from 'nock';
import request, { type Response } from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuth, type AuthService } from '../../src/auth/index.js';
import { testConfig, type Config } from '../../src/config/index.js';
import {
  base64urlJson,
  captureLogs,
  createAuthTestApp,
  generateTestKey,
  hmacToken,
  jwksOf,
  signToken,
  unauthorizedBody,
  unsecuredToken,
  validClaims,
  without,
  writeTrustedClients,
  type LogCapture,
  type TestKey,
} from '../helpers/jwt.js';

const BASE = 'https://cds.example.org';
const KEY_HOST = 'https://keys.ehr-a.test';
const ISS_A = 'https://ehr-a.example.org';
const ISS_B = 'https://ehr-b.example.org';
const ISS_TENANTS = 'https://ehr-t.example.org';
const SERVICE = '/cds-services/ldn-order-select';
const NOW_MS = Date.UTC(2031, 0, 15, 12, 0, 0);

let keyA: TestKey;
let keyB: TestKey;
let keyTenants: TestKey;
let config: Config;

let auth: AuthService;
let app: ReturnType<typeof createAuthTestApp>;
let logs: LogCapture;
let jwksScope: nock.Scope;

beforeAll(async () => {
  keyA = await generateTestKey('ES384', 'ehr-a-2031');
  keyB = await generateTestKey('ES384', 'ehr-b-2031');
  keyTenants = await generateTestKey('RS384', 'ehr-t-2031');
  const file = await writeTrustedClients([
    { iss: ISS_A, jwks_url: `${KEY_HOST}/jwks.json`, jku_allow: [`${KEY_HOST}/jwks.json`] },
    { iss: ISS_B, jwks: jwksOf(keyB) },
    { iss: ISS_TENANTS, jwks: jwksOf(keyTenants), tenants: ['hospital-1'] },
  ]);
  config = testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: BASE, JWT_MAX_LIFETIME_S: '600', JWT_CLOCK_SKEW_S: '30' });
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

beforeEach(async () => {
  nock.cleanAll();
  jwksScope = nock(KEY_HOST).get('/jwks.json').reply(200, jwksOf(keyA));
  logs = captureLogs();
  auth = await createAuth(config, { logger: logs.logger, now: () => NOW_MS });
  app = createAuthTestApp(auth);
});

afterEach(async () => {
  await auth.close();
});

/** A token client A would send for `path`. */
function claimsA(path = SERVICE, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...validClaims({ iss: ISS_A, aud: BASE + path, nowMs: NOW_MS }), ...overrides };
}

function post(token: string | undefined, path = SERVICE) {
  const req = request(app).post(path).send({ hook: 'order-select' });
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
}

/** 401, generic body, the expected reason logged, and (unless the check needs keys) no key fetch. */
function expectRefused(res: Response, reason: string, options: { keysFetched?: boolean } = {}): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.body).toEqual(unauthorizedBody());
  expect(res.text).not.toContain(reason);
  expect(logs.refusalReasons()).toEqual([reason]);
  expect(jwksScope.isDone()).toBe(options.keysFetched ?? false);
}

describe('baseline', () => {
  it('accepts the unbroken token (so every refusal below is caused by the one thing broken)', async () => {
    const res = await post(await signToken(keyA, claimsA()));
    expect(res.status).toBe(200);
    expect(jwksScope.isDone()).toBe(true);
  });
});

describe('Authorization header', () => {
  it('refuses a request with no Authorization header', async () => {
    expectRefused(await post(undefined), 'missing-header');
  });

  it('refuses a scheme other than Bearer', async () => {
    const token = await signToken(keyA, claimsA());
    const res = await request(app).post(SERVICE).set('Authorization', `Basic ${token}`).send({});
    expectRefused(res, 'not-bearer');
  });

  it('refuses a Bearer value that is not a compact JWS', async () => {
    expectRefused(await post('not-a.jwt'), 'malformed');
  });

  it('refuses a token whose header is not JSON', async () => {
    const token = await signToken(keyA, claimsA());
    expectRefused(await post(`bm90IGpzb24.${token.split('.')[1]}.${token.split('.')[2]}`), 'malformed');
  });

  it('ignores a valid token in the query string', async () => {
    const token = await signToken(keyA, claimsA());
    const res = await request(app).post(`${SERVICE}?access_token=${token}&jwt=${token}`).send({});
    expectRefused(res, 'missing-header');
  });
});

describe('protected header', () => {
  it('refuses alg "none"', async () => {
    expectRefused(await post(unsecuredToken(claimsA(), { kid: keyA.kid })), 'alg-not-allowed');
  });

  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    const pem = await exportSPKI(keyA.publicKey);
    const token = await hmacToken(new TextEncoder().encode(pem), claimsA(), { kid: keyA.kid });
    expectRefused(await post(token), 'alg-not-allowed');
  });

  it('refuses HS256 signed with the public JWK (as JSON text) as the secret', async () => {
    const token = await hmacToken(new TextEncoder().encode(JSON.stringify(keyA.publicJwk)), claimsA(), { kid: keyA.kid });
    expectRefused(await post(token), 'alg-not-allowed');
  });

  it('refuses typ other than JWT', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(), { typ: 'at+jwt' })), 'bad-typ');
  });

  it('refuses a token without typ', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(), { typ: undefined })), 'bad-typ');
  });

  it('refuses a token without kid', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(), { kid: undefined })), 'missing-kid');
  });

  it('refuses a critical header extension', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(), { crit: ['b64'], b64: true })), 'unsupported-header');
  });

  it('refuses a jku off the allow-list without any network request', async () => {
    const evil = nock('https://attacker.example').get('/jwks.json').reply(200, jwksOf(keyA));
    const token = await signToken(keyA, claimsA(), { jku: 'https://attacker.example/jwks.json' });
    expectRefused(await post(token), 'jku-not-allowed');
    expect(evil.isDone()).toBe(false);
  });

  it('refuses a jku that differs from the allow-listed URL only by a query string', async () => {
    const token = await signToken(keyA, claimsA(), { jku: `${KEY_HOST}/jwks.json?x=1` });
    expectRefused(await post(token), 'jku-not-allowed');
  });
});

describe('required claims', () => {
  it.each(['iss', 'aud', 'exp', 'iat', 'jti'])('refuses a token without "%s"', async (claim) => {
    expectRefused(await post(await signToken(keyA, without(claimsA(), claim))), `missing-claim:${claim}`);
  });

  it('refuses an aud that is neither a string nor an array of strings', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(SERVICE, { aud: [] }))), 'invalid-claim:aud');
  });

  it('refuses a non-numeric exp', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(SERVICE, { exp: String(NOW_MS / 1000 + 60) }))), 'invalid-claim:exp');
  });
});

describe('issuer', () => {
  it('refuses an issuer that is not a trusted client', async () => {
    const stranger = await generateTestKey('ES384');
    expectRefused(await post(await signToken(stranger, claimsA(SERVICE, { iss: 'https://stranger.example.org' }))), 'unknown-issuer');
  });

  it('refuses a trusted issuer name with a trailing slash (exact match only)', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(SERVICE, { iss: `${ISS_A}/` }))), 'unknown-issuer');
  });
});

describe('audience', () => {
  it('refuses an aud on another host', async () => {
    const token = await signToken(keyA, claimsA(SERVICE, { aud: `https://other.example.org${SERVICE}` }));
    expectRefused(await post(token), 'bad-audience');
  });

  it('refuses the aud of another service', async () => {
    const token = await signToken(keyA, claimsA('/cds-services/ldn-order-sign'));
    expectRefused(await post(token), 'bad-audience');
  });

  it('refuses a discovery token replayed on a service URL', async () => {
    expectRefused(await post(await signToken(keyA, claimsA('/cds-services'))), 'bad-audience');
  });

  it('refuses a service token on the discovery URL', async () => {
    const token = await signToken(keyA, claimsA(SERVICE));
    expectRefused(await request(app).get('/cds-services').set('Authorization', `Bearer ${token}`), 'bad-audience');
  });

  it('refuses a hook token on its feedback URL', async () => {
    expectRefused(await post(await signToken(keyA, claimsA(SERVICE)), `${SERVICE}/feedback`), 'bad-audience');
  });

  it('refuses an aud that carries the query string', async () => {
    const token = await signToken(keyA, claimsA(`${SERVICE}?x=1`));
    expectRefused(await post(token, `${SERVICE}?x=1`), 'bad-audience');
  });
});

describe('time claims', () => {
  const nowS = NOW_MS / 1000;

  it('refuses an expired token (beyond the clock skew)', async () => {
    const token = await signToken(keyA, claimsA(SERVICE, { iat: nowS - 400, exp: nowS - 31 }));
    expectRefused(await post(token), 'expired');
  });

  it('refuses an iat in the future (beyond the clock skew)', async () => {
    const token = await signToken(keyA, claimsA(SERVICE, { iat: nowS + 31, exp: nowS + 300 }));
    expectRefused(await post(token), 'iat-in-future');
  });

  it('refuses a lifetime (exp - iat) over JWT_MAX_LIFETIME_S', async () => {
    const token = await signToken(keyA, claimsA(SERVICE, { iat: nowS, exp: nowS + 601 }));
    expectRefused(await post(token), 'lifetime-too-long');
  });

  it('refuses an nbf in the future', async () => {
    const token = await signToken(keyA, claimsA(SERVICE, { nbf: nowS + 120 }));
    expectRefused(await post(token), 'not-yet-valid');
  });
});

describe('signature and keys', () => {
  it('refuses an unknown kid (after one key fetch)', async () => {
    const rotated = await generateTestKey('ES384', 'ehr-a-unknown');
    expectRefused(await post(await signToken(rotated, claimsA())), 'unknown-kid', { keysFetched: true });
  });

  it('refuses a token signed with another issuer\'s key', async () => {
    expectRefused(await post(await signToken(keyB, claimsA())), 'unknown-kid', { keysFetched: true });
  });

  it('refuses another issuer\'s key presented under this issuer\'s kid', async () => {
    const impostor: TestKey = { ...keyB, kid: keyA.kid };
    expectRefused(await post(await signToken(impostor, claimsA())), 'bad-signature', { keysFetched: true });
  });

  it('refuses a token with its signature stripped', async () => {
    const [header, payload] = (await signToken(keyA, claimsA())).split('.');
    expectRefused(await post(`${header}.${payload}.`), 'malformed');
  });

  it('refuses a payload changed after signing', async () => {
    const [header, , signature] = (await signToken(keyA, claimsA())).split('.');
    const forged = base64urlJson(claimsA(SERVICE, { jti: 'forged' }));
    expectRefused(await post(`${header}.${forged}.${signature}`), 'bad-signature', { keysFetched: true });
  });
});

describe('replay', () => {
  it('refuses the second use of a jti', async () => {
    const token = await signToken(keyA, claimsA());
    expect((await post(token)).status).toBe(200);
    const second = await post(token);
    expect(second.status).toBe(401);
    expect(second.body).toEqual(unauthorizedBody());
    expect(logs.refusalReasons()).toEqual(['replayed-jti']);
  });

  it('refuses a fresh token that reuses a jti already seen', async () => {
    const claims = claimsA();
    expect((await post(await signToken(keyA, claims))).status).toBe(200);
    const again = await post(await signToken(keyA, { ...claims, iat: (claims.iat as number) + 1 }));
    expect(again.status).toBe(401);
    expect(logs.refusalReasons()).toEqual(['replayed-jti']);
  });
});

describe('tenants', () => {
  function tenantClaims(extra: Record<string, unknown>) {
    return { ...validClaims({ iss: ISS_TENANTS, aud: BASE + SERVICE, nowMs: NOW_MS }), ...extra };
  }

  it('accepts a listed tenant (baseline for the tenant cases)', async () => {
    const res = await post(await signToken(keyTenants, tenantClaims({ tenant: 'hospital-1' })));
    expect(res.status).toBe(200);
    expect(res.body.client).toMatchObject({ iss: ISS_TENANTS, tenant: 'hospital-1' });
  });

  it('refuses a tenant not on the client\'s list', async () => {
    expectRefused(await post(await signToken(keyTenants, tenantClaims({ tenant: 'hospital-2' }))), 'tenant-not-allowed');
  });

  it('refuses a missing tenant when the client lists tenants', async () => {
    expectRefused(await post(await signToken(keyTenants, tenantClaims({}))), 'missing-claim:tenant');
  });
});
