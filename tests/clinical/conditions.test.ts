import { describe, expect, it } from 'vitest';
import { CONDITION_PATHS, normaliseCondition } from '../../src/clinical/conditions.js';
import { evaluate, ICD10CM, knowledge, SNOMED } from './helpers.js';

const clinical = (code: string): object => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
const verification = (code: string): object => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] });

function condition(system: string, code: string, extra: object = {}): Record<string, unknown> {
  return { resourceType: 'Condition', id: `c-${code}`, clinicalStatus: clinical('active'), verificationStatus: verification('confirmed'), code: { coding: [{ system, code }] }, ...extra };
}

const normalise = (c: unknown): ReturnType<typeof normaliseCondition> => normaliseCondition(c, knowledge().valueSets);

describe('multiple sclerosis and spasticity', () => {
  it.each([
    [ICD10CM, 'G35'],
    [ICD10CM, 'G35.A'],
    [ICD10CM, 'G35.D'],
    [ICD10CM, 'G35.B1'],
    [ICD10CM, 'G35.B'],
    [SNOMED, '24700007'],
    [SNOMED, '426373005'],
  ])('%s %s is multiple sclerosis', (system, code) => {
    expect(normalise(condition(system, code))).toMatchObject({ isMultipleSclerosis: true, isSpasticity: false, active: true });
  });

  it.each([
    [ICD10CM, 'R25.2'],
    [SNOMED, '221360009'],
    [ICD10CM, 'M62.838'],
  ])('%s %s is spasticity', (system, code) => {
    expect(normalise(condition(system, code))).toMatchObject({ isSpasticity: true, isMultipleSclerosis: false });
  });

  it('optic neuritis H46.9 is neither', () => {
    expect(normalise(condition(ICD10CM, 'H46.9'))).toMatchObject({ isSpasticity: false, isMultipleSclerosis: false });
  });
});

describe('active', () => {
  it.each([
    ['refuted verification', { verificationStatus: verification('refuted') }],
    ['entered-in-error verification', { verificationStatus: verification('entered-in-error') }],
    ['resolved clinical status', { clinicalStatus: clinical('resolved') }],
    ['inactive clinical status', { clinicalStatus: clinical('inactive') }],
    ['an abatement date', { abatementDateTime: '2025-01-01' }],
  ])('is false with %s', (_label, extra) => {
    expect(normalise(condition(SNOMED, '24700007', extra)).active).toBe(false);
  });

  it.each([
    ['recurrence', { clinicalStatus: clinical('recurrence') }],
    ['relapse', { clinicalStatus: clinical('relapse') }],
    // MS in remission is still MS (issue 13); a relapse that abated is MS too.
    ['remission', { clinicalStatus: clinical('remission') }],
    ['relapse with an abatement date', { clinicalStatus: clinical('relapse'), abatementDateTime: '2025-01-01' }],
    ['no clinical status', { clinicalStatus: undefined }],
    ['abatementBoolean false', { abatementBoolean: false }],
    ['provisional verification', { verificationStatus: verification('provisional') }],
  ])('is true with %s', (_label, extra) => {
    expect(normalise(condition(SNOMED, '24700007', extra)).active).toBe(true);
  });
});

describe('condition facts', () => {
  it('carry ref, name (text, else display) and codes', () => {
    const f = normalise({ ...condition(SNOMED, '24700007'), code: { text: 'MS', coding: [{ system: SNOMED, code: '24700007', display: 'Multiple sclerosis' }] } });
    expect(f).toMatchObject({ ref: 'Condition/c-24700007', name: 'MS', codes: [{ system: SNOMED, code: '24700007', display: 'Multiple sclerosis' }] });
    expect(normalise(condition(ICD10CM, 'G35')).name).toBe('G35');
  });

  it('read fields exactly as fhirpath.evaluate does', () => {
    const c = condition(ICD10CM, 'G35.A', { clinicalStatus: clinical('relapse'), abatementString: 'in 2020' });
    const f = normalise(c);
    expect(evaluate(c, CONDITION_PATHS.codings)).toEqual(f.codes);
    expect(evaluate(c, CONDITION_PATHS.clinicalStatus)).toEqual(['relapse']);
    expect(evaluate(c, CONDITION_PATHS.abatement)).toEqual(['in 2020']);
    expect(f.active).toBe(true); // an abated relapse of MS is still MS
  });
});
