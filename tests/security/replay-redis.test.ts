/**
 * The shared replay cache on a real Redis (REDIS_URL), and its fail-closed behaviour when Redis is down.
 *
 * With REDIS_URL unset the shared-cache tests are skipped (with a visible warning); with it set they must
 * pass, and an unreachable Redis fails them. The "Redis down" tests need no Redis and always run.
 */
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, type AuthService } from '../../src/auth/index.js';
import { REDIS_KEY_PREFIX, RedisReplayCache } from '../../src/auth/replay-cache.js';
import { replayKey } from '../../src/auth/verify.js';
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
  type TestKey,
} from '../helpers/jwt.js';

const REDIS_URL = process.env.REDIS_URL;
const BASE = 'https://cds.example.org';
const ISS = 'https://ehr.example.org';
const SERVICE = '/cds-services/ldn-order-sign';
const NOW_MS = Date.UTC(2031, 2, 3, 10, 0, 0);

let key: TestKey;
let trustedClients: string;

beforeAll(async () => {
  key = await generateTestKey('ES384');
  trustedClients = await writeTrustedClients([{ iss: ISS, jwks: jwksOf(key) }]);
});

function configWith(overrides: NodeJS.ProcessEnv): Config {
  return testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: trustedClients, PUBLIC_BASE_URL: BASE, ...overrides });
}

async function tokenAndJti(): Promise<{ token: string; jti: string }> {
  const claims = validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW_MS });
  return { token: await signToken(key, claims), jti: claims.jti as string };
}

if (!REDIS_URL) console.warn('REDIS_URL is not set: SKIPPING the shared (Redis) replay-cache tests');

describe.skipIf(!REDIS_URL)(`shared replay cache on Redis (${REDIS_URL ?? 'unset'})`, () => {
  let probe: Redis;
  const written: string[] = [];

  beforeAll(async () => {
    // Must fail, not skip, when REDIS_URL is set but Redis cannot be reached.
    probe = new Redis(REDIS_URL!, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {}); // surfaced by connect() below
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      throw new Error(`REDIS_URL is set (${REDIS_URL}) but Redis cannot be reached: ${(error as Error).message}`);
    }
  });

  afterAll(async () => {
    if (written.length && probe.status === 'ready') await probe.del(...written);
    probe.disconnect();
  });

  it('stores a key once (SET NX PX under the ldn-cds:jti: prefix) and reports ready', async () => {
    const cache = new RedisReplayCache({ url: REDIS_URL!, logger: captureLogs().logger });
    await cache.connect();
    const k = `test-${crypto.randomUUID()}`;
    written.push(REDIS_KEY_PREFIX + k);
    expect(await cache.checkAndStore(k, 60_000)).toBe(true);
    expect(await cache.checkAndStore(k, 60_000)).toBe(false);
    const ttl = await probe.pttl(REDIS_KEY_PREFIX + k);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await cache.ready()).toEqual({ ok: true, detail: 'redis replay cache reachable' });
    await cache.close();
  });

  it('forgets a key after its TTL', async () => {
    const cache = new RedisReplayCache({ url: REDIS_URL!, logger: captureLogs().logger });
    await cache.connect();
    const k = `test-${crypto.randomUUID()}`;
    written.push(REDIS_KEY_PREFIX + k);
    expect(await cache.checkAndStore(k, 50)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await cache.checkAndStore(k, 50)).toBe(true);
    await cache.close();
  });

  it('two instances sharing Redis: the second refuses a jti the first accepted', async () => {
    const logsB = captureLogs();
    const instanceA = await createAuth(configWith({ REDIS_URL }), { logger: captureLogs().logger, now: () => NOW_MS });
    const instanceB = await createAuth(configWith({ REDIS_URL }), { logger: logsB.logger, now: () => NOW_MS });
    const { token, jti } = await tokenAndJti();
    written.push(REDIS_KEY_PREFIX + replayKey(ISS, jti));

    const first = await request(createAuthTestApp(instanceA)).post(SERVICE).set('Authorization', `Bearer ${token}`).send({});
    expect(first.status).toBe(200);
    const second = await request(createAuthTestApp(instanceB)).post(SERVICE).set('Authorization', `Bearer ${token}`).send({});
    expect(second.status).toBe(401);
    expect(second.body).toEqual(unauthorizedBody());
    expect(logsB.refusalReasons()).toEqual(['replayed-jti']);
    await Promise.all([instanceA.close(), instanceB.close()]);
  });
});

describe('Redis unreachable: fail closed', () => {
  const CLOSED_PORT = 'redis://127.0.0.1:1';
  const services: AuthService[] = [];

  afterAll(async () => {
    await Promise.all(services.map((s) => s.close()));
  });

  it('answers REPLAY_CACHE_FAILURE_STATUS (default 503) with the generic body, logs it, and readiness is not ok', async () => {
    const logs = captureLogs();
    const auth = await createAuth(configWith({ REDIS_URL: CLOSED_PORT }), { logger: logs.logger, now: () => NOW_MS });
    services.push(auth);
    const res = await request(createAuthTestApp(auth)).post(SERVICE).set('Authorization', `Bearer ${(await tokenAndJti()).token}`).send({});
    expect(res.status).toBe(503);
    expect(res.body).toEqual(unauthorizedBody('transient'));
    expect(logs.refusalReasons()).toEqual(['replay-cache-unavailable']);
    expect(logs.lines().some((l) => l.level === 'error' && String(l.msg).includes('replay cache (redis) unreachable'))).toBe(true);
    expect(logs.text()).not.toContain('127.0.0.1:1 ');
    expect(await auth.readiness()).toMatchObject({ ok: false, detail: expect.stringContaining('redis replay cache unreachable') });
  });

  it('answers 401 when REPLAY_CACHE_FAILURE_STATUS=401', async () => {
    const auth = await createAuth(configWith({ REDIS_URL: CLOSED_PORT, REPLAY_CACHE_FAILURE_STATUS: '401' }), {
      logger: captureLogs().logger,
      now: () => NOW_MS,
    });
    services.push(auth);
    const res = await request(createAuthTestApp(auth)).post(SERVICE).set('Authorization', `Bearer ${(await tokenAndJti()).token}`).send({});
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorizedBody());
  });
});
