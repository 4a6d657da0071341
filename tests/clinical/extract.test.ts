import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chart, draft, extractor, ICD10CM, NOW, realisticChart, rx, statement } from './helpers.js';
import { CAPTURES_DIR, hasShared } from '../helpers/shared.js';

interface Capture {
  body: {
    context: { selections?: string[]; draftOrders?: { entry?: { resource?: unknown }[] } };
    prefetch: Record<string, { entry?: { resource?: unknown }[] } | undefined>;
  };
}

function captureChart(file: string, hook: 'patient-view' | 'order-select' | 'order-sign'): ReturnType<typeof chart> {
  const { body } = JSON.parse(readFileSync(path.join(CAPTURES_DIR, file), 'utf8')) as Capture;
  const resources = ['medications', 'conditions'].flatMap((k) => (body.prefetch[k]?.entry ?? []).map((e) => e.resource));
  return chart(hook, {
    draftOrders: (body.context.draftOrders?.entry ?? []).map((e) => e.resource),
    selections: body.context.selections ?? [],
    resources,
  });
}

describe('focus, orders and medications', () => {
  const a = draft('a', { text: 'Naltrexone 4.5 mg capsule (compounded)' });
  const b = draft('b', { coding: [rx('1049621')] });
  const serviceRequest = { resourceType: 'ServiceRequest', id: 'lab', status: 'draft' };

  it('order-select: focus is the selected drafts; orders are all drafts; non-medication drafts are ignored', () => {
    const facts = extractor()(chart('order-select', { draftOrders: [a, serviceRequest, b], selections: ['MedicationRequest/b'] }), NOW);
    expect(facts.focus.map((f) => f.ref)).toEqual(['MedicationRequest/b']);
    expect(facts.orders.map((f) => f.ref)).toEqual(['MedicationRequest/a', 'MedicationRequest/b']);
    expect(facts.orders.every((o) => o.source === 'draft-order')).toBe(true);
  });

  it('order-select: focus is all drafts when selections are empty or match nothing', () => {
    for (const selections of [[], ['MedicationRequest/zzz']]) {
      const facts = extractor()(chart('order-select', { draftOrders: [a, b], selections }), NOW);
      expect(facts.focus.map((f) => f.ref), JSON.stringify(selections)).toEqual(['MedicationRequest/a', 'MedicationRequest/b']);
    }
  });

  it('order-sign: focus is all drafts', () => {
    expect(extractor()(chart('order-sign', { draftOrders: [a, b], selections: ['MedicationRequest/a'] }), NOW).focus).toHaveLength(2);
  });

  it('patient-view: focus is the current medications; excluded ones are dropped from medications', () => {
    const resources = [
      statement('cur', { text: 'tramadol 50 mg' }),
      statement('old', { text: 'tramadol 50 mg' }, { status: 'completed', effectivePeriod: { end: '2026-10-01' } }),
      statement('err', { text: 'tramadol 50 mg' }, { status: 'entered-in-error' }),
      draft('rq', { text: 'tramadol 50 mg' }, { status: 'active' }),
      draft('stray-draft', { text: 'tramadol 50 mg' }),
    ];
    const facts = extractor()(chart('patient-view', { resources }), NOW);
    expect(facts.medications.map((m) => m.ref)).toEqual(['MedicationStatement/cur', 'MedicationStatement/old', 'MedicationRequest/rq']);
    expect(facts.focus.map((m) => m.ref)).toEqual(['MedicationStatement/cur', 'MedicationRequest/rq']);
    expect(facts.orders).toEqual([]);
    expect(facts.medications.find((m) => m.ref === 'MedicationRequest/rq')?.source).toBe('medication-request');
  });

  it('returns hook, now and conditions', () => {
    const facts = extractor()(chart('patient-view', { resources: [{ resourceType: 'Condition', id: 'c', code: { coding: [{ system: ICD10CM, code: 'G35.A' }] } }] }), NOW);
    expect(facts).toMatchObject({ hook: 'patient-view', now: '2026-11-21', conditions: [{ ref: 'Condition/c', isMultipleSclerosis: true, active: true }] });
  });

  it('gives resources without an id a placeholder reference by position', () => {
    const { id: _id, ...noId } = a;
    expect(extractor()(chart('order-sign', { draftOrders: [noId] }), NOW).focus[0]?.ref).toBe('MedicationRequest/#0');
  });
});

