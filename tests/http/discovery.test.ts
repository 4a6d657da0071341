import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import { DiscoverySchema } from '../../src/cards/schema.js';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { testApp, testKnowledge } from '../helpers/app.js';

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

  test('lists one entry per (id, hook): ldn-order-check for order-select and order-sign, ldn-patient-view', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    const pairs = res.body.services.map((s: { id: string; hook: string }) => `${s.id}:${s.hook}`).sort();
    expect(pairs).toEqual(['ldn-order-check:order-select', 'ldn-order-check:order-sign', 'ldn-patient-view:patient-view']);
  });

  test('never exposes private service fields (rules, optionalPrefetch, file)', async () => {
    const res = await request(h.app).get('/cds-services').expect(200);
    for (const s of res.body.services) {
      expect(Object.keys(s).sort()).toEqual(['description', 'hook', 'id', 'prefetch', 'title', 'usageRequirements']);
      for (const template of Object.values(s.prefetch as Record<string, string>)) expect(template).toMatch(/\{\{context\.patientId\}\}/);
    }
  });

  test('answers {"services":[]} when no service is configured', async () => {
    const empty = await createApp(testConfig(), { knowledge: testKnowledge([], []) });
    const res = await request(empty.app).get('/cds-services').expect(200);
    expect(res.body).toEqual({ services: [] });
    await empty.close();
  });
});
