import { describe, expect, test } from 'vitest';
import type { MedicationRequest } from 'fhir/r4.js';
import {
  draftContext,
  ldnDraftRequest,
  ldnOrder,
  multipleSclerosis,
  naltrexoneOrder,
  noDrafts,
  orderFacts,
  spasticity,
} from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const doseRule = projectRule('ldn-ms-spasticity-dose');
const evidenceRule = projectRule('ldn-ms-spasticity-evidence');
const msWithSpasticity = [multipleSclerosis(), spasticity()];

describe('ldn-ms-spasticity-dose', () => {
  test('4.5 mg/day with MS and spasticity → warning with an update to the whole draft at 3 mg at bedtime', () => {
    const draft = ldnDraftRequest('ldn-45', 4.5);
    const order = ldnOrder(4.5, { ref: 'MedicationRequest/ldn-45' });
    const card = doseRule.evaluate(orderFacts({ focus: [order], conditions: msWithSpasticity }), draftContext(draft));

    expect(card).toMatchObject({ indicator: 'warning', concern: 'ldn-ms-spasticity' });
    expect(card?.summary).toBe('LDN 4.5 mg/day with MS spasticity: above the suggested 3 mg/day maximum');
    expect(card?.detail).toMatch(/not a disease-modifying therapy/);

    const expected = structuredClone(draft) as MedicationRequest & { contained: [{ code: { text: string }; ingredient: [{ strength: { numerator: { value: number } } }] }] };
    expected.contained[0].code.text = 'Naltrexone HCl 3 mg oral capsule (compounded)';
    expected.contained[0].ingredient[0].strength.numerator.value = 3;
    expected.dosageInstruction = [
      {
        text: '3 mg by mouth at bedtime',
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } },
        route: draft.dosageInstruction?.[0]?.route,
        doseAndRate: [{ doseQuantity: { value: 3, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ];
    expect(card?.suggestions).toEqual([
      {
        label: 'Change Naltrexone 4.5 mg capsule (compounded) to 3 mg once daily at bedtime',
        actions: [{ type: 'update', description: expect.stringContaining('3 mg once daily at bedtime'), resource: expected }],
      },
    ]);
    expect(draft.dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity?.value).toBe(4.5);
  });

  test('3 mg/day → no warning', () => {
    expect(doseRule.evaluate(orderFacts({ focus: [ldnOrder(3)], conditions: msWithSpasticity }), noDrafts)).toBeNull();
  });

  test('no spasticity, inactive MS, or spasticity without MS → no warning', () => {
    const focus = [ldnOrder(4.5)];
    expect(doseRule.evaluate(orderFacts({ focus, conditions: [multipleSclerosis()] }), noDrafts)).toBeNull();
    expect(doseRule.evaluate(orderFacts({ focus, conditions: [multipleSclerosis({ active: false }), spasticity()] }), noDrafts)).toBeNull();
    expect(doseRule.evaluate(orderFacts({ focus, conditions: [spasticity()] }), noDrafts)).toBeNull();
  });

  test('full-dose naltrexone is not LDN → no warning', () => {
    expect(doseRule.evaluate(orderFacts({ focus: [naltrexoneOrder('full-dose')], conditions: msWithSpasticity }), noDrafts)).toBeNull();
  });

  test('without the draft resource the warning has no suggestion', () => {
    const card = doseRule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], conditions: msWithSpasticity }), noDrafts);
    expect(card?.indicator).toBe('warning');
    expect(card?.suggestions).toEqual([]);
  });
});

describe('ldn-ms-spasticity-evidence', () => {
  test('3 mg/day with MS and spasticity → info card with the spasticity evidence', () => {
    const card = evidenceRule.evaluate(orderFacts({ focus: [ldnOrder(3)], conditions: msWithSpasticity }), noDrafts);
    expect(card).toMatchObject({ indicator: 'info', concern: 'ldn-ms-spasticity' });
    expect(card?.evidence).toContain('gironi-2008');
    expect(card?.detail).toMatch(/40 patients with primary progressive MS, 6 months, no placebo group/);
    expect(card?.detail).toMatch(/Gironi et al\. 2008 \(small pilot trial\)/);
    expect(card?.detail).toMatch(/not a disease-modifying therapy/);
  });

  test('unknown dose → info card', () => {
    expect(evidenceRule.evaluate(orderFacts({ focus: [ldnOrder(null)], conditions: msWithSpasticity }), noDrafts)?.indicator).toBe('info');
  });

  test('4.5 mg/day → no info card (the warning covers it)', () => {
    expect(evidenceRule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], conditions: msWithSpasticity }), noDrafts)).toBeNull();
  });

  test('no spasticity → no info card', () => {
    expect(evidenceRule.evaluate(orderFacts({ focus: [ldnOrder(3)], conditions: [multipleSclerosis()] }), noDrafts)).toBeNull();
  });
});
