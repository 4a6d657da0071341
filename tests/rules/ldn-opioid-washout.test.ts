import { describe, expect, test } from 'vitest';
import { ldnOrder, naltrexoneOrder, noDrafts, opioid, orderFacts, pastOpioid } from '../helpers/facts.js';
import { projectRule } from './project-rules.js';

const rule = projectRule('ldn-opioid-washout');
const expert = projectRule('ldn-opioid-washout-expert');
const facts = (daysSinceLastUse: number | undefined) =>
  orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('oxycodone 5 mg oral tablet', daysSinceLastUse)] });
const washout = (daysSinceLastUse: number | undefined): ReturnType<typeof rule.evaluate> => rule.evaluate(facts(daysSinceLastUse), noDrafts);
const washoutExpert = (daysSinceLastUse: number | undefined): ReturnType<typeof expert.evaluate> => expert.evaluate(facts(daysSinceLastUse), noDrafts);

describe('ldn-opioid-washout (label interval not met, or stop date unknown)', () => {
  test('last opioid dose 5 days ago → warning naming the opioid and the days, with a remove-draft suggestion', () => {
    const card = washout(5);
    expect(card).toMatchObject({ indicator: 'warning', concern: 'naltrexone-opioid' });
    expect(card?.summary).toBe('Opioid-free interval before LDN 1.5 mg/day: oxycodone 5 mg oral tablet last taken 5 days ago');
    expect(card?.detail).toMatch(/at least 7–10 opioid-free days/);
    expect(card?.suggestions).toHaveLength(1);
    expect(card?.overrideReasons?.map((r) => r.code)).toContain('opioid-free-interval-confirmed');
  });

  test('7 days ago (the boundary) → warning; 8 days ago → not this card', () => {
    expect(washout(7)?.summary).toMatch(/last taken 7 days ago$/);
    expect(washout(8)).toBeNull();
  });

  test('stopped with no date → warning: stop date unknown, confirm the interval, no delete suggestion', () => {
    const card = washout(undefined);
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toMatch(/stopped, date unknown$/);
    expect(card?.detail).toMatch(/Stop date unknown[\s\S]*Confirm when the last dose was taken/);
    expect(card?.suggestions ?? []).toHaveLength(0);
  });

  test('a dose yesterday reads "yesterday"', () => {
    expect(washout(1)?.summary).toMatch(/last taken yesterday$/);
  });

  test('several recent opioids: all named, the most recent dose given', () => {
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('tramadol 50 mg', 6), pastOpioid('codeine 30 mg', 4)] }), noDrafts);
    expect(card?.summary).toMatch(/tramadol 50 mg and codeine 30 mg last taken 4 days ago$/);
  });

  test('applies to full-dose naltrexone too', () => {
    const card = rule.evaluate(orderFacts({ focus: [naltrexoneOrder('full-dose')], medications: [pastOpioid('methadone 10 mg', 6)] }), noDrafts);
    expect(card?.indicator).toBe('warning');
  });

  test('no washout card while an opioid is still current (that is the critical rule)', () => {
    const card = rule.evaluate(orderFacts({ focus: [ldnOrder(1.5)], medications: [pastOpioid('oxycodone 5 mg', 5), opioid('tramadol 50 mg')] }), noDrafts);
    expect(card).toBeNull();
  });
});

describe('ldn-opioid-washout-expert (8–14 days: label minimum met, longer washout is expert opinion)', () => {
  test('8 and 14 days → info card, no suggestion to remove the order', () => {
    for (const days of [8, 14]) {
      const card = washoutExpert(days);
      expect(card).toMatchObject({ indicator: 'info', concern: 'naltrexone-opioid' });
      expect(card?.summary).toMatch(new RegExp(`${days} days ago$`));
      expect(card?.detail).toMatch(/minimum of 7–10 opioid-free days[\s\S]*7–14 days before LDN is expert\s+opinion/);
      expect(card?.suggestions ?? []).toHaveLength(0);
    }
  });

  test('7 days, 15 days and an unknown date → not this card', () => {
    expect(washoutExpert(7)).toBeNull();
    expect(washoutExpert(15)).toBeNull();
    expect(washoutExpert(undefined)).toBeNull();
  });
});
