/**
 * The in-memory replay cache (bounded, expiring, fail closed when full), the replay key, and how the
 * middleware answers when an injected cache cannot answer.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/index.js';
import { MemoryReplayCache, type ReplayCache } from '../../src/auth/replay-cache.js';
import { replayKey } from '../../src/auth/verify.js';
import { testConfig } from '../../src/config/index.js';
import { captureLogs, createAuthTestApp, generateTestKey, jwksOf, signToken, unauthorizedBody, validClaims, writeTrustedClients } from '../helpers/jwt.js';

describe('MemoryReplayCache', () => {
  it('stores a key once and forgets it after its TTL', async () => {
    let now = 1_000;
    const cache = new MemoryReplayCache({ now: () => now });
    expect(await cache.checkAndStore('k', 500)).toBe(true);
    now += 499;
    expect(await cache.checkAndStore('k', 500)).toBe(false);
    now += 1;
    expect(await cache.checkAndStore('k', 500)).toBe(true);
  });

  it('is bounded: when full of live keys it refuses (never evicts a live key), and sweeps expired ones', async () => {
    let now = 0;
    const cache = new MemoryReplayCache({ now: () => now, maxEntries: 2 });
    await cache.checkAndStore('a', 100);
    await cache.checkAndStore('b', 1_000);
    await expect(cache.checkAndStore('c', 100)).rejects.toThrow('full');
    expect(await cache.checkAndStore('a', 100)).toBe(false);
    now = 100;
    expect(await cache.checkAndStore('c', 100)).toBe(true);
    expect(await cache.checkAndStore('b', 100)).toBe(false);
  });

  it('reports ready, and says it is per instance', async () => {
    expect(await new MemoryReplayCache().ready()).toEqual({ ok: true, detail: 'memory replay cache (0 entries, this instance only)' });
  });
});

describe('replayKey', () => {
  it('is unambiguous across the iss/jti boundary and fixed-length', () => {
    expect(replayKey('https://a', 'b:c')).not.toBe(replayKey('https://a:b', 'c'));
    expect(replayKey('https://a', 'x')).not.toBe(replayKey('https://b', 'x'));
    expect(replayKey('i', 'j'.repeat(256))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('middleware with a replay cache that cannot answer', () => {
  it('fails closed with REPLAY_CACHE_FAILURE_STATUS, readiness not ok, and leaves an injected cache open', async () => {
    const key = await generateTestKey('ES256');
    const file = await writeTrustedClients([{ iss: 'https://ehr.example.org', jwks: jwksOf(key) }]);
    let closed = false;
    const broken: ReplayCache = {
      checkAndStore: async () => {
        throw new Error('connection reset');
      },
      ready: async () => ({ ok: false, detail: 'broken cache' }),
      close: async () => {
        closed = true;
      },
    };
    const logs = captureLogs();
    const now = Date.UTC(2031, 0, 1);
    const config = testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: 'https://cds.example.org' });
    const auth = await createAuth(config, { logger: logs.logger, now: () => now, replayCache: broken });
    const token = await signToken(key, validClaims({ iss: 'https://ehr.example.org', aud: 'https://cds.example.org/cds-services', nowMs: now }));

    const res = await request(createAuthTestApp(auth)).get('/cds-services').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(config.replayCacheFailureStatus);
    expect(res.status).toBe(503);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual(unauthorizedBody('transient'));
    expect(logs.refusalReasons()).toEqual(['replay-cache-unavailable']);
    expect(await auth.readiness()).toEqual({ ok: false, detail: 'auth required, 1 trusted client(s); broken cache' });
    await auth.close();
    expect(closed).toBe(false);
  });
});
