import { describe, expect, test } from 'vitest';
import { ldnOrder, ldnStatement, noDrafts, orderFacts, patientViewFacts } from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('ldn-dosing-guidance');
const onLdnAlready = [ldnStatement(4.5)];

describe('ldn-dosing-guidance', () => {
  test('daily dose above 4.5 mg → info card with the dose point only', () => {
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(6)], medications: onLdnAlready }), noDrafts);
    expect(card).toMatchObject({ indicator: 'info', concern: 'ldn-dosing' });
    expect(card?.summary).toBe('Check the LDN 6 mg/day order: above 4.5 mg/day');
    expect(card?.detail).toMatch(/^- \*\*Dose\.\*\* 6 mg\/day is above the usual low-dose range of 0\.5–4\.5 mg nightly/);
    expect(card?.detail).not.toMatch(/Start low|Timing/);
  });

  test('a first LDN order above 1.5 mg → "start 1.5 mg, titrate to 4.5 mg over 2–4 weeks"', () => {
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(3)] }), noDrafts);
    expect(card?.summary).toBe('Check the LDN 3 mg/day order: starts above 1.5 mg');
    expect(card?.detail).toMatch(/starts at 1\.5 mg nightly and titrates to 4\.5 mg over 2–4 weeks/);
  });

  test('a sig not at bedtime → timing point', () => {
    const order = ldnOrder(1.5, { atBedtime: false, doseText: '1.5 mg every morning' });
    const card = rule.evaluate(orderFacts({ focus: [order] }), noDrafts);
    expect(card?.summary).toMatch(/: not at bedtime$/);
    expect(card?.detail).toMatch(/The sig \(1\.5 mg every morning\) is not at bedtime/);
  });

  test('all three points → ONE card listing them', () => {
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(6, { atBedtime: false })] }), noDrafts);
    expect(card?.summary).toBe('Check the LDN 6 mg/day order: above 4.5 mg/day, starts above 1.5 mg and not at bedtime');
    const findings = card?.detail?.split('**Evidence**')[0];
    expect(findings?.match(/^- /gm)).toHaveLength(3);
  });

  test('1.5 mg at bedtime as a first order → no card', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(1.5)] }), noDrafts)).toBeNull();
  });

  test('4.5 mg at bedtime for a patient already on LDN → no card', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: onLdnAlready }), noDrafts)).toBeNull();
  });

  test('unknown timing or unknown dose raises no point', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(null, { atBedtime: undefined })] }), noDrafts)).toBeNull();
  });

  test('does not run on patient-view', () => {
    expect(rule.evaluate(patientViewFacts({ medications: [ldnStatement(6, { atBedtime: false })] }), noDrafts)).toBeNull();
  });
});
