/**
 * The 16 real requests the public CDS Hooks Sandbox sent (../shared/sandbox-captures/), replayed through the
 * auth middleware with ALLOW_SANDBOX_ISSUER=true, PUBLIC_BASE_URL = both bases the captures used, and the clock
 * pinned to each token's `iat`. The bundled sandbox key must verify all of them without any network request
 * (their `jku` is a label), and the sandbox issuer must be unknown without the flag.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import nock from 'nock';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/index.js';
import { loadConfig, PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { captureLogs, createAuthTestApp, unauthorizedBody } from '../helpers/jwt.js';

interface Capture {
  file: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: unknown;
  capture: { url: string };
}

const CAPTURES_DIR = path.resolve(PROJECT_ROOT, '../shared/sandbox-captures');
const SANDBOX_BASES = 'http://127.0.0.1:3001,http://localhost:3001';

function loadCaptures(): Capture[] {
  return readdirSync(CAPTURES_DIR)
    .filter((f) => /^\d.*\.json$/.test(f))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(path.join(CAPTURES_DIR, file), 'utf8')) as Omit<Capture, 'file'>) }))
    .filter((c) => typeof c.headers.authorization === 'string');
}

function tokenOf(c: Capture): string {
  return c.headers.authorization!.replace(/^Bearer /, '');
}

function iatMs(c: Capture): number {
  return (decodeJwt(tokenOf(c)).iat as number) * 1000;
}

function replay(app: ReturnType<typeof createAuthTestApp>, c: Capture) {
  const req = c.method === 'GET' ? request(app).get(c.path) : request(app).post(c.path).send(c.body as object);
  return req.set('Authorization', c.headers.authorization!).set('Origin', c.headers.origin ?? '');
}

const capturesPresent = existsSync(CAPTURES_DIR);
if (!capturesPresent) console.warn(`sandbox captures not found at ${CAPTURES_DIR}: skipping the sandbox replay tests`);

describe.skipIf(!capturesPresent)('CDS Hooks Sandbox captures', () => {
  const captures = capturesPresent ? loadCaptures() : [];
  let clock = 0;
  const sandboxHost = () => nock('https://sandbox.cds-hooks.org').get('/.well-known/jwks.json').reply(200, { keys: [] });

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  });

  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  async function sandboxApp(overrides: NodeJS.ProcessEnv = {}) {
    const logs = captureLogs();
    const config = testConfig({ AUTH_MODE: 'required', ALLOW_SANDBOX_ISSUER: 'true', PUBLIC_BASE_URL: SANDBOX_BASES, ...overrides });
    const auth = await createAuth(config, { logger: logs.logger, now: () => clock });
    return { app: createAuthTestApp(auth), auth, logs };
  }

  it('finds the 16 signed requests', () => {
    expect(captures).toHaveLength(16);
  });

  it('verifies every captured request with the bundled key, its jku never fetched', async () => {
    const jku = sandboxHost();
    const { app, auth, logs } = await sandboxApp();
    for (const c of captures) {
      clock = iatMs(c);
      const res = await replay(app, c);
      expect({ file: c.file, status: res.status }).toEqual({ file: c.file, status: 200 });
      expect(res.body.client).toEqual({ iss: 'https://sandbox.cds-hooks.org', jti: decodeJwt(tokenOf(c)).jti });
    }
    expect(logs.refusalReasons()).toEqual([]);
    expect(jku.isDone()).toBe(false);
    await auth.close();
  });

  it('refuses the same captures without ALLOW_SANDBOX_ISSUER (unknown issuer)', async () => {
    const { app, auth, logs } = await sandboxApp({ ALLOW_SANDBOX_ISSUER: 'false' });
    for (const c of captures) {
      clock = iatMs(c);
      const res = await replay(app, c);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorizedBody());
    }
    expect(new Set(logs.refusalReasons())).toEqual(new Set(['unknown-issuer']));
    await auth.close();
  });

  it('refuses a capture replayed twice, a discovery token on a service URL, an expired one, and an unlisted base URL', async () => {
    const [discovery, hook] = [captures.find((c) => c.method === 'GET')!, captures.find((c) => c.path.endsWith('ldn-order-select'))!];
    const localhostHook = captures.find((c) => c.capture.url.startsWith('http://localhost'))!;
    const { app, auth, logs } = await sandboxApp();

    clock = iatMs(hook);
    expect((await replay(app, hook)).status).toBe(200);
    expect((await replay(app, hook)).status).toBe(401);

    clock = iatMs(discovery);
    const onService = await request(app).post('/cds-services/ldn-order-select').set('Authorization', discovery.headers.authorization!).send({});
    expect(onService.status).toBe(401);

    clock = iatMs(discovery) + (300 + 31) * 1000;
    expect((await replay(app, discovery)).status).toBe(401);

    const only127 = await sandboxApp({ PUBLIC_BASE_URL: 'http://127.0.0.1:3001' });
    clock = iatMs(localhostHook);
    expect((await replay(only127.app, localhostHook)).status).toBe(401);

    expect(logs.refusalReasons()).toEqual(['replayed-jti', 'bad-audience', 'expired']);
    expect(only127.logs.refusalReasons()).toEqual(['bad-audience']);
    await Promise.all([auth.close(), only127.auth.close()]);
  });

  describe('host spelling (issue 18 §5): the sandbox signs the URL as it was registered', () => {
    const byFile = (f: string) => captures.find((c) => c.file === f)!;
    const first = () => byFile('08a-patient-view-dup-first.json'); // aud http://127.0.0.1:3001/…
    const viaLocalhost = () => byFile('08c-patient-view-dup-localhost.json'); // aud http://localhost:3001/…

    it('accepts every spelling listed in PUBLIC_BASE_URL, however the list is written', async () => {
      for (const bases of ['http://127.0.0.1:3001/, http://localhost:3001/', 'HTTP://LOCALHOST:3001,http://127.0.0.1:3001//']) {
        const { app, auth, logs } = await sandboxApp({ PUBLIC_BASE_URL: bases });
        for (const c of [first(), viaLocalhost()]) {
          clock = iatMs(c);
          expect({ bases, file: c.file, status: (await replay(app, c)).status }).toEqual({ bases, file: c.file, status: 200 });
        }
        expect(logs.refusalReasons()).toEqual([]);
        await auth.close();
      }
    });

    it('in development, a loopback base accepts the other loopback spellings (localhost, 127.0.0.1, [::1]), same port only', async () => {
      const { app, auth, logs } = await sandboxApp({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3001' });
      clock = iatMs(viaLocalhost());
      expect((await replay(app, viaLocalhost())).status).toBe(200);
      expect(logs.refusalReasons()).toEqual([]);
      await auth.close();

      const otherPort = await sandboxApp({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3002' });
      expect((await replay(otherPort.app, viaLocalhost())).status).toBe(401);
      expect(otherPort.logs.refusalReasons()).toEqual(['bad-audience']);
      await otherPort.auth.close();
    });

    it('outside development only the listed spellings are accepted', () => {
      const dev = testConfig({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3001,https://cds.example.org' });
      expect(dev.audienceBaseUrls).toEqual(['http://127.0.0.1:3001', 'http://localhost:3001', 'http://[::1]:3001', 'https://cds.example.org']);
      expect(dev.publicBaseUrls).toEqual(['http://127.0.0.1:3001', 'https://cds.example.org']);
      expect(testConfig({ PUBLIC_BASE_URL: 'http://127.0.0.1:3001' }).audienceBaseUrls).toEqual(['http://127.0.0.1:3001']);
      const production = loadConfig({ NODE_ENV: 'production', PATIENT_ID_HASH_KEY: 'k'.repeat(32), PUBLIC_BASE_URL: 'http://localhost:3001' });
      expect(production.audienceBaseUrls).toEqual(['http://localhost:3001']);
    });
  });
});
