/**
 * Issue 13 (Clinical v2): one test group per class of defect, at the level of the clinical facts.
 * The same classes run end to end in fixtures/scenarios/clinical-v2-*.yaml.
 */
import { describe, expect, it } from 'vitest';
import { readDose } from '../../src/clinical/dose.js';
import { brandsFromDisplays, compileLexicon } from '../../src/clinical/lexicon.js';
import { normaliseCondition } from '../../src/clinical/conditions.js';
import { highestStepMg } from '../../src/clinical/sig.js';
import { chart, draft, extractor, fact, ICD10CM, knowledge, NOW, rx, SNOMED, statement, UCUM } from './helpers.js';

const k = knowledge();
const mg = (value: number) => ({ value, unit: 'mg', system: UCUM, code: 'mg' });
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString().slice(0, 10);

describe('1. brands and shorthands', () => {
  it('reads every [Brand] of the value-set displays at load time, with the ingredients its display lists', () => {
    for (const [text, ingredients] of [
      ['Percocet 5/325', ['acetaminophen', 'oxycodone']],
      ['Nucynta ER', ['tapentadol']],
      ['Xtampza ER 9 mg', ['oxycodone']],
      ['Belbuca film', ['buprenorphine']],
      ['Endodan', ['aspirin', 'oxycodone']],
    ] as const) {
      expect(k.lexicon.ingredientsIn(text), text).toEqual(ingredients);
    }
    expect(k.lexicon.brandNames).toEqual(expect.arrayContaining(['percocet', 'nucynta', 'embeda', 'troxyca']));
  });

  it('derives brands from displays, drops strengths and notes after the brand, and skips brands whose ingredients are unknown', () => {
    const base = compileLexicon(
      { version: 1, sources: { s: 'test' }, ingredients: [{ name: 'oxycodone', class: 'opioid', source: 's' }, { name: 'fentanyl', class: 'opioid', source: 's' }] },
      'test.yaml',
    );
    const derived = brandsFromDisplays(
      ['oxycodone hydrochloride 5 MG Oral Tablet [Roxicodone]', 'fentanyl 1.6 MG/ML Spray [Subsys 1600 MCG]', 'unknownium 5 MG [Mystery]', 'no brand here'],
      base,
    );
    expect(derived).toEqual([
      { name: 'Roxicodone', ingredients: ['oxycodone'] },
      { name: 'Subsys', ingredients: ['fentanyl'] },
    ]);
  });

  it('knows the shorthands and cough brands a pharmacist expects, and not plain acetaminophen', () => {
    expect(k.lexicon.ingredientsIn('Tylenol #3 1 tab q6h')).toEqual(['acetaminophen', 'codeine']);
    expect(k.lexicon.ingredientsIn('Tylenol No. 4')).toEqual(['acetaminophen', 'codeine']);
    expect(k.lexicon.ingredientsIn('Tussionex 5 mL q12h')).toEqual(['chlorpheniramine', 'hydrocodone']);
    expect(k.lexicon.ingredientsIn('Tylenol 500 mg')).toEqual([]);
    expect(fact(statement('t3', { text: 'Tylenol #3' }), 'medication-statement').isOpioid).toBe(true);
    expect(fact(statement('tx', { text: 'Tussionex' }), 'medication-statement').isOpioid).toBe(true);
  });
});

describe('2. a dose the chart does not state is never shown as fact', () => {
  it('Vivitrol with no dosage: no dose, "dose not stated"', () => {
    const f = fact(statement('v', { text: 'Vivitrol' }), 'medication-statement');
    expect(f).toMatchObject({ naltrexoneRole: 'full-dose', doseDisplay: 'dose not stated', label: 'naltrexone (dose not stated)' });
    expect(f.dailyDoseMg).toBeUndefined();
  });

  it('380 mg every 4 weeks is shown as written, not 13.571 mg/day', () => {
    const f = fact(
      statement('v', { coding: [rx('637213', 'naltrexone 380 MG Injection')] }, { dosage: [{ doseAndRate: [{ doseQuantity: mg(380) }], timing: { repeat: { frequency: 1, period: 4, periodUnit: 'wk' } } }] }),
      'medication-statement',
    );
    expect(f.doseDisplay).toBe('380 mg every 4 weeks');
    expect(f.label).toBe('naltrexone 380 mg every 4 weeks');
  });

  it('a stated dose without a frequency says so', () => {
    expect(readDose([{ doseAndRate: [{ doseQuantity: mg(4.5) }] }], undefined, []).doseDisplay).toBe('4.5 mg, frequency not stated');
    expect(readDose([{ text: '4.5 mg at bedtime' }], undefined, []).doseDisplay).toBe('4.5 mg/day');
  });
});

