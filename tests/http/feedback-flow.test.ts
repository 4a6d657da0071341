/**
 * Feedback through the real app and knowledge pack (issue 5): a card is shown, overridden with an acknowledging
 * reason, and then held back for the same patient and drug pair; critical cards still show; select→sign
 * coordination drops a repeated info card; analytics count it all.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import request from 'supertest';
import { createApp, type AppHandle } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { hookRequest } from '../../src/scenarios/build.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const ADMIN = 'admin-token-for-tests';

function order(hook: 'order-select' | 'order-sign', patient: string, extraMeds: object[] = []) {
  const body = hookRequest(
    {
      name: 'x',
      hook,
      medications: [{ text: 'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)' }, ...extraMeds],
      conditions: [],
      orders: [{ id: 'ldn-draft', text: 'Naltrexone 4.5 mg capsule (compounded)', dose: '4.5 mg', when: 'HS' }],
      expect: [],
    },
    NOW,
  );
  // The whole chart is the patient's (resources for another patient than context.patientId never reach the facts).
  return JSON.parse(JSON.stringify(body).replaceAll('scenario-patient', patient)) as Record<string, unknown>;
}

describe('feedback → suppression → analytics, end to end', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await createApp(testConfig({ ADMIN_TOKEN: ADMIN }), { now: () => NOW });
  });
  afterAll(() => h.close());
  const call = (body: object) => request(h.app).post('/cds-services/ldn-order-check').send(body).expect(200);
  const rules = (res: request.Response) => res.body.cards.map((c: { summary: string; indicator: string }) => c.indicator + ':' + c.summary.split(':')[0]);

  test('an acknowledging override holds the same card back for that patient; others still see it', async () => {
    const first = await call(order('order-select', 'patient-a'));
    const warning = first.body.cards.find((c: { summary: string }) => /interferon/.test(c.summary));
    expect(warning).toBeDefined();
    await request(h.app)
      .post('/cds-services/ldn-order-check/feedback')
      .send({ feedback: [{ card: warning.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T09:00:05Z', overrideReason: { reason: { system: 'http://ldn-cds.example.org/fhir/CodeSystem/override-reasons', code: 'will-monitor' } } }] })
      .expect(200, {});
    const again = await call(order('order-select', 'patient-a'));
    expect(again.body.cards.some((c: { summary: string }) => /interferon/.test(c.summary))).toBe(false);
    const other = await call(order('order-select', 'patient-b'));
    expect(other.body.cards.some((c: { summary: string }) => /interferon/.test(c.summary))).toBe(true);
  });

  test('a non-acknowledging reason (data-incorrect) holds nothing back', async () => {
    const first = await call(order('order-select', 'patient-c'));
    const warning = first.body.cards.find((c: { summary: string }) => /interferon/.test(c.summary));
    await request(h.app)
      .post('/cds-services/ldn-order-check/feedback')
      .send({ feedback: [{ card: warning.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T09:00:05Z', overrideReason: { reason: { system: 'http://ldn-cds.example.org/fhir/CodeSystem/override-reasons', code: 'data-incorrect' } } }] })
      .expect(200);
    const again = await call(order('order-select', 'patient-c'));
    expect(again.body.cards.some((c: { summary: string }) => /interferon/.test(c.summary))).toBe(true);
  });

  test('a critical card is never held back by an override', async () => {
    const opioid = [{ code: 'rxnorm:1049621', display: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }];
    const first = await call(order('order-select', 'patient-d', opioid));
    const critical = first.body.cards.find((c: { indicator: string }) => c.indicator === 'critical');
    await request(h.app)
      .post('/cds-services/ldn-order-check/feedback')
      .send({ feedback: [{ card: critical.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T09:00:05Z', overrideReason: { reason: { system: 'http://ldn-cds.example.org/fhir/CodeSystem/override-reasons', code: 'benefit-outweighs-risk' } } }] })
      .expect(200);
    const again = await call(order('order-select', 'patient-d', opioid));
    expect(again.body.cards.some((c: { indicator: string }) => c.indicator === 'critical')).toBe(true);
  });

  test('an info card shown at order-select is not repeated at order-sign for the same order; warnings are', async () => {
    const select = await call(order('order-select', 'patient-e'));
    expect(rules(select)).toEqual(expect.arrayContaining(['info:Check the LDN 4.5 mg/day order', 'warning:LDN 4.5 mg/day with interferon beta-1a']));
    const sign = await call(order('order-sign', 'patient-e'));
    expect(rules(sign)).toEqual(['warning:LDN 4.5 mg/day with interferon beta-1a']);
  });

  test('analytics count shown and overridden cards per rule (admin token required)', async () => {
    await request(h.app).get('/admin/analytics').expect(401);
    const res = await request(h.app).get('/admin/analytics').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    const interferon = res.body.rules.find((r: { ruleId: string }) => r.ruleId === 'ldn-with-interferon-beta');
    expect(interferon.shown).toBeGreaterThanOrEqual(5);
    expect(interferon.overridden).toBe(2);
  });
});
