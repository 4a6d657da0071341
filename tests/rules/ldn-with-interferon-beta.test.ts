import { describe, expect, test } from 'vitest';
import {
  draftOrder,
  glatiramer,
  interferonBeta,
  ldnOrder,
  ldnStatement,
  multipleSclerosis,
  naltrexoneOrder,
  noDrafts,
  orderFacts,
  patientViewFacts,
} from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('ldn-with-interferon-beta');

describe('ldn-with-interferon-beta', () => {
  test('LDN order with current interferon-beta → warning that says exactly what its one source says', () => {
    const ldn = ldnOrder(3);
    const avonex = interferonBeta();
    const card = rule.evaluate(orderFacts({ focus: [ldn], medications: [avonex] }), noDrafts);

    expect(card).toMatchObject({ indicator: 'warning', concern: 'ldn-interferon-beta' });
    expect(card?.summary).toBe(
      'LDN 3 mg/day with interferon beta-1a: interaction assumed from pharmacokinetics (consumer article)',
    );
    expect(card?.detail).toMatch(/A consumer MS article says that, based on pharmacokinetics, scientists assume LDN interacts/);
    // "No clinical study" was the project's claim, not the source's (issue 13): it is gone.
    expect(card?.detail).not.toMatch(/no clinical study/i);
    expect(card?.detail).toMatch(/Glatiramer acetate \(Copaxone\) has been used with LDN \(retrospective cohort, Ludwig 2016\)/);
    expect(card?.detail).toMatch(/LDN is off-label\s+and is not one/);
    // Raknes 2017 says nothing about interferon-beta: it is cited (with the label's indications) only for the
    // sentence that LDN is off-label and not a disease-modifying therapy (its `says` in the rule file).
    expect(card?.evidence).toEqual(['ldn-ms-consumer-article', 'ludwig-2016', 'naltrexone-label-indications', 'raknes-2017']);
    expect(card?.suggestions?.[0]?.actions).toEqual([{ type: 'delete', description: expect.any(String), resourceId: ldn.ref }]);
    expect(card?.subjects).toEqual([ldn.ref, avonex.ref]);
  });

  test('interferon-beta order for a patient taking LDN → warning, no suggestion (LDN is not a draft)', () => {
    const rebif = draftOrder('Rebif (interferon beta-1a) 44 mcg', { isInterferonBeta: true });
    const card = rule.evaluate(orderFacts({ focus: [rebif], medications: [ldnStatement(4.5)] }), noDrafts);
    expect(card?.indicator).toBe('warning');
    expect(card?.suggestions).toEqual([]);
  });

  test('patient-view: a patient on both gets the warning', () => {
    const card = rule.evaluate(patientViewFacts({ medications: [ldnStatement(4.5), interferonBeta()], conditions: [multipleSclerosis()] }), noDrafts);
    expect(card?.indicator).toBe('warning');
    expect(card?.suggestions).toEqual([]);
  });

  test('LDN with glatiramer only → no card', () => {
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: [glatiramer()] }), noDrafts)).toBeNull();
    expect(rule.evaluate(patientViewFacts({ medications: [ldnStatement(4.5), glatiramer()] }), noDrafts)).toBeNull();
  });

  test('an unrelated order for a patient on LDN and interferon-beta → no card', () => {
    const card = rule.evaluate(orderFacts({ focus: [draftOrder('metformin 500 mg tablet')], medications: [ldnStatement(4.5), interferonBeta()] }), noDrafts);
    expect(card).toBeNull();
  });

  test('full-dose naltrexone is not LDN → no card', () => {
    expect(rule.evaluate(orderFacts({ focus: [naltrexoneOrder('full-dose')], medications: [interferonBeta()] }), noDrafts)).toBeNull();
  });

  test('stopped interferon-beta → no card', () => {
    const stopped = interferonBeta('Betaseron (interferon beta-1b)', { current: false, past: true, status: 'completed' });
    expect(rule.evaluate(orderFacts({ focus: [ldnOrder(4.5)], medications: [stopped] }), noDrafts)).toBeNull();
  });
});
