import { describe, expect, it } from 'vitest';
import { DOSAGE_PATHS, readDose, readStructuredTiming } from '../../src/clinical/dose.js';
import { parseSig } from '../../src/clinical/sig.js';
import { amountOfQuantity, parseStrengthSegments, parseStrengthText, strengthFromRatio } from '../../src/clinical/units.js';
import { evaluate, UCUM } from './helpers.js';

const TAB5 = { mg: 5, per: 'tablet' };

describe('free-text sigs and medication text', () => {
  // text, strength per unit, expected dose mg, frequency/day, daily mg, bedtime, basis
  const table: [string, { mg: number; per?: string } | undefined, number | undefined, number | undefined, number | undefined, boolean | undefined, string | undefined][] = [
    ['4.5 mg at bedtime', undefined, 4.5, 1, 4.5, true, 'text'],
    ['LDN 3mg', { mg: 3 }, 3, undefined, 3, undefined, 'assumed'],
    ['Naltrexone 4.5 mg capsule (compounded)', { mg: 4.5, per: 'capsule' }, 4.5, undefined, 4.5, undefined, 'assumed'],
    ['take 1.5 mg nightly', undefined, 1.5, 1, 1.5, true, 'text'],
    ['1 tablet by mouth every 6 hours as needed', TAB5, 5, 4, 20, false, 'text'],
    ['once weekly', undefined, undefined, 1 / 7, undefined, undefined, undefined],
    ['twice daily', TAB5, 5, 2, 10, false, 'assumed'],
    ['bid', undefined, undefined, 2, undefined, false, undefined],
    ['qhs', undefined, undefined, 1, undefined, true, undefined],
    ['every 12 hours', undefined, undefined, 2, undefined, false, undefined],
    ['3 mcg', undefined, 0.003, undefined, 0.003, undefined, 'assumed'],
    ['2 tablets twice daily', TAB5, 10, 2, 20, false, 'text'],
    ['4.5 mL (1 mg/mL) at bedtime', { mg: 1, per: 'mL' }, 4.5, 1, 4.5, true, 'text'],
  ];

  it.each(table)('%j → dose %s mg, %s/day, daily %s mg, bedtime %s', (text, strength, doseMg, perDay, daily, bedtime, basis) => {
    // As a Dosage with only text.
    const r = readDose([{ text }], strength, []);
    expect(r.doseMg).toBe(doseMg);
    expect(r.frequencyPerDay).toBe(perDay === undefined ? undefined : Math.round(perDay * 1e6) / 1e6);
    expect(r.dailyDoseMg).toBe(daily);
    expect(r.atBedtime).toBe(bedtime);
    expect(r.doseBasis).toBe(basis);
  });

  it('reads every unit word and number word that units.ts and the sig know (one list: they had drifted)', () => {
    expect(parseSig('2 tbl daily').amount).toEqual({ kind: 'count', n: 2, unit: 'tablet' });
    expect(parseSig('five mg daily').amount).toEqual({ kind: 'mass', mg: 5 });
    expect(parseSig('six mg at bedtime').amount).toEqual({ kind: 'mass', mg: 6 });
    expect(parseSig('1 ea daily').amount).toEqual({ kind: 'count', n: 1, unit: 'each' });
    expect(parseSig('2 milligram nightly').amount).toEqual({ kind: 'mass', mg: 2 });
    expect(readDose([{ text: '2 tbl daily' }], TAB5, []).doseMg).toBe(10);
  });

  it('reads frequency variants', () => {
    expect(parseSig('every 4-6 hours').frequencyPerDay).toBe(6);
    expect(parseSig('q6h prn').frequencyPerDay).toBe(4);
    expect(parseSig('three times a day').frequencyPerDay).toBe(3);
    expect(parseSig('TID').frequencyPerDay).toBe(3);
    expect(parseSig('QID').frequencyPerDay).toBe(4);
    expect(parseSig('twice weekly').frequencyPerDay).toBeCloseTo(2 / 7);
    expect(parseSig('every other day').frequencyPerDay).toBe(0.5);
    expect(parseSig('once daily').frequencyPerDay).toBe(1);
    expect(parseSig('1 tablet up to 4 a day as needed').frequencyPerDay).toBe(4);
    expect(parseSig('4.5 mg a day').frequencyPerDay).toBe(1);
  });

  it('reads morning as not bedtime and leaves plain "daily" unknown', () => {
    expect(parseSig('1 capsule every morning').bedtime).toBe(false);
    expect(parseSig('1 capsule daily').bedtime).toBeUndefined();
    expect(parseSig('at night').bedtime).toBe(true);
  });

  it('takes the high end of a range ("1-2 tablets")', () => {
    expect(parseSig('1-2 tablets every 6 hours').amount).toEqual({ kind: 'count', n: 2, unit: 'tablet' });
  });

  it('uses the medication text when there is no Dosage at all', () => {
    const r = readDose([], { mg: 0.03, per: 'injection' }, ['Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)']);
    expect(r.frequencyPerDay).toBeCloseTo(1 / 7, 5);
    expect(r.doseMg).toBe(0.03);
  });
});

