import { describe, expect, test } from 'vitest';
import {
  draftOrder,
  ldnOrder,
  ldnStatement,
  naltrexoneOrder,
  noDrafts,
  opioid,
  orderFacts,
  pastOpioid,
  patientViewFacts,
  statement,
} from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('ldn-with-opioid');

describe('ldn-with-opioid', () => {
  test('LDN order with a current oxycodone statement → critical card naming both, with a remove-draft suggestion', () => {
    const ldn = ldnOrder(4.5);
    const oxycodone = opioid('oxycodone 5 mg oral tablet');
    const card = rule.evaluate(orderFacts({ focus: [ldn], medications: [oxycodone] }), noDrafts);

    expect(card).toMatchObject({ ruleId: 'ldn-with-opioid', concern: 'naltrexone-opioid', indicator: 'critical' });
    expect(card?.summary).toBe(
      'Contraindicated: LDN 4.5 mg/day with opioid oxycodone 5 mg oral tablet: withdrawal risk, blocked opioid',
    );
    expect(card?.summary.length).toBeLessThan(140);
    expect(card?.detail).toMatch(/precipitate acute opioid withdrawal/);
    expect(card?.detail).toMatch(/7–10 days \(label\)/);
    expect(card?.suggestions).toEqual([
      {
        label: 'Remove the draft order for Naltrexone 4.5 mg capsule (compounded)',
        isRecommended: true,
        actions: [{ type: 'delete', description: expect.stringContaining('Naltrexone 4.5 mg'), resourceId: ldn.ref }],
      },
    ]);
    expect(card?.subjects).toEqual([ldn.ref, oxycodone.ref]);
    expect(card?.evidence).toContain('naltrexone-label-contraindications');
    expect(card?.overrideReasons?.map((r) => r.code)).toEqual(['patient-not-taking', 'supervised-transition', 'benefit-outweighs-risk', 'data-incorrect']);
    expect(card?.overrideReasons?.every((r) => r.display && r.system.startsWith('http://ldn-cds.example.org/'))).toBe(true);
  });

  test.each(['full-dose', 'unknown-dose', 'bupropion-combination'] as const)('any naltrexone role fires: %s', (role) => {
    const card = rule.evaluate(orderFacts({ focus: [naltrexoneOrder(role)], medications: [opioid()] }), noDrafts);
    expect(card?.indicator).toBe('critical');
  });

  test.each(['codeine phosphate 2 MG/ML / guaifenesin 20 MG/ML Oral Solution', 'buprenorphine 8 mg sublingual tablet', 'methadone 10 mg tablet', 'tramadol 50 mg tablet'])(
    'an opioid classified as such counts, whatever its use: %s',
    (name) => {
      const card = rule.evaluate(orderFacts({ focus: [ldnOrder(1.5)], medications: [opioid(name)] }), noDrafts);
      expect(card?.indicator).toBe('critical');
      expect(card?.detail).toContain(name);
    },
  );

  test('an opioid in the same set of draft orders counts', () => {
    const ldn = ldnOrder(3);
    const tramadol = draftOrder('tramadol 50 mg tablet', { isOpioid: true });
    const card = rule.evaluate(orderFacts({ hook: 'order-select', focus: [ldn], orders: [ldn, tramadol] }), noDrafts);
    expect(card?.indicator).toBe('critical');
    expect(card?.subjects).toEqual([ldn.ref, tramadol.ref]);
  });

  test('patient-view: a patient taking LDN and an opioid gets the critical card without suggestions', () => {
    const card = rule.evaluate(patientViewFacts({ medications: [ldnStatement(4.5), opioid('hydrocodone 5 mg tablet')] }), noDrafts);
    expect(card?.indicator).toBe('critical');
    expect(card?.suggestions).toEqual([]);
  });

  test('medication names from the chart cannot inject Markdown into the detail; the summary keeps them as text', () => {
    const injected = opioid('oxycodone [click here](https://evil.test) <img src=x>');
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: [injected] }), noDrafts);
    expect(card?.detail).toContain('oxycodone \\[click here\\](https://evil.test) \\<img src=x\\>');
    expect(card?.detail).not.toContain('[click here](');
    expect(card?.summary).toContain('oxycodone [click here](https://evil.test)');
  });

  test('no card without a current opioid', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: [statement('metformin 500 mg')] }), noDrafts)).toBeNull();
  });

  test('no card for an opioid stopped in the past (the washout rule handles recent ones)', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: [pastOpioid('oxycodone 5 mg', 3)] }), noDrafts)).toBeNull();
  });

  test('no card for an opioid/naltrexone product (Embeda is an opioid, not naltrexone)', () => {
    const embeda = draftOrder('morphine sulfate 20 MG / naltrexone hydrochloride 0.8 MG ER Oral Capsule', { isNaltrexone: true, isOpioid: true });
    expect(rule.evaluate(orderFacts({ focus: [embeda], medications: [opioid()] }), noDrafts)).toBeNull();
  });

  test('no card for a metformin order in a patient on opioids', () => {
    expect(rule.evaluate(orderFacts({ focus: [draftOrder('metformin 500 mg tablet')], medications: [opioid()] }), noDrafts)).toBeNull();
  });
});

describe('suggestion labels are whole', () => {
  test('a Contrave order with a current opioid: the remove-draft label names the product in full, brand included', () => {
    const name = '12 HR bupropion hydrochloride 90 MG / naltrexone hydrochloride 8 MG Extended Release Oral Tablet [Contrave]';
    const contrave = draftOrder(name, { isNaltrexone: true, naltrexoneRole: 'bupropion-combination' });
    const card = rule.evaluate(orderFacts({ focus: [contrave], medications: [opioid('oxycodone 5 mg oral tablet')] }), noDrafts);
    expect(card?.suggestions?.[0]?.label).toBe(`Remove the draft order for ${name}`);
    expect(card?.summary.length).toBeLessThan(140);
  });
});
