/**
 * The compiled extraction paths (src/clinical/paths.ts) against fhirpath.js with the R4 model, which stays the
 * specification: every path table, on every resource and element the fixtures hold (scenarios, sandbox captures,
 * the demo patients, the benchmark's request) and on edge cases real feeds send. Same items, same order, and the
 * resource's own objects (not copies).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { CONDITION_PATHS } from '../../src/clinical/conditions.js';
import { DOSAGE_PATHS } from '../../src/clinical/dose.js';
import { INGREDIENT_PATHS } from '../../src/clinical/ingredients.js';
import { MEDICATION_PATHS, MEDICATION_RESOURCE_PATHS } from '../../src/clinical/medications.js';
import { compilePath } from '../../src/clinical/paths.js';
import { hookRequest, loadScenarioFiles } from '../../src/scenarios/build.js';
import { orderSelectRequest } from '../../bench/realistic.js';
import { loadCaptures } from '../helpers/shared.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every FHIR resource anywhere inside `value` (bundles, prefetch, contained, draft orders). */
function resourcesIn(value: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const v of value) resourcesIn(v, out);
  else if (isObject(value)) {
    if (typeof value.resourceType === 'string') out.push(value);
    for (const v of Object.values(value)) resourcesIn(v, out);
  }
  return out;
}

