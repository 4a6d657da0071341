import { describe, expect, test } from 'vitest';
import { ldnOrder, naltrexoneOrder, noDrafts, opioid, orderFacts, pastOpioid } from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('ldn-opioid-washout');
const washout = (daysSinceLastUse: number | undefined): ReturnType<typeof rule.evaluate> =>
  rule.evaluate(orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('oxycodone 5 mg oral tablet', daysSinceLastUse)] }), noDrafts);

describe('ldn-opioid-washout', () => {
  test('last opioid dose 5 days ago → warning naming the opioid and the days', () => {
    const card = washout(5);
    expect(card).toMatchObject({ indicator: 'warning', concern: 'naltrexone-opioid' });
    expect(card?.summary).toBe('Recent opioid before LDN 1.5 mg/day: oxycodone 5 mg oral tablet, last dose 5 days ago');
    expect(card?.detail).toMatch(/7–10 opioid-free days/);
    expect(card?.overrideReasons?.map((r) => r.code)).toContain('opioid-free-interval-confirmed');
  });

  test('60 days ago → no card', () => {
    expect(washout(60)).toBeNull();
  });

  test('14 days ago (the boundary) → warning; 15 days ago → no card', () => {
    expect(washout(14)?.summary).toMatch(/last dose 14 days ago$/);
    expect(washout(15)).toBeNull();
  });

  test('unknown stop date → no card', () => {
    expect(washout(undefined)).toBeNull();
  });

  test('a dose yesterday reads "yesterday"', () => {
    expect(washout(1)?.summary).toMatch(/last dose yesterday$/);
  });

  test('several recent opioids: all named, the most recent dose given', () => {
    const card = rule.evaluate(
      orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('tramadol 50 mg', 9), pastOpioid('codeine 30 mg', 4)] }),
      noDrafts,
    );
    expect(card?.summary).toMatch(/tramadol 50 mg and codeine 30 mg, last dose 4 days ago$/);
  });

  test('applies to full-dose naltrexone too', () => {
    const card = rule.evaluate(orderFacts({ focus: [naltrexoneOrder('full-dose')], medications: [pastOpioid('methadone 10 mg', 6)] }), noDrafts);
    expect(card?.indicator).toBe('warning');
  });

  test('no washout card while an opioid is still current (that is the critical rule)', () => {
    const card = rule.evaluate(
      orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('oxycodone 5 mg', 5), opioid('tramadol 50 mg')] }),
      noDrafts,
    );
    expect(card).toBeNull();
  });
});