describe.skipIf(!hasShared)('the CDS Hooks Sandbox captures', () => {
  it('03-order-select: 50 mg naltrexone draft is full-dose; oxycodone is a current opioid; text-only interferon is found', () => {
    const facts = extractor()(captureChart('03-order-select.json', 'order-select'), NOW);
    expect(facts.focus).toHaveLength(1);
    expect(facts.focus[0]).toMatchObject({ ref: 'MedicationRequest/request-123', isNaltrexone: true, naltrexoneRole: 'full-dose', dailyDoseMg: 50, doseBasis: 'structured' });
    expect(facts.medications.find((m) => m.isOpioid)).toMatchObject({ ref: 'MedicationStatement/ldn-demo-1-oxycodone', current: true, dailyDoseMg: 20 });
    expect(facts.medications.find((m) => m.isInterferonBeta)).toMatchObject({ ref: 'MedicationStatement/ldn-demo-1-interferon', current: true });
    expect(facts.conditions.filter((c) => c.active).map((c) => [c.isMultipleSclerosis, c.isSpasticity])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('03a-order-select-before-drug: a draft with no drug yet yields a harmless order', () => {
    const facts = extractor()(captureChart('03a-order-select-before-drug.json', 'order-select'), NOW);
    expect(facts.focus).toHaveLength(1);
    expect(facts.focus[0]).toMatchObject({ isNaltrexone: false, isOpioid: false });
  });
});

describe('caching', () => {
  it('serves a resent chart from the cache and returns equal facts', () => {
    const extract = extractor();
    const first = extract(realisticChart(), NOW);
    const missesAfterFirst = extract.cacheStats().misses;
    expect(missesAfterFirst).toBeGreaterThan(0);
    // A resent chart is freshly parsed JSON: new objects, same content.
    const second = extract(realisticChart(), NOW);
    expect(extract.cacheStats().misses).toBe(missesAfterFirst);
    expect(second).toEqual(first);
  });

  it('recomputes time-dependent fields on a cache hit', () => {
    const extract = extractor();
    const c = chart('patient-view', { resources: [statement('s', { text: 'oxycodone 5 mg' }, { status: 'active', effectivePeriod: { end: '2026-11-25' } })] });
    expect(extract(c, NOW).medications[0]).toMatchObject({ current: true, past: false });
    const later = extract(c, new Date('2026-11-30T00:00:00Z')).medications[0];
    expect(later).toMatchObject({ current: false, past: true, lastUseDate: '2026-11-25', daysSinceLastUse: 5 });
    expect(extract.cacheStats().misses).toBe(1);
  });

  it('notices a changed resource (e.g. a draft edited between keystrokes)', () => {
    const extract = extractor();
    const before = extract(chart('order-select', { draftOrders: [draft('a', { text: 'naltrexone' }, { dosageInstruction: [{ text: '4.5 mg at bedtime' }] })] }), NOW);
    const after = extract(chart('order-select', { draftOrders: [draft('a', { text: 'naltrexone' }, { dosageInstruction: [{ text: '50 mg at bedtime' }] })] }), NOW);
    expect(before.focus[0]?.naltrexoneRole).toBe('ldn');
    expect(after.focus[0]?.naltrexoneRole).toBe('full-dose');
  });

  it('notices a changed bundled Medication behind an unchanged reference', () => {
    const extract = extractor();
    const order = draft('a', undefined, { medicationReference: { reference: 'Medication/m' } });
    const med = (code: string): Map<string, unknown> => new Map([['Medication/m', { resourceType: 'Medication', id: 'm', code: { coding: [rx(code)] } }]]);
    expect(extract(chart('order-sign', { draftOrders: [order], medications: med('1049621') }), NOW).focus[0]?.isOpioid).toBe(true);
    expect(extract(chart('order-sign', { draftOrders: [order], medications: med('1551468') }), NOW).focus[0]).toMatchObject({
      isOpioid: false,
      naltrexoneRole: 'bupropion-combination',
    });
  });

  it('hands out facts that cannot corrupt the cache', () => {
    const extract = extractor();
    const c = chart('patient-view', { resources: [statement('s', { coding: [rx('1049621', 'Oxycodone 5 MG Oral Tablet')] })] });
    const first = extract(c, NOW).medications[0]!;
    expect(() => first.codes.push({ system: 'x', code: 'y' })).toThrow(TypeError);
    first.name = 'changed';
    expect(extract(c, NOW).medications[0]?.name).toBe('Oxycodone 5 MG Oral Tablet');
  });

  it('extracts the realistic chart (50 statements, 20 conditions) a second time from the cache alone (speed: npm run bench)', () => {
    const extract = extractor();
    const c = realisticChart();
    const first = extract(c, NOW);
    const before = extract.cacheStats();
    expect(extract(c, NOW)).toEqual(first);
    const after = extract.cacheStats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(c.resources.length + c.draftOrders.length);
  });
});

describe('warm: a large chart is normalised ahead, in slices that yield', () => {
  it('leaves nothing for the synchronous extraction to normalise, and yields to the event loop between slices', async () => {
    const x = extractor();
    const c = realisticChart();
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await x.warm(c, 0, 0); // a zero budget and no size floor: yield after every resource
    ticking = false;
    expect(turns).toBeGreaterThanOrEqual(c.resources.length);
    const before = x.cacheStats();
    const facts = x(c, NOW);
    const after = x.cacheStats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(c.resources.length + c.draftOrders.length);
    expect(facts).toEqual(extractor()(c, NOW));
  });

  it('leaves a small chart (under the size floor) to the one synchronous extraction: nothing is computed twice', async () => {
    const x = extractor();
    const c = realisticChart();
    await x.warm(c); // 70 resources: below the default floor
    expect(x.cacheStats()).toMatchObject({ hits: 0, misses: 0 });
    x(c, NOW);
    expect(x.cacheStats().misses).toBe(c.resources.length + c.draftOrders.length);
  });
});