describe('3. duration of action and of supply', () => {
  it('an extended-release naltrexone injection given 27 days ago is current; 28 and 31 days ago it is past', () => {
    const inj = (days: number) =>
      fact(statement('x', { text: 'Vivitrol 380 mg injection' }, { status: 'completed', effectiveDateTime: daysAgo(days) }), 'medication-statement');
    expect(inj(27)).toMatchObject({ current: true, past: false, actionDays: 28, daysSinceLastUse: 27 });
    expect(inj(28)).toMatchObject({ current: false, past: true });
    expect(inj(31)).toMatchObject({ current: false, past: true, daysSinceLastUse: 31 });
  });

  it('a completed injection request with only authoredOn: blocked while fewer than 28 days have passed since', () => {
    const req = (days: number) =>
      fact(draft('x', { coding: [rx('637213', 'naltrexone 380 MG Injection')] }, { status: 'completed', authoredOn: daysAgo(days) }), 'medication-request');
    expect(req(10)).toMatchObject({ current: true, actionDays: 28 });
    expect(req(40)).toMatchObject({ current: false, past: true });
  });

  it('oral naltrexone is not long-acting', () => {
    const f = fact(statement('o', { coding: [rx('1483744')] }, { status: 'completed', effectiveDateTime: daysAgo(3) }), 'medication-statement');
    expect(f.actionDays).toBeUndefined();
    expect(f.current).toBe(false);
  });

  it('a request is last used on authoredOn + expectedSupplyDuration × (1 + repeats)', () => {
    const request = (authored: number, days: number, status: string, repeats?: number) =>
      fact(
        draft('r', { text: 'oxycodone 5 mg tablet' }, {
          status,
          authoredOn: daysAgo(authored),
          dispenseRequest: { expectedSupplyDuration: { value: days, unit: 'days', system: UCUM, code: 'd' }, ...(repeats ? { numberOfRepeatsAllowed: repeats } : {}) },
        }),
        'medication-request',
      );
    expect(request(4, 3, 'active')).toMatchObject({ current: false, past: true, daysSinceLastUse: 1 });
    expect(request(7, 3, 'completed')).toMatchObject({ past: true, daysSinceLastUse: 4 });
    expect(request(11, 3, 'completed')).toMatchObject({ past: true, daysSinceLastUse: 8 });
    expect(request(10, 30, 'active')).toMatchObject({ current: true });
    expect(request(10, 3, 'active', 3)).toMatchObject({ current: true }); // 12 days of supply
  });

  it('a draft order is current whatever its supply', () => {
    const f = fact(draft('d', { text: 'oxycodone 5 mg tablet' }, { authoredOn: daysAgo(10), dispenseRequest: { expectedSupplyDuration: { value: 3, code: 'd' } } }));
    expect(f.current).toBe(true);
  });

  it('a statement stopped with no date is past with no last-use date (never invented)', () => {
    const f = fact(statement('s', { text: 'oxycodone 5 mg' }, { status: 'stopped' }), 'medication-statement');
    expect(f).toMatchObject({ past: true });
    expect(f.daysSinceLastUse).toBeUndefined();
  });
});

describe('4. the dose reader uses the highest dose the order reaches', () => {
  it('reads the highest step of a titration in the sig', () => {
    expect(highestStepMg('1.5 mg for 2 weeks, then 3 mg, then 4.5 mg')).toBe(4.5);
    expect(highestStepMg('4.5 mg at bedtime')).toBeUndefined();
  });

  it('a structured 1.5 mg first step with a titration in the text → 4.5 mg/day, starting at 1.5 mg/day', () => {
    const r = readDose(
      [{ text: '1.5 mg at bedtime for 2 weeks, then 3 mg, then 4.5 mg at bedtime', doseAndRate: [{ doseQuantity: mg(1.5) }], timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } } }],
      undefined,
      [],
    );
    expect(r).toMatchObject({ dailyDoseMg: 4.5, startDailyDoseMg: 1.5, doseDisplay: '4.5 mg/day' });
  });
});

