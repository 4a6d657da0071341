import { describe, expect, test } from 'vitest';
import { draftOrder, ldnOrder, ldnStatement, noDrafts, orderFacts, patientViewFacts, opioid, statement } from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('opioid-with-naltrexone');
const oxycodoneOrder = (): ReturnType<typeof draftOrder> => draftOrder('oxycodone 5 mg oral tablet', { isOpioid: true });

describe('opioid-with-naltrexone', () => {
  test('opioid order for a patient taking LDN → critical card suggesting removal of the opioid draft', () => {
    const order = oxycodoneOrder();
    const ldn = ldnStatement(4.5);
    const card = rule.evaluate(orderFacts({ focus: [order], medications: [ldn] }), noDrafts);

    expect(card).toMatchObject({ indicator: 'critical', concern: 'naltrexone-opioid' });
    expect(card?.summary).toBe('Contraindicated: opioid oxycodone 5 mg oral tablet for a patient taking LDN 4.5 mg/day: opioid blocked, overdose risk');
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: expect.any(String), resourceId: order.ref }]);
    expect(card?.subjects).toEqual([order.ref, ldn.ref]);
    expect(card?.overrideReasons?.length).toBeGreaterThan(0);
  });

  test('LDN in another draft order of the same call counts', () => {
    const order = oxycodoneOrder();
    const card = rule.evaluate(orderFacts({ hook: 'order-select', focus: [order], orders: [order, ldnOrder(1.5)] }), noDrafts);
    expect(card?.indicator).toBe('critical');
  });

  test('no card when the naltrexone was stopped', () => {
    const stopped = ldnStatement(4.5, { status: 'completed', current: false, past: true });
    expect(rule.evaluate(orderFacts({ focus: [oxycodoneOrder()], medications: [stopped] }), noDrafts)).toBeNull();
  });

  test('no card for an opioid order without naltrexone', () => {
    expect(rule.evaluate(orderFacts({ focus: [oxycodoneOrder()], medications: [statement('metformin 500 mg')] }), noDrafts)).toBeNull();
  });

  test('does not run on patient-view (ldn-with-opioid covers it there)', () => {
    expect(rule.hooks).not.toContain('patient-view');
    expect(rule.evaluate(patientViewFacts({ medications: [opioid(), ldnStatement(4.5)] }), noDrafts)).toBeNull();
  });

  test('the card names the blockade and the overdose risk, not precipitated withdrawal (the opioid is the new drug)', () => {
    const card = rule.evaluate(orderFacts({ focus: [oxycodoneOrder()], medications: [ldnStatement(4.5)] }), noDrafts);
    expect(card?.detail).toMatch(/blocks opioids[\s\S]*overcome the blockade can cause serious injury, coma or death/);
    expect(card?.detail).not.toMatch(/withdrawal/);
    expect(card?.detail).not.toMatch(/\*\*Injection\.\*\*/);
    expect(card?.evidence).toContain('vivitrol-label-opioid-blockade');
  });

  test('an injection given 10 days ago (still current by its 28-day action) adds the injection point', () => {
    const vivitrol = statement('Vivitrol 380 mg injection', {
      isNaltrexone: true,
      naltrexoneRole: 'full-dose',
      actionDays: 28,
      status: 'completed',
      current: true,
      daysSinceLastUse: 10,
      label: 'naltrexone (dose not stated)',
    });
    const card = rule.evaluate(orderFacts({ focus: [oxycodoneOrder()], medications: [vivitrol] }), noDrafts);
    expect(card?.detail).toMatch(/\*\*Injection\.\*\* The injection blocks opioids for about 28 days \(last dose 10\s+days ago\)/);
  });
});

describe('opioid-with-samidorphan', () => {
  const samidorphanRule = projectRule('opioid-with-samidorphan');
  const lybalvi = () => statement('Lybalvi 10 mg/10 mg tablet', { isSamidorphan: true, label: 'olanzapine/samidorphan' });

  test('opioid order for a patient taking olanzapine/samidorphan → critical, citing its label only', () => {
    const order = oxycodoneOrder();
    const card = samidorphanRule.evaluate(orderFacts({ focus: [order], medications: [lybalvi()] }), noDrafts);
    expect(card).toMatchObject({ indicator: 'critical', concern: 'naltrexone-opioid' });
    expect(card?.summary).toBe('Contraindicated: opioid oxycodone 5 mg oral tablet with olanzapine/samidorphan (an opioid antagonist)');
    expect(card?.evidence).toEqual(['lybalvi-label-opioids']);
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: expect.any(String), resourceId: order.ref }]);
  });

  test('olanzapine/samidorphan ordered for a patient taking an opioid → critical, suggesting removal of that draft', () => {
    const order = draftOrder('Lybalvi 10 mg/10 mg tablet', { isSamidorphan: true, label: 'olanzapine/samidorphan' });
    const card = samidorphanRule.evaluate(orderFacts({ focus: [order], medications: [opioid('oxycodone 5 mg oral tablet')] }), noDrafts);
    expect(card?.indicator).toBe('critical');
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: expect.any(String), resourceId: order.ref }]);
  });

  test('no card when it was stopped, or without an opioid order', () => {
    expect(samidorphanRule.evaluate(orderFacts({ focus: [oxycodoneOrder()], medications: [{ ...lybalvi(), current: false, past: true }] }), noDrafts)).toBeNull();
    expect(samidorphanRule.evaluate(orderFacts({ focus: [draftOrder('metformin 500 mg')], medications: [lybalvi()] }), noDrafts)).toBeNull();
  });
});
