/**
 * Authentication through the real app (`createApp`): captured sandbox requests are admitted, refusals are
 * 401 with the generic body and still carry CORS headers, preflights need no token, and the whole app's
 * logs (request log included) never hold the JWT.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { captureLogs, unauthorizedBody, type LogCapture } from '../helpers/jwt.js';

interface Capture {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: object | null;
}

const CAPTURES_DIR = path.resolve(PROJECT_ROOT, '../shared/sandbox-captures');
const capturesPresent = existsSync(CAPTURES_DIR);
if (!capturesPresent) console.warn(`sandbox captures not found at ${CAPTURES_DIR}: skipping the real-app auth tests`);

function capture(file: string): Capture {
  return JSON.parse(readFileSync(path.join(CAPTURES_DIR, file), 'utf8')) as Capture;
}

function tokenOf(c: Capture): string {
  return c.headers.authorization!.replace(/^Bearer /, '');
}

describe.skipIf(!capturesPresent)('auth in the real app', () => {
  let handle: AppHandle | undefined;
  let logs: LogCapture;
  let clock = 0;

  async function start(): Promise<AppHandle> {
    logs = captureLogs('trace');
    const config = testConfig({
      AUTH_MODE: 'required',
      ALLOW_SANDBOX_ISSUER: 'true',
      PUBLIC_BASE_URL: 'http://127.0.0.1:3001,http://localhost:3001',
      LOG_LEVEL: 'trace',
    });
    handle = await createApp(config, { logger: logs.logger, authNow: () => clock });
    return handle;
  }

  /** Replay `c`; `authorization` null sends no Authorization header. */
  function send(app: AppHandle['app'], c: Capture, authorization: string | null = c.headers.authorization ?? null) {
    const req = c.method === 'GET' ? request(app).get(c.path) : request(app).post(c.path).send(c.body ?? {});
    req.set('Origin', 'http://127.0.0.1:8080');
    return authorization === null ? req : req.set('Authorization', authorization);
  }

  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('admits the captured discovery call and refuses its replay', async () => {
    const { app } = await start();
    const discovery = capture('01-discovery.json');
    clock = (decodeJwt(tokenOf(discovery)).iat as number) * 1000;
    const first = await send(app, discovery);
    expect(first.status).toBe(200);
    expect(Array.isArray(first.body.services)).toBe(true);
    const replayed = await send(app, discovery);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual(unauthorizedBody());
  });

  it('admits a captured hook call (auth passes; the answer is not a refusal)', async () => {
    const { app } = await start();
    const hook = capture('02-patient-view.json');
    clock = (decodeJwt(tokenOf(hook)).iat as number) * 1000;
    const res = await send(app, hook);
    expect([401, 503]).not.toContain(res.status);
    expect(logs.refusalReasons()).toEqual([]);
  });

  it('refuses without a token, and with a discovery token on a hook URL; refusals carry CORS and WWW-Authenticate', async () => {
    const { app } = await start();
    const discovery = capture('01-discovery.json');
    const hook = capture('02-patient-view.json');
    clock = (decodeJwt(tokenOf(discovery)).iat as number) * 1000;

    const none = await send(app, hook, null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.headers['access-control-allow-origin']).toBeDefined();
    expect(none.body).toEqual(unauthorizedBody());

    const misdirected = await send(app, hook, discovery.headers.authorization);
    expect(misdirected.status).toBe(401);
    expect(logs.refusalReasons()).toEqual(['missing-header', 'bad-audience']);
  });

  it('answers CORS preflights without a token', async () => {
    const { app } = await start();
    for (const file of ['09-preflight-discovery.json', '09a-preflight-hook.json', '09b-preflight-feedback.json']) {
      const c = capture(file);
      const res = await request(app)
        .options(c.path)
        .set('Origin', 'http://127.0.0.1:8080')
        .set('Access-Control-Request-Method', c.headers['access-control-request-method'] ?? 'POST')
        .set('Access-Control-Request-Headers', c.headers['access-control-request-headers'] ?? 'authorization');
      expect({ file, ok: res.status >= 200 && res.status < 300 }).toEqual({ file, ok: true });
    }
    expect(logs.refusalReasons()).toEqual([]);
  });

  it('never writes the JWT into any log line of the app', async () => {
    const { app } = await start();
    const discovery = capture('01-discovery.json');
    const hook = capture('02-patient-view.json');
    clock = (decodeJwt(tokenOf(hook)).iat as number) * 1000;
    expect((await send(app, hook)).status).not.toBe(401);
    expect((await send(app, hook)).status).toBe(401); // replayed
    expect((await send(app, hook, discovery.headers.authorization)).status).toBe(401); // wrong aud
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const token of [tokenOf(hook), tokenOf(discovery)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]!);
      expect(text).not.toContain(`Bearer ${token}`);
    }
  });
});
