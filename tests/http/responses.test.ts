/** Response shape (test cases 3, 4, 5, 6) and rule isolation. */
import { describe, expect, test } from 'vitest';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { testConfig } from '../../src/config/index.js';
import { CdsResponseSchema } from '../../src/cards/schema.js';
import { clampSummary, renderCards } from '../../src/cards/render.js';
import type { CardDraft } from '../../src/model/cards.js';
import type { Rule } from '../../src/rules/contract.js';
import { runRules } from '../../src/rules/run.js';
import { dataCountRule, memoryLogger, orderSelect, patientView, testKnowledge, withFhir } from '../helpers/app.js';
import { createEngine } from '../../src/engine/index.js';
import type { HookRequest } from '../../src/hooks/request.js';

function draft(over: Partial<CardDraft>): CardDraft {
  return { ruleId: 'r', ruleVersion: '1.0.0', concern: 'c', indicator: 'info', summary: 's', evidence: [], subjects: [], ...over };
}

function ruleReturning(id: string, d: Partial<CardDraft> | Error): Rule {
  return {
    id,
    version: '1.0.0',
    concern: id,
    hooks: ['order-select', 'order-sign', 'patient-view'],
    evaluate: () => {
      if (d instanceof Error) throw d;
      return draft({ ruleId: id, concern: id, ...d });
    },
  };
}

describe('CDS response shape', () => {
  test('answers exactly {"cards":[]} when nothing applies (case 4)', async () => {
    const h = await createApp(testConfig(), { knowledge: testKnowledge([]) });
    const res = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect()).expect(200);
    expect(res.text).toBe('{"cards":[]}');
    await h.close();
  });

  test.each([['order-select', 'ldn-order-check', orderSelect()], ['patient-view', 'ldn-patient-view', patientView()]])(
    'answers a valid %s call with cards that pass the spec schema (case 3)',
    async (_hook, id, body) => {
      const h = await createApp(testConfig(), { knowledge: testKnowledge([dataCountRule]) });
      const res = await request(h.app).post(`/cds-services/${id}`).send(body).expect(200);
      const parsed = CdsResponseSchema.safeParse(res.body);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(res.body.cards).toHaveLength(1);
      expect(res.headers['cache-control']).toBe('no-store');
      await h.close();
    },
  );

  test('sorts cards most urgent first and gives every card and suggestion a uuid (cases 5, 6)', async () => {
    const rules = [
      ruleReturning('a', { indicator: 'info', summary: 'info card' }),
      ruleReturning('b', { indicator: 'critical', summary: 'critical card', suggestions: [{ label: 'Remove', actions: [{ type: 'delete', description: 'Remove the draft', resourceId: 'MedicationRequest/draft-1' }] }], overrideReasons: [{ system: 'http://x', code: 'y', display: 'Y' }] }),
      ruleReturning('c', { indicator: 'warning', summary: 'warning card' }),
    ];
    const h = await createApp(testConfig(), { knowledge: testKnowledge(rules) });
    const res = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect()).expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.text).toBe(JSON.stringify(res.body));
    expect(res.body.cards.map((c: { indicator: string }) => c.indicator)).toEqual(['critical', 'warning', 'info']);
    const parsed = CdsResponseSchema.safeParse(res.body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(res.body.cards[0].selectionBehavior).toBe('at-most-one');
    // Time-ordered (version 7) uuids on cards and suggestions (src/cards/uuid.ts).
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(res.body.cards[0].suggestions[0].uuid).toMatch(v7);
    for (const c of res.body.cards as Array<{ uuid: string }>) expect(c.uuid).toMatch(v7);
    const uuids = new Set(res.body.cards.map((c: { uuid: string }) => c.uuid));
    expect(uuids.size).toBe(3);
    // No empty optionals anywhere.
    expect(res.text).not.toMatch(/:\s*(null|""|\[\]|\{\})/);
    await h.close();
  });

  test('keeps only the most urgent card per concern (one card per concern per call)', () => {
    const rules = [
      { ...ruleReturning('low', { indicator: 'info', summary: 'low' }), concern: 'same' },
      { ...ruleReturning('high', { indicator: 'warning', summary: 'high' }), concern: 'same' },
      { ...ruleReturning('other', { indicator: 'info', summary: 'other' }), concern: 'other' },
    ].map((r) => ({ ...r, evaluate: (f: never, c: never) => ({ ...r.evaluate(f, c)!, concern: r.concern }) }));
    const drafts = runRules(rules, { hook: 'order-select' } as never, { draftOrder: () => undefined }, memoryLogger().logger);
    expect(drafts.map((d) => d.summary).sort()).toEqual(['high', 'other']);
  });

  test('renders links from the evidence catalogue and the knowledge base as source', () => {
    const [r] = renderCards([draft({ evidence: ['e1'] })], {
      sourceLabel: 'KB 1.0.0',
      evidenceLinks: (ids) => ids.map((id) => ({ label: id, url: `https://doi.org/${id}`, type: 'absolute' as const })),
    });
    expect(r!.card.source).toEqual({ label: 'KB 1.0.0' });
    expect(r!.card.links).toEqual([{ label: 'e1', url: 'https://doi.org/e1', type: 'absolute' }]);
  });

  test('isolates a failing rule: it is logged, the other rules still answer', async () => {
    const mem = memoryLogger();
    const rules = [ruleReturning('boom', new Error('kaput')), ruleReturning('fine', { summary: 'still here' })];
    const h = await createApp(testConfig({ LOG_LEVEL: 'info' }), { knowledge: testKnowledge(rules), logger: mem.logger });
    const res = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect()).expect(200);
    expect(res.body.cards.map((c: { summary: string }) => c.summary)).toEqual(['still here']);
    expect(mem.text()).toMatch(/"ruleId":"boom".*rule failed/);
    await h.close();
  });

  test('never sends a summary of 140 characters or more, and cuts at a word', () => {
    const long = `Naltrexone with ${'very-long-drug-name '.repeat(12)}`;
    const clamped = clampSummary(long);
    expect(clamped.length).toBeLessThan(140);
    expect(clamped.endsWith('…')).toBe(true);
    expect(clampSummary('short one')).toBe('short one');
  });
});

