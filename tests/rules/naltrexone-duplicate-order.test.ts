import { describe, expect, test } from 'vitest';
import { ldnOrder, ldnStatement, naltrexoneOrder, noDrafts, orderFacts, statement } from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('naltrexone-duplicate-order');
const fullDose = () => ({ ...naltrexoneOrder('full-dose'), label: 'naltrexone 50 mg/day', dailyDoseMg: 50 });

describe('naltrexone-duplicate-order', () => {
  test('naltrexone 50 mg ordered for a patient on LDN → a short warning naming both, citing the label, with a remove-draft suggestion', () => {
    const order = fullDose();
    const card = rule.evaluate(orderFacts({ focus: [order], medications: [ldnStatement(4.5)] }), noDrafts);
    expect(card).toMatchObject({ ruleId: 'naltrexone-duplicate-order', ruleVersion: '1.0.0', concern: 'naltrexone-duplicate', indicator: 'warning' });
    expect(card?.summary).toBe('Duplicate naltrexone: naltrexone 50 mg/day ordered for a patient taking LDN 4.5 mg/day');
    expect(card?.detail).toMatch(/already takes Naltrexone 4\.5 mg capsule \(compounded\)/);
    expect(card?.detail).toMatch(/LDN is 1–5 mg a day, used off-label/);
    expect(card?.detail).toMatch(/Unless one is stopped, the patient would take both/);
    // The rule's own text, before the evidence list the engine appends, stays short.
    expect(card!.detail!.split('**Evidence')[0]!.length).toBeLessThan(700);
    expect(card?.evidence).toEqual(['naltrexone-label-indications', 'toljan-vrooman-2018']);
    expect(card?.suggestions).toEqual([
      { label: 'Remove the draft order for naltrexone hydrochloride 50 MG Oral Tablet', actions: [{ type: 'delete', description: expect.any(String), resourceId: order.ref }] },
    ]);
    expect(card?.overrideReasons?.map((r) => r.code)).toEqual(['dose-intended', 'patient-not-taking', 'data-incorrect']);
    expect(card?.subjects).toEqual([order.ref, expect.stringMatching(/^MedicationStatement\//)]);
  });

  test.each([
    ['LDN renewed for a patient on LDN (same kind)', ldnOrder(4.5), [ldnStatement(4.5)]],
    ['an LDN titration (same kind, another dose)', ldnOrder(3), [ldnStatement(4.5)]],
    ['naltrexone of unknown dose for a patient on LDN', naltrexoneOrder('unknown-dose'), [ldnStatement(4.5)]],
    ['50 mg for a patient whose LDN is no longer current', fullDose(), [ldnStatement(4.5, { current: false, past: true })]],
    ['50 mg for a patient on no naltrexone', fullDose(), [statement('metformin 500 mg')]],
  ])('no card: %s', (_what, order, medications) => {
    expect(rule.evaluate(orderFacts({ focus: [order], medications }), noDrafts)).toBeNull();
  });
});