describe('structured dosage', () => {
  const dosage = (dose: object, repeat?: object, extra: object = {}): object => ({
    ...(repeat ? { timing: { repeat } } : {}),
    doseAndRate: [dose],
    ...extra,
  });

  it('reads doseQuantity in mg with frequency/period and HS as bedtime', () => {
    const r = readDose([dosage({ doseQuantity: { value: 4.5, unit: 'mg', system: UCUM, code: 'mg' } }, { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] })], undefined, []);
    expect(r).toMatchObject({ doseMg: 4.5, dailyDoseMg: 4.5, frequencyPerDay: 1, atBedtime: true, doseBasis: 'structured' });
  });

  it('reads the UCUM code before the display unit', () => {
    expect(amountOfQuantity({ value: 3, unit: 'milligram tablet', code: 'mg' })).toEqual({ kind: 'mass', mg: 3 });
    expect(amountOfQuantity({ value: 3000, unit: 'mg', code: 'ug' })).toEqual({ kind: 'mass', mg: 3 });
    expect(amountOfQuantity({ value: 2, unit: 'mcg' })).toEqual({ kind: 'mass', mg: 0.002 });
    expect(amountOfQuantity({ value: 2, unit: 'µg' })).toEqual({ kind: 'mass', mg: 0.002 });
    expect(amountOfQuantity({ value: 0.5, code: 'g' })).toEqual({ kind: 'mass', mg: 500 });
  });

  it('multiplies {pill}/{tbl}/{capsule} counts by the strength per unit (the sandbox sends {pill} with no unit)', () => {
    for (const code of ['{pill}', '{tbl}', '{capsule}']) {
      const r = readDose([dosage({ doseQuantity: { value: 1, system: UCUM, code } }, { frequency: 1, period: 1, periodUnit: 'd' })], { mg: 50, per: 'tablet' }, []);
      expect(r.dailyDoseMg, code).toBe(50);
    }
  });

  it('multiplies mL by mg/mL strength', () => {
    const r = readDose([dosage({ doseQuantity: { value: 4.5, unit: 'mL' } }, { frequency: 1, period: 1, periodUnit: 'd' })], { mg: 1, per: 'mL' }, []);
    expect(r.doseMg).toBe(4.5);
  });

  it('uses doseRange.high', () => {
    const r = readDose([dosage({ doseRange: { low: { value: 1.5, code: 'mg' }, high: { value: 4.5, code: 'mg' } } }, { frequency: 1, period: 1, periodUnit: 'd' })], undefined, []);
    expect(r.doseMg).toBe(4.5);
  });

  it.each([
    [{ frequency: 1, period: 6, periodUnit: 'h' }, 4],
    [{ frequency: 2, period: 1, periodUnit: 'd' }, 2],
    [{ frequency: 1, period: 1, periodUnit: 'wk' }, 1 / 7],
    [{ frequency: 1, period: 1, periodUnit: 'mo' }, 1 / 30],
    [{ frequency: 1, period: 1, periodUnit: 'a' }, 1 / 365],
    [{ frequency: 1, period: 30, periodUnit: 'min' }, 48],
    [{ frequency: 1, period: 3600, periodUnit: 's' }, 24],
    [{ frequency: 1, frequencyMax: 3, period: 1, periodUnit: 'd' }, 1],
    [{ when: ['MORN', 'HS'] }, 2],
    [{ timeOfDay: ['08:00:00', '20:00:00', '22:00:00'] }, 3],
  ])('timing %j → %s per day', (repeat, perDay) => {
    expect(readStructuredTiming({ timing: { repeat } }).perDay).toBeCloseTo(perDay, 9);
  });

  it.each([
    ['QD', 1, undefined],
    ['BID', 2, false],
    ['TID', 3, false],
    ['QID', 4, false],
    ['HS', 1, true],
    ['QHS', 1, true],
    ['Q6H', 4, false],
  ])('timing.code %s → %s per day, bedtime %s', (code, perDay, bedtime) => {
    const t = readStructuredTiming({ timing: { code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation', code }] } } });
    expect(t).toEqual(bedtime === undefined ? { perDay } : { perDay, bedtime });
  });

  it('reads bedtime from when/timeOfDay and rejects it for daytime or more than once a day', () => {
    expect(readStructuredTiming({ timing: { repeat: { when: ['NIGHT'] } } }).bedtime).toBe(true);
    expect(readStructuredTiming({ timing: { repeat: { when: ['MORN'] } } }).bedtime).toBe(false);
    expect(readStructuredTiming({ timing: { repeat: { when: ['PCV'] } } }).bedtime).toBe(false);
    expect(readStructuredTiming({ timing: { repeat: { timeOfDay: ['22:00:00'] } } }).bedtime).toBe(true);
    expect(readStructuredTiming({ timing: { repeat: { timeOfDay: ['09:00:00'] } } }).bedtime).toBe(false);
    expect(readStructuredTiming({ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd', when: ['HS'] } } }).bedtime).toBe(false);
    expect(readStructuredTiming({ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } } }).bedtime).toBeUndefined();
  });

  it('reads a free-text timing.code ("at bedtime") as a sig', () => {
    const r = readDose([dosage({ doseQuantity: { value: 3, code: 'mg' } }, undefined, { timing: { code: { text: 'at bedtime' } } })], undefined, []);
    expect(r).toMatchObject({ doseMg: 3, frequencyPerDay: 1, atBedtime: true, doseBasis: 'text' });
  });

  it('defaults to once a day when no frequency is given, and says so in doseBasis', () => {
    const r = readDose([dosage({ doseQuantity: { value: 4.5, code: 'mg' } })], undefined, []);
    expect(r).toMatchObject({ doseMg: 4.5, dailyDoseMg: 4.5, doseBasis: 'assumed' });
    expect(r.frequencyPerDay).toBeUndefined();
  });

  it('takes structured frequency over text, and falls back to the sig for what structure lacks', () => {
    const r = readDose([{ text: '1 tablet at bedtime', doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }], TAB5, []);
    expect(r).toMatchObject({ doseMg: 5, frequencyPerDay: 1, atBedtime: true, doseBasis: 'text' });
  });

  it('adds concurrent dosages and keeps the highest of consecutive ones', () => {
    const concurrent = readDose(
      [dosage({ doseQuantity: { value: 1, code: 'mg' } }, { when: ['MORN'] }), dosage({ doseQuantity: { value: 3, code: 'mg' } }, { when: ['HS'] })],
      undefined,
      [],
    );
    expect(concurrent).toMatchObject({ dailyDoseMg: 4, frequencyPerDay: 2, atBedtime: false });
    const titration = readDose(
      [1.5, 3, 4.5].map((mg, i) => dosage({ doseQuantity: { value: mg, code: 'mg' } }, { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] }, { sequence: i + 1 })),
      undefined,
      [],
    );
    expect(titration).toMatchObject({ doseMg: 4.5, dailyDoseMg: 4.5, frequencyPerDay: 1, atBedtime: true });
  });

  it('reads the dosage fields with FHIRPath exactly as fhirpath.evaluate does', () => {
    const d = { text: 'x', doseAndRate: [{ doseRange: { high: { value: 2, code: 'mg' } } }], timing: { repeat: { frequency: 3, when: ['HS'] } } };
    for (const key of ['doseRangeHigh', 'frequency', 'when'] as const) {
      const expected = evaluate(d, { base: 'Dosage', expression: DOSAGE_PATHS[key] });
      expect(expected.length, key).toBeGreaterThan(0);
    }
    expect(evaluate(d, { base: 'Dosage', expression: DOSAGE_PATHS.frequency })).toEqual([readStructuredTiming(d).perDay]);
  });
});

describe('strengths', () => {
  it('reads an RxNorm-style name: "Naltrexone hydrochloride 50 MG Oral Tablet" → 50 mg per tablet', () => {
    expect(parseStrengthText('Naltrexone hydrochloride 50 MG Oral Tablet')).toEqual({ mg: 50, per: 'tablet' });
    expect(parseStrengthText('naltrexone 380 MG Injection')).toEqual({ mg: 380, per: 'injection' });
    expect(parseStrengthText('codeine phosphate 2 MG/ML Oral Solution')).toEqual({ mg: 2, per: 'mL' });
    expect(parseStrengthText('oxycodone 25 mg/5 mL solution')).toEqual({ mg: 5, per: 'mL' });
    expect(parseStrengthText('168 HR buprenorphine 0.02 MG/HR Transdermal System')).toBeUndefined();
  });

  it('splits multi-ingredient names into per-ingredient strengths', () => {
    expect(parseStrengthSegments('acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet').map((s) => s.strength)).toEqual([
      { mg: 325, per: 'tablet' },
      { mg: 5, per: 'tablet' },
    ]);
  });

  it('reads a Ratio strength: 4.5 mg per 1 capsule, 1 mg per mL, mcg numerators', () => {
    expect(strengthFromRatio({ numerator: { value: 4.5, unit: 'mg', system: UCUM, code: 'mg' }, denominator: { value: 1, unit: 'capsule' } })).toEqual({ mg: 4.5, per: 'capsule' });
    expect(strengthFromRatio({ numerator: { value: 1, code: 'mg' }, denominator: { value: 1, code: 'mL' } })).toEqual({ mg: 1, per: 'mL' });
    expect(strengthFromRatio({ numerator: { value: 500, code: 'ug' }, denominator: { value: 1, unit: 'tablet' } })).toEqual({ mg: 0.5, per: 'tablet' });
    expect(strengthFromRatio({ numerator: { value: 1, code: 'mL' } })).toBeUndefined();
  });
});