function corpus(): Json[] {
  const now = new Date('2026-11-21T12:00:00Z');
  const bodies: unknown[] = [];
  for (const { scenario } of loadScenarioFiles(path.join(PROJECT_ROOT, 'fixtures', 'scenarios'))) for (const c of scenario.cases) bodies.push(hookRequest(c, now));
  for (const capture of loadCaptures()) bodies.push(capture.body);
  bodies.push(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures', 'patients', 'ldn-demo-patients.json'), 'utf8')));
  bodies.push(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures', 'requests', 'order-select-ldn-oxycodone.json'), 'utf8')));
  bodies.push(orderSelectRequest({ statements: 60 }));
  return [...resourcesIn(bodies), ...EDGE_CASES];
}

/** What real feeds send that the fixtures may not: extensions without values, nulls, duplicates, wrong shapes. */
const EDGE_CASES: Json[] = [
  { resourceType: 'MedicationStatement', _status: { extension: [{ url: 'x', valueString: 'y' }] }, medicationCodeableConcept: { _text: { extension: [] }, coding: [null, { system: 's', code: 'c' }] } },
  { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'a' }, medicationReference: { reference: '#m', display: 'd' }, effectivePeriod: { start: '2020', end: '2021' }, effectiveDateTime: '2019' },
  { resourceType: 'MedicationStatement', effectiveDateTime: '2020-02-03', dosage: [null, { text: 'x', timing: 'daily' }, { timing: [{ repeat: { when: ['HS', null] } }] }] },
  { resourceType: 'MedicationRequest', status: 'draft', effectivePeriod: { start: '2020' }, effectiveDateTime: '2020', dispenseRequest: { validityPeriod: { end: '2027' } } },
  { resourceType: 'MedicationRequest', medicationReference: { reference: 'Medication/1' }, dosageInstruction: { text: 'not an array' } },
  {
    resourceType: 'MedicationRequest',
    dosageInstruction: [
      {
        sequence: 0,
        text: '',
        patientInstruction: ' at bedtime ',
        route: { text: 'oral', coding: [{ display: 'oral' }, { display: 'Oral route' }, { display: 'oral' }] },
        timing: { code: { text: 'QHS', coding: [{ code: 'HS' }, { code: 'HS' }] }, repeat: { frequency: 1.5, period: 0, periodUnit: 'd', when: 'HS', timeOfDay: ['21:00:00'] } },
        doseAndRate: [{ doseRange: { low: { value: 1 }, high: { value: 4.5, unit: 'mg' } } }, { doseQuantity: { value: 0 } }, { doseQuantity: null }],
      },
    ],
  },
  { resourceType: 'Condition', clinicalStatus: { coding: [{ code: 'active' }, { code: 'active' }], text: 'active' }, verificationStatus: { text: 'confirmed' }, abatementString: 'gone', abatementDateTime: '2020' },
  { resourceType: 'Condition', _id: { extension: [] }, code: { coding: [{ system: 's', code: 'c' }] }, abatementAge: { value: 40 }, abatementString: 'later' },
  { resourceType: 'Condition', abatementBoolean: true, clinicalStatus: 'active' },
  {
    resourceType: 'Medication',
    code: { text: 'x', coding: [] },
    ingredient: [
      { itemCodeableConcept: { text: 'naltrexone', coding: [{ system: 's', code: '1' }] }, isActive: false, strength: { numerator: { value: 4.5 } } },
      { itemReference: { reference: 'Substance/1' }, isActive: true },
      null,
      { itemCodeableConcept: { _text: { extension: [] } }, strength: [{ numerator: { value: 1 } }, { numerator: { value: 2 } }] },
    ],
  },
];

const RESOURCE_TYPES = new Set(['MedicationStatement', 'MedicationRequest', 'Medication', 'Condition']);

/** fhirpath.js with the R4 model: a resource types itself (resourceType); an element needs its base path. */
function evaluate(node: unknown, base: string, expression: string): unknown[] {
  return fhirpath.evaluate(node as object, RESOURCE_TYPES.has(base) ? expression : { base, expression }, {}, r4) as unknown[];
}

function expectSame(actual: unknown[], expected: unknown[], where: string): void {
  expect(actual, where).toEqual(expected);
  expected.forEach((e, i) => {
    if (typeof e === 'object' && e !== null) expect(actual[i], `${where}: item ${i} is the resource's own object`).toBe(e);
  });
}

const all = corpus();
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

describe('compiled extraction paths agree with fhirpath.js (R4 model)', () => {
  test('the corpus is broad: every resource kind the extractor reads, with dosages and ingredients', () => {
    const kinds = new Set(all.map((r) => r.resourceType));
    for (const k of ['MedicationStatement', 'MedicationRequest', 'Medication', 'Condition']) expect(kinds).toContain(k);
    expect(all.filter((r) => r.resourceType === 'MedicationStatement').length).toBeGreaterThan(50);
  });

  test.each(['MedicationStatement', 'MedicationRequest'])('%s: MEDICATION_PATHS and every Dosage with DOSAGE_PATHS', (type) => {
    const resources = all.filter((r) => r.resourceType === type);
    let dosages = 0;
    for (const [key, expression] of Object.entries(MEDICATION_PATHS)) {
      const read = compilePath(expression, [type]);
      for (const r of resources) expectSame(read(r), evaluate(r, type, expression), `${type}.${key} on ${JSON.stringify(r).slice(0, 120)}`);
    }
    for (const [key, expression] of Object.entries(DOSAGE_PATHS)) {
      const read = compilePath(expression, ['Dosage']);
      for (const r of resources) {
        for (const dosage of asArray(type === 'MedicationStatement' ? r.dosage : r.dosageInstruction)) {
          if (!isObject(dosage)) continue;
          dosages++;
          expectSame(read(dosage), evaluate(dosage, 'Dosage', expression), `Dosage.${key} on ${JSON.stringify(dosage).slice(0, 160)}`);
        }
      }
    }
    expect(dosages).toBeGreaterThan(0);
  });

  test('Medication: MEDICATION_RESOURCE_PATHS, and every ingredient with INGREDIENT_PATHS', () => {
    const medications = all.filter((r) => r.resourceType === 'Medication');
    for (const [key, expression] of Object.entries(MEDICATION_RESOURCE_PATHS)) {
      const read = compilePath(expression, ['Medication']);
      for (const m of medications) expectSame(read(m), evaluate(m, 'Medication', expression), `Medication.${key}`);
    }
    for (const [key, expression] of Object.entries(INGREDIENT_PATHS)) {
      const read = compilePath(expression, ['Medication.ingredient']);
      for (const m of medications) {
        for (const ingredient of asArray(m.ingredient)) {
          if (!isObject(ingredient)) continue;
          expectSame(read(ingredient), evaluate(ingredient, 'Medication.ingredient', expression), `ingredient.${key} on ${JSON.stringify(ingredient)}`);
        }
      }
    }
  });

  test('Condition: CONDITION_PATHS', () => {
    for (const [key, expression] of Object.entries(CONDITION_PATHS)) {
      const read = compilePath(expression, ['Condition']);
      for (const c of all.filter((r) => r.resourceType === 'Condition')) expectSame(read(c), evaluate(c, 'Condition', expression), `Condition.${key} on ${JSON.stringify(c).slice(0, 160)}`);
    }
  });
});

describe('compilePath refuses what it cannot read exactly', () => {
  test.each([
    ['a function other than ofType', 'dosage.where(text.exists())'],
    ['an index', 'dosage[0].text'],
    ['an operator', "status = 'active'"],
    ['ofType on an element that is not a choice', 'status.ofType(code)'],
    ['a type the choice does not have', 'medication.ofType(Quantity)'],
    ['an empty branch', 'text | '],
  ])('%s', (_name, expression) => {
    expect(() => compilePath(expression, ['MedicationStatement'])).toThrow();
  });

  test('a null or absent node reads as empty', () => {
    expect(compilePath('status', ['MedicationStatement'])(null)).toEqual([]);
    expect(compilePath('status', ['MedicationStatement'])(undefined)).toEqual([]);
  });
});
