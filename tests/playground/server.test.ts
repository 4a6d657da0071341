/**
 * The playground's server side through the real app: the page and its CSP, the scenario list, the token endpoint
 * (own CDS URLs only, same origin only, short-lived one-time tokens that the real auth layer accepts), and that
 * nothing of it exists when PLAYGROUND=off.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPlayground, loopbackOnly, PLAYGROUND_CSP, type PlaygroundScenario } from '../../src/playground/index.js';
import { createSigner } from '../../src/playground/signer.js';
import { memoryLogger } from '../helpers/app.js';

const BASE = 'http://localhost:3000'; // testConfig's default PUBLIC_BASE_URL
const SERVICE = `${BASE}/cds-services/ldn-order-check`;
const knowledge = loadKnowledge(testConfig().cdsServicesDir);

async function appWith(env: NodeJS.ProcessEnv, logger = createLogger('silent')): Promise<AppHandle> {
  return createApp(testConfig(env), { knowledge, logger });
}

function mint(h: AppHandle, aud: unknown) {
  return request(h.app).post('/playground/token').set('content-type', 'application/json').send(JSON.stringify({ aud }));
}

let demoRequest: Record<string, unknown>;

describe('PLAYGROUND=on, AUTH_MODE=required', () => {
  const logs = memoryLogger('debug');
  let h: AppHandle;
  beforeAll(async () => {
    h = await appWith({ AUTH_MODE: 'required', PLAYGROUND: 'on' }, logs.logger);
  });
  afterAll(() => h.close());

  test('GET / is the page, with a strict CSP and no inline script or style', async () => {
    const res = await request(h.app).get('/').expect(200).expect('content-type', /text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const html = res.text;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="playground\/[a-z]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:|https?:\/\//i);
    expect(html).toMatch(/<main\b/);
    expect(html).toMatch(/aria-live="polite"/);
  });

  test('the CSP constant is the one sent', () => {
    expect(PLAYGROUND_CSP['script-src']).toEqual(["'self'"]);
    expect(PLAYGROUND_CSP['default-src']).toEqual(["'self'"]);
  });

  test('assets are served from an allow-list, with their types', async () => {
    await request(h.app).get('/playground/app.js').expect(200).expect('content-type', /text\/javascript/);
    await request(h.app).get('/playground/markdown.js').expect(200).expect('content-type', /text\/javascript/);
    await request(h.app).get('/playground/ehr.js').expect(200).expect('content-type', /text\/javascript/);
    const css = await request(h.app).get('/playground/styles.css').expect(200).expect('content-type', /text\/css/);
    expect(css.headers['content-security-policy']).toContain("default-src 'self'");
    for (const p of ['/playground/markdown.d.ts', '/playground/index.html', '/playground/../../package.json', '/playground/%2e%2e/%2e%2e/package.json', '/playground/']) {
      await request(h.app).get(p).expect(404);
    }
  });

  test('GET /playground/config says how the page must call', async () => {
    const res = await request(h.app).get('/playground/config').expect(200);
    expect(res.body).toEqual({
      authMode: 'required',
      publicBaseUrls: [BASE],
      issuer: `${BASE}/playground`,
      tokenLifetimeS: 120,
      reset: true,
      knowledge: { name: knowledge.name, version: knowledge.version },
    });
  });

  test('GET /playground/scenarios lists every scenario case, demo cases first, each a complete valid hook request', async () => {
    const res = await request(h.app).get('/playground/scenarios').expect(200);
    const list = res.body.scenarios as PlaygroundScenario[];
    expect(list.length).toBeGreaterThan(40);
    expect(list[0]).toMatchObject({ id: 'playground.yaml#0', file: 'scenarios/playground.yaml', name: 'LDN + oxycodone', hook: 'order-select', patient: { id: 'pg-playground-1' } });
    const first = list[0]!;
    expect(first.medications).toHaveLength(2);
    expect(first.conditions).toHaveLength(1);
    expect(first.draftOrders).toEqual([expect.objectContaining({ resourceType: 'MedicationRequest', status: 'draft', medicationCodeableConcept: { text: 'Naltrexone 1.5 mg capsule (compounded)' } })]);
    expect(list.some((s) => s.file === 'scenarios/ldn-ms-spasticity.yaml' && /4\.5 mg/.test(s.name))).toBe(true);
    const fixture = list.find((s) => s.file === 'requests/order-select-ldn-oxycodone.json')!;
    expect(fixture.patient).toEqual({ id: 'ldn-demo-1', name: 'Alex Rivera', gender: 'female', birthDate: '1980-05-17' });
    // Each scenario case is its own patient: one dismissal must not hold cards back in another scenario.
    const scenarioCases = list.filter((s) => s.file.startsWith('scenarios/'));
    expect(new Set(scenarioCases.map((s) => s.patient.id)).size).toBe(scenarioCases.length);
    for (const s of scenarioCases) expect(s.patient.id).toMatch(/^pg-[A-Za-z0-9.-]+-\d+$/);
    expect(JSON.stringify(first.request)).not.toContain('scenario-patient');
    const ids = new Set<string>();
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(['conditions', 'draftOrders', 'file', 'group', 'hook', 'id', 'medications', 'name', 'patient', 'request']);
      expect(ids.has(s.id), s.id).toBe(false);
      ids.add(s.id);
      const service = knowledge.services.all().find((x) => x.hooks.includes(s.hook as 'order-select'))!;
      expect(() => parseHookRequest(s.request, service.hooks, service.id), s.id).not.toThrow();
      expect(s.request.hook).toBe(s.hook);
    }
    demoRequest = first.request;
  });

  test('the token endpoint refuses any aud that is not exactly one of this service’s CDS URLs', async () => {
    const refused = [
      'https://evil.example/cds-services/ldn-order-check',
      `${BASE}/cds-services/ldn-order-check/`,
      `${BASE}/cds-services/ldn-order-check?x=1`,
      `${BASE}/cds-services/ldn-order-check#x`,
      `${BASE}/cds-services/unknown-service`,
      `${BASE}/admin/analytics`,
      `${BASE}/playground/token`,
      `${BASE}/`,
      'http://LOCALHOST:3000/cds-services',
      'https://localhost:3000/cds-services',
      'http://localhost:3001/cds-services',
      [SERVICE],
      '',
      null,
      42,
    ];
    for (const aud of refused) {
      const res = await mint(h, aud);
      expect(res.status, JSON.stringify(aud)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.token).toBeUndefined();
    }
    await request(h.app).post('/playground/token').set('content-type', 'application/json').send('{}').expect(400);
    await request(h.app).post('/playground/token').set('content-type', 'text/plain').send(SERVICE).expect(415);
    await request(h.app).post('/playground/token').set('content-type', 'application/json').send('{"aud":').expect(400);
  });

  test('a minted token: ES384, own issuer, exactly the asked aud, unique jti, lifetime ≤ 5 minutes, verifiable with the trusted key', async () => {
    const a = await mint(h, SERVICE).expect(200);
    const b = await mint(h, SERVICE).expect(200);
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.body).toMatchObject({ tokenType: 'Bearer', aud: SERVICE, expiresIn: 120 });
    const header = decodeProtectedHeader(a.body.token);
    expect(header).toMatchObject({ alg: 'ES384', typ: 'JWT' });
    expect(header.kid).toMatch(/^playground-/);
    const claims = decodeJwt(a.body.token);
    expect(claims.iss).toBe(`${BASE}/playground`);
    expect(claims.aud).toBe(SERVICE);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(30);
    expect(claims.jti).not.toBe(decodeJwt(b.body.token).jti);

    const playground = await createPlayground(testConfig({ AUTH_MODE: 'required', PLAYGROUND: 'on' }), { logger: createLogger('silent'), knowledge });
    expect(playground.trustedClients).toHaveLength(1);
    const other = playground.trustedClients[0]!;
    expect(other.iss).toBe(`${BASE}/playground`);
    expect(other.jkuAllow).toEqual([]);
    // A different start = a different key: this app's token does not verify under another instance's key.
    if (other.keys.kind !== 'local') throw new Error('expected a local key set');
    expect(JSON.stringify(other.keys.jwks)).not.toMatch(/"d"/);
    await expect(jwtVerify(a.body.token, createLocalJWKSet(other.keys.jwks))).rejects.toThrow();
  });

  test('tokens work through the real auth: service call 200 with cards, feedback 200; without a token 401', async () => {
    expect(demoRequest).toBeDefined();
    await request(h.app).post('/cds-services/ldn-order-check').send(demoRequest).expect(401);

    const token = (await mint(h, SERVICE).expect(200)).body.token as string;
    const res = await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${token}`).send(demoRequest).expect(200);
    expect(res.body.cards.map((c: { indicator: string }) => c.indicator)).toEqual(['critical', 'warning']);

    // One-time: the same token again is a replay.
    await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${token}`).send(demoRequest).expect(401);
    // Audience-bound: a discovery token does not open the service.
    const discoveryToken = (await mint(h, `${BASE}/cds-services`).expect(200)).body.token as string;
    await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${discoveryToken}`).send(demoRequest).expect(401);

    const discovery = (await mint(h, `${BASE}/cds-services`).expect(200)).body.token as string;
    await request(h.app).get('/cds-services').set('authorization', `Bearer ${discovery}`).expect(200);

    const card = res.body.cards[0];
    const feedbackToken = (await mint(h, `${SERVICE}/feedback`).expect(200)).body.token as string;
    await request(h.app)
      .post('/cds-services/ldn-order-check/feedback')
      .set('authorization', `Bearer ${feedbackToken}`)
      .send({ feedback: [{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions[0].uuid }], outcomeTimestamp: new Date().toISOString() }] })
      .expect(200, {});
    const rules = await h.storage.analytics({});
    expect(rules.find((r) => r.ruleId === 'ldn-with-opioid')).toMatchObject({ accepted: 1 });
  });

  test('tokens go to the page only: other origins and cross-site fetches are refused, and no CORS grant is given', async () => {
    const cross = await request(h.app).post('/playground/token').set('origin', 'https://evil.example').set('content-type', 'application/json').send({ aud: SERVICE });
    expect(cross.status).toBe(403);
    expect(cross.body.token).toBeUndefined();
    expect(cross.headers['access-control-allow-origin']).toBeUndefined();
    await request(h.app).post('/playground/token').set('sec-fetch-site', 'cross-site').set('content-type', 'application/json').send({ aud: SERVICE }).expect(403);
    await request(h.app).post('/playground/token').set('sec-fetch-site', 'same-site').set('content-type', 'application/json').send({ aud: SERVICE }).expect(403);
    const same = await request(h.app).post('/playground/token').set('origin', BASE).set('sec-fetch-site', 'same-origin').set('content-type', 'application/json').send({ aud: SERVICE }).expect(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
    // Elsewhere the app's CORS policy is unchanged.
    const page = await request(h.app).get('/playground/config').set('origin', 'https://evil.example');
    expect(page.headers['access-control-allow-origin']).toBe('*');
  });

  test('minted tokens never reach the log', async () => {
    const token = (await mint(h, SERVICE).expect(200)).body.token as string;
    await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${token}`).send(demoRequest).expect(200);
    await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${token}`).send(demoRequest).expect(401); // a refusal is logged
    const text = logs.text();
    expect(text).toContain('/playground/token');
    expect(text).toContain('playground on: signing key generated');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2]!);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

describe('PLAYGROUND=off', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await appWith({ AUTH_MODE: 'required', PLAYGROUND: 'off' });
  });
  afterAll(() => h.close());

  test('nothing is served: /, assets, config, scenarios and the token endpoint are 404', async () => {
    await request(h.app).get('/').expect(404);
    await request(h.app).get('/playground/app.js').expect(404);
    await request(h.app).get('/playground/config').expect(404);
    await request(h.app).get('/playground/scenarios').expect(404);
    await request(h.app).post('/playground/token').set('content-type', 'application/json').send({ aud: SERVICE }).expect(404);
  });

  test('no client is added, so the playground issuer is not trusted', async () => {
    const playground = await createPlayground(testConfig({ AUTH_MODE: 'required', PLAYGROUND: 'off' }), { logger: createLogger('silent'), knowledge });
    expect(playground.trustedClients).toEqual([]);
    // A token that would be perfect if the issuer were trusted.
    const signer = await createSigner({ publicBaseUrls: [BASE], serviceIds: ['ldn-order-check'] });
    const minted = await signer.mint(SERVICE);
    const res = await request(h.app).post('/cds-services/ldn-order-check').set('authorization', `Bearer ${minted!.token}`).send(demoRequest ?? {});
    expect(res.status).toBe(401);
  });

  test('production turns it off by default, and refuses PLAYGROUND=on (issue 12 §4)', () => {
    const env = { NODE_ENV: 'production', AUTH_MODE: 'required', PUBLIC_BASE_URL: 'https://cds.example.org', PATIENT_ID_HASH_KEY: 'k'.repeat(32), LOG_LEVEL: 'silent' } as const;
    expect(testConfig(env).playground).toBe(false);
    expect(() => testConfig({ ...env, PLAYGROUND: 'on' })).toThrow(/PLAYGROUND: "on" is refused when NODE_ENV=production/);
    expect(testConfig({ ...env, PLAYGROUND: 'off' }).playground).toBe(false);
  });
});

describe('PLAYGROUND=on, AUTH_MODE=off', () => {
  test('the page works without tokens: no signing key, no token endpoint', async () => {
    const playground = await createPlayground(testConfig({ AUTH_MODE: 'off', PLAYGROUND: 'on' }), { logger: createLogger('silent'), knowledge });
    expect(playground.trustedClients).toEqual([]);
    const h = await appWith({ AUTH_MODE: 'off', PLAYGROUND: 'on' });
    try {
      await request(h.app).get('/').expect(200);
      const config = await request(h.app).get('/playground/config').expect(200);
      expect(config.body).toEqual({ authMode: 'off', publicBaseUrls: [BASE], reset: true, knowledge: { name: knowledge.name, version: knowledge.version } });
      await request(h.app).post('/playground/token').set('content-type', 'application/json').send({ aud: SERVICE }).expect(404);
    } finally {
      await h.close();
    }
  });
});

describe('start-up', () => {
  test('an incomplete page refuses to start, naming what is missing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'playground-'));
    writeFileSync(path.join(dir, 'index.html'), readFileSync(path.join(PROJECT_ROOT, 'src/web/playground/index.html')));
    await expect(createPlayground(testConfig({ PLAYGROUND: 'on' }), { logger: createLogger('silent'), knowledge, webDir: dir })).rejects.toThrow(/app\.js.*missing/);
  });

  test('missing scenario folders leave an empty list and a warning, not a failure', async () => {
    const logs = memoryLogger('warn');
    const dir = mkdtempSync(path.join(tmpdir(), 'playground-fixtures-'));
    const playground = await createPlayground(testConfig({ PLAYGROUND: 'on' }), { logger: logs.logger, knowledge, fixturesDir: dir });
    const app = (await import('express')).default();
    app.use(playground.router);
    const res = await request(app).get('/playground/scenarios').expect(200);
    expect(res.body).toEqual({ scenarios: [] });
    expect(logs.text()).toContain('scenario source skipped');
  });

  test('the issuer is the first public base URL + /playground, and tokens may name any configured base', async () => {
    const signer = await createSigner({ publicBaseUrls: ['https://a.example', 'https://b.example/ldn'], serviceIds: ['svc'] });
    expect(signer.iss).toBe('https://a.example/playground');
    expect([...signer.audiences].sort()).toEqual([
      'https://a.example/cds-services',
      'https://a.example/cds-services/svc',
      'https://a.example/cds-services/svc/feedback',
      'https://b.example/ldn/cds-services',
      'https://b.example/ldn/cds-services/svc',
      'https://b.example/ldn/cds-services/svc/feedback',
    ]);
    expect(await signer.mint('https://b.example/ldn/cds-services/svc')).toMatchObject({ aud: 'https://b.example/ldn/cds-services/svc' });
    expect(await signer.mint('https://c.example/cds-services/svc')).toBeUndefined();
  });
});

describe('playground tokens and the network', () => {
  const call = (remoteAddress: string) => {
    let error: unknown = 'not called';
    loopbackOnly()({ socket: { remoteAddress } } as never, {} as never, (e?: unknown) => (error = e));
    return error;
  };

  test('by default only clients on this machine get a token', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(call(a)).toBeUndefined();
    for (const a of ['10.0.0.5', '192.168.1.20', '::ffff:10.1.2.3', '2001:db8::1']) expect((call(a) as { outcome: { status: number } }).outcome.status).toBe(403);
  });

  test('PLAYGROUND=on (explicit) lifts the restriction; the development default does not', () => {
    expect(testConfig({ PLAYGROUND: 'on' }).playgroundTokensForAnyHost).toBe(true);
    expect(testConfig({}).playgroundTokensForAnyHost).toBe(false);
    expect(testConfig({}).playground).toBe(true);
  });
});

describe('suppression in the playground', () => {
  /** The demo case's request, as the page sends it. */
  async function demo(h: AppHandle, name: string): Promise<Record<string, unknown>> {
    const list = (await request(h.app).get('/playground/scenarios').expect(200)).body.scenarios as PlaygroundScenario[];
    return list.find((s) => s.name === name)!.request;
  }
  const call = (h: AppHandle, body: Record<string, unknown>) => request(h.app).post('/cds-services/ldn-order-check').send({ ...body, hookInstance: randomUUID() }).expect(200);
  test('a held-back card is counted in the response extension, other scenarios are untouched, and the reset brings it back', async () => {
    const h = await appWith({ AUTH_MODE: 'off', PLAYGROUND: 'on' });
    try {
      const oxy = await demo(h, 'LDN + oxycodone');
      const first = await call(h, oxy);
      expect(first.body.extension).toBeUndefined();
      const warning = (first.body.cards as { uuid: string; indicator: string; overrideReasons?: { system: string; code: string }[] }[]).find((c) => c.indicator === 'warning')!;
      const monitor = warning.overrideReasons!.find((r) => r.code === 'will-monitor')!;
      await request(h.app)
        .post('/cds-services/ldn-order-check/feedback')
        .send({ feedback: [{ card: warning.uuid, outcome: 'overridden', overrideReason: { reason: monitor }, outcomeTimestamp: new Date().toISOString() }] })
        .expect(200);

      const again = await call(h, oxy);
      expect(again.body.cards.map((c: { indicator: string }) => c.indicator)).toEqual(['critical']);
      expect(again.body.extension).toEqual({ 'ldn-cds.suppressed': 1 });

      // The same interferon-beta rule for another scenario's patient still shows.
      const list = (await request(h.app).get('/playground/scenarios').expect(200)).body.scenarios as PlaygroundScenario[];
      const other = list.find((s) => s.file === 'scenarios/ldn-with-interferon-beta.yaml' && s.hook === 'order-select')!;
      const otherCall = await call(h, other.request);
      expect(otherCall.body.cards.map((c: { indicator: string }) => c.indicator)).toContain('warning');
      expect(otherCall.body.extension).toBeUndefined();

      // Reset: same-origin POST from this machine; the card is back and nothing is reported held back.
      const reset = await request(h.app).post('/playground/reset').expect(200);
      expect(reset.body).toMatchObject({ suppressionsRemoved: 1 });
      expect(reset.body.patients).toBeGreaterThan(40);
      const after = await call(h, oxy);
      expect(after.body.cards.map((c: { indicator: string }) => c.indicator)).toEqual(['critical', 'warning']);
      expect(after.body.extension).toBeUndefined();

      await request(h.app).post('/playground/reset').set('origin', 'https://evil.example').expect(403);
    } finally {
      await h.close();
    }
  });

  test('the reset does not exist in production: the playground itself refuses to run there', async () => {
    const config = { ...testConfig({ PLAYGROUND: 'on' }), env: 'production' as const };
    const storage = { forgetPatients: async () => 99 };
    await expect(createPlayground(config, { logger: createLogger('silent'), knowledge, storage })).rejects.toThrow(/PLAYGROUND: "on" is refused when NODE_ENV=production/);
  });
});