describe('5. conditions', () => {
  const cond = (extra: object) => normaliseCondition({ resourceType: 'Condition', id: 'c', ...extra }, k.valueSets, 'Condition/#', k.lexicon);
  const status = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });

  it('spasticity and MS recorded as text only are recognised', () => {
    expect(cond({ code: { text: 'Spasticity of lower limbs' } }).isSpasticity).toBe(true);
    expect(cond({ code: { text: 'spastic gait' } }).isSpasticity).toBe(true);
    expect(cond({ code: { text: 'Multiple sclerosis' } }).isMultipleSclerosis).toBe(true);
    expect(cond({ code: { text: 'Muscle spasm' } }).isSpasticity).toBe(false);
    expect(cond({ code: { text: 'Systemic sclerosis' } }).isMultipleSclerosis).toBe(false);
  });

  it('MS in remission, relapse or recurrence is active MS; resolved is not', () => {
    const ms = (s: string) => cond({ code: { coding: [{ system: SNOMED, code: '24700007' }] }, clinicalStatus: status(s) });
    for (const s of ['remission', 'relapse', 'recurrence', 'active']) expect(ms(s).active, s).toBe(true);
    expect(ms('resolved').active).toBe(false);
    // Remission does not make another condition active.
    expect(cond({ code: { coding: [{ system: SNOMED, code: '221360009' }] }, clinicalStatus: status('remission') }).active).toBe(false);
  });

  it('an MS patient on baclofen with no spasticity code gets an inferred spasticity fact that says so', () => {
    const facts = extractor()(
      chart('order-sign', {
        resources: [
          { resourceType: 'Condition', id: 'ms', code: { coding: [{ system: SNOMED, code: '24700007' }] } },
          statement('b', { text: 'baclofen 10 mg tablet' }),
        ],
      }),
      NOW,
    );
    const inferred = facts.conditions.filter((c) => c.inferredFrom);
    expect(inferred).toHaveLength(1);
    expect(inferred[0]).toMatchObject({ isSpasticity: true, active: true, inferredFrom: 'baclofen' });
    expect(inferred[0]!.name).toMatch(/inferred from baclofen/);
  });

  it('nothing is inferred when spasticity is on the problem list or the drug is stopped', () => {
    const run = (resources: unknown[]) => extractor()(chart('order-sign', { resources }), NOW).conditions.filter((c) => c.inferredFrom);
    expect(run([{ resourceType: 'Condition', id: 's', code: { text: 'Spasticity' } }, statement('b', { text: 'tizanidine 4 mg' })])).toHaveLength(0);
    expect(run([statement('b', { text: 'baclofen 10 mg' }, { status: 'completed' })])).toHaveLength(0);
  });
});

describe('6. LDN by dose and strength, whatever the words', () => {
  it.each([
    ['Compounded naltrexone 6 mg capsule', '6 mg nightly', 'ldn'],
    ['naltrexone 4.5 mg', '4.5 mg at bedtime', 'ldn'],
    ['naltrexone', '3 mg at bedtime', 'ldn'],
    ['naltrexone 4.5 mg capsule', undefined, 'ldn'],
    ['naltrexone', '50 mg daily', 'full-dose'],
    ['naltrexone', '6 mg twice daily', 'full-dose'],
  ] as const)('%s, sig %s → %s', (text, sig, role) => {
    const f = fact(draft('a', { text }, sig ? { dosageInstruction: [{ text: sig }] } : {}));
    expect(f.naltrexoneRole).toBe(role);
  });

  it('a 50 mg tablet code is never LDN by strength', () => {
    expect(fact(draft('a', { coding: [rx('1483744')] })).naltrexoneRole).toBe('full-dose');
  });
});

describe('7. label scope', () => {
  it('opioid use disorder and dependence are flagged; in remission they are not', () => {
    const c = (code: string) => normaliseCondition({ resourceType: 'Condition', code: { coding: [{ system: ICD10CM, code }] } }, k.valueSets, 'Condition/#', k.lexicon);
    expect(c('F11.20').isOpioidUseDisorder).toBe(true);
    expect(c('F11.21').isOpioidUseDisorder).toBe(false);
    expect(c('G35').isOpioidUseDisorder).toBe(false);
    // A poisoning in the set is an event, not dependence.
    const poisoning = normaliseCondition(
      { resourceType: 'Condition', code: { coding: [{ system: SNOMED, code: '1148649003' }] } },
      k.valueSets,
    );
    expect(k.valueSets.has('opioid-use-disorder', { system: SNOMED, code: '1148649003' })).toBe(true);
    expect(poisoning.isOpioidUseDisorder).toBe(false);
  });

  it('olanzapine/samidorphan is an opioid antagonist (isSamidorphan), olanzapine alone is not', () => {
    expect(fact(statement('l', { text: 'Lybalvi 10 mg/10 mg' }), 'medication-statement')).toMatchObject({ isSamidorphan: true, isOpioid: false });
    expect(fact(statement('l', { text: 'olanzapine and samidorphan tablet' }), 'medication-statement').isSamidorphan).toBe(true);
    expect(fact(statement('o', { text: 'olanzapine 10 mg' }), 'medication-statement').isSamidorphan).toBe(false);
  });
});
