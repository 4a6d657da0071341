import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import { DiscoverySchema } from '../../src/cards/schema.js';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICES_DIR, orderSelect, patientView, testApp, testKnowledge } from '../helpers/app.js';

describe('GET /cds-services (discovery, spec §1)', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(() => h.close());

  test('answers 200 JSON {services:[…]} whose entries pass the spec schema (no empty optionals)', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const parsed = DiscoverySchema.safeParse(res.body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    // The sandbox treats an empty list as a failure.
    expect(res.body.services.length).toBeGreaterThan(0);
  });

  test('lists one entry per id, each for one hook; the former shared id ldn-order-check is not listed', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    const pairs = res.body.services.map((s: { id: string; hook: string }) => `${s.id}:${s.hook}`).sort();
    // Derived from the service files (each maps hook → id), so a pharmacist's new service file changes nothing here.
    const { parse } = await import('yaml');
    const dir = path.join(SERVICES_DIR, 'services');
    const declared = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => Object.entries((parse(readFileSync(path.join(dir, f), 'utf8')) as { hooks: Record<string, string> }).hooks).map(([hook, id]) => `${id}:${hook}`))
      .sort();
    expect(pairs).toEqual(declared);
    expect(pairs).toEqual(expect.arrayContaining(['ldn-order-select:order-select', 'ldn-order-sign:order-sign', 'ldn-patient-view:patient-view']));
    expect(pairs).not.toContainEqual(expect.stringMatching(/^ldn-order-check:/));
  });

  test('CDS Hooks 3.0 ballot fields: version (of CDS Hooks implemented), hookVersion as published, the knowledge pack version', async () => {
    const real = await createApp(testConfig());
    const res = await request(real.app).get('/cds-services').expect(200);
    await real.close();
    const { version } = (await import('yaml')).parse(readFileSync(path.join(SERVICES_DIR, 'knowledge.yaml'), 'utf8')) as { version: string };
    for (const s of res.body.services) {
      expect(s.version).toBe('2.0.1');
      expect(s.hookVersion).toBe('1.0');
      expect(s.extension).toEqual({ 'org.example.ldn-cds.knowledge-pack': { name: 'LDN CDS knowledge base', version } });
    }
  });

  test('never exposes private service fields (rules, optionalPrefetch, file, formerIds)', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    for (const s of res.body.services) {
      expect(Object.keys(s).sort()).toEqual(['description', 'extension', 'hook', 'hookVersion', 'id', 'prefetch', 'title', 'usageRequirements', 'version']);
      for (const template of Object.values(s.prefetch as Record<string, string>)) expect(template).toMatch(/\{\{context\.patientId\}\}/);
    }
  });

  test('the former shared id ldn-order-check still answers both order hooks (routed by hook), and nothing else', async () => {
    const select = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect()).expect(200);
    expect(select.body.cards).toHaveLength(1);
    const sign = await request(h.app).post('/cds-services/ldn-order-check').send({ ...orderSelect({ hook: 'order-sign' }), context: { ...(orderSelect().context as object), selections: undefined } }).expect(200);
    expect(sign.body.cards).toHaveLength(1);
    const wrong = await request(h.app).post('/cds-services/ldn-order-check').send(patientView()).expect(400);
    expect(wrong.body.issue[0].details.text).toBe('Service "ldn-order-check" does not serve hook "patient-view" (it serves: order-select, order-sign)');
    await request(h.app).post('/cds-services/ldn-order-select').send(orderSelect({ hook: 'order-sign' })).expect(400);
  });

  test('answers {"services":[]} when no service is configured', async () => {
    const empty = await createApp(testConfig(), { knowledge: testKnowledge([], []) });
    const res = await request(empty.app).get('/cds-services').expect(200);
    expect(res.body).toEqual({ services: [] });
    await empty.close();
  });
});