describe('memoised evaluation', () => {
  test('a body known by its digest is answered without reading its prefetch; another digest is evaluated', async () => {
    let evaluations = 0;
    const counting: Rule = { ...dataCountRule, evaluate: (f, c) => (evaluations++, dataCountRule.evaluate(f, c)) };
    const knowledge = testKnowledge([counting]);
    const engine = createEngine(knowledge, { config: testConfig(), logger: memoryLogger().logger });
    const service = knowledge.services.get('ldn-order-select')!;
    let prefetchReads = 0;
    const call = (hookInstance: string): HookRequest => {
      const { prefetch, ...rest } = orderSelect({ hookInstance });
      return Object.defineProperty(rest, 'prefetch', { get: () => (prefetchReads++, prefetch), enumerable: true }) as unknown as HookRequest;
    };
    const a = await engine.evaluate(service, call('a'), { body: { digest: 'digest-1', bytes: 1000 } });
    const readsForOne = prefetchReads;
    expect(readsForOne).toBeGreaterThan(0);
    const b = await engine.evaluate(service, call('b'), { body: { digest: 'digest-1', bytes: 1000 } });
    expect([evaluations, prefetchReads]).toEqual([1, readsForOne]);
    expect(b.response.cards[0]!.summary).toBe(a.response.cards[0]!.summary);
    expect(b.response.cards[0]!.uuid).not.toBe(a.response.cards[0]!.uuid);
    expect(b.patientHash).toBe(a.patientHash);
    await engine.evaluate(service, call('c'), { body: { digest: 'digest-2', bytes: 1000 } });
    expect([evaluations, prefetchReads]).toEqual([2, readsForOne * 2]);
  });

  test('over HTTP: the same body with another hookInstance and another access token is recognised', async () => {
    let evaluations = 0;
    const counting: Rule = { ...dataCountRule, evaluate: (f, c) => (evaluations++, dataCountRule.evaluate(f, c)) };
    const h = await createApp(testConfig(), { knowledge: testKnowledge([counting]) });
    await request(h.app).post('/cds-services/ldn-order-check').send(withFhir(orderSelect(), 'token-one')).expect(200);
    await request(h.app).post('/cds-services/ldn-order-check').send(withFhir(orderSelect({ hookInstance: 'call-2' }), 'token-two')).expect(200);
    expect(evaluations).toBe(1);
    const changed = withFhir(orderSelect({ hookInstance: 'call-3' }), 'token-two');
    const draftOrder = (changed.context as { draftOrders: { entry: { resource: { medicationCodeableConcept: { text: string } } }[] } }).draftOrders.entry[0]!.resource;
    draftOrder.medicationCodeableConcept.text = 'metformin 1000 mg tablet';
    await request(h.app).post('/cds-services/ldn-order-check').send(changed).expect(200);
    expect(evaluations).toBe(2);
    await h.close();
  });

  test('a resent chart is answered from the memo with fresh card uuids; a changed chart is evaluated again', async () => {
    let evaluations = 0;
    const counting: Rule = { ...dataCountRule, evaluate: (f, c) => (evaluations++, dataCountRule.evaluate(f, c)) };
    const h = await createApp(testConfig(), { knowledge: testKnowledge([counting]) });
    const a = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect()).expect(200);
    const b = await request(h.app).post('/cds-services/ldn-order-check').send(orderSelect({ hookInstance: 'another-call' })).expect(200);
    expect(evaluations).toBe(1);
    expect(b.body.cards[0].summary).toBe(a.body.cards[0].summary);
    expect(b.body.cards[0].uuid).not.toBe(a.body.cards[0].uuid);
    const changed = orderSelect();
    (changed.prefetch as Record<string, unknown>).conditions = { resourceType: 'Bundle', type: 'searchset', entry: [] };
    const c = await request(h.app).post('/cds-services/ldn-order-check').send(changed).expect(200);
    expect(evaluations).toBe(2);
    expect(c.body.cards[0].summary).toBe('1 medications, 0 conditions');
    const metrics = await request(h.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/ldn_cds_evaluation_memo_total\{result="hit"\} 1/);
    // Cards are counted on every call, memoised or not.
    expect(metrics.text).toMatch(new RegExp(`ldn_cds_cards_total\\{rule="test-data-count",indicator="${a.body.cards[0].indicator}"\\} 3`));
    await h.close();
  });
});
