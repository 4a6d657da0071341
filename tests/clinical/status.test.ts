import { describe, expect, it } from 'vitest';
import { daysSince, isoDate, latestInstant } from '../../src/clinical/status.js';
import { draft, fact, NOW, rx, statement } from './helpers.js';

const oxycodone = { coding: [rx('1049621', 'oxycodone hydrochloride 5 MG Oral Tablet')] };

describe('MedicationStatement status', () => {
  it.each([
    ['active', { current: true, past: false, excluded: false }],
    ['intended', { current: true, past: false, excluded: false }],
    ['on-hold', { current: true, past: false, excluded: false }],
    ['unknown', { current: true, past: false, excluded: false }],
    ['completed', { current: false, past: true, excluded: false }],
    ['stopped', { current: false, past: true, excluded: false }],
    ['not-taken', { current: false, past: false, excluded: true }],
    ['entered-in-error', { current: false, past: false, excluded: true }],
  ])('%s → %j', (status, expected) => {
    expect(fact(statement('s', oxycodone, { status }), 'medication-statement')).toMatchObject({ status, ...expected });
  });

  it('an active statement whose effectivePeriod ended before now is past, with its end as last use', () => {
    const f = fact(statement('s', oxycodone, { status: 'active', effectivePeriod: { start: '2026-01-01', end: '2026-11-01' } }), 'medication-statement');
    expect(f).toMatchObject({ current: false, past: true, lastUseDate: '2026-11-01', daysSinceLastUse: 20 });
  });

  it('an active statement whose period ends today or later stays current', () => {
    expect(fact(statement('s', oxycodone, { effectivePeriod: { end: '2026-11-21' } }), 'medication-statement').current).toBe(true);
    expect(fact(statement('s', oxycodone, { effectivePeriod: { end: '2026-12-31' } }), 'medication-statement').current).toBe(true);
  });

  it('a period that ended earlier today (date-time) still counts as current today: day-granular, the safer side', () => {
    // NOW is 2026-11-21T12:00Z; the period ended at 08:00 the same day.
    expect(fact(statement('s', oxycodone, { effectivePeriod: { end: '2026-11-21T08:00:00Z' } }), 'medication-statement').current).toBe(true);
    expect(fact(statement('s', oxycodone, { effectivePeriod: { end: '2026-11-20T23:00:00Z' } }), 'medication-statement')).toMatchObject({ current: false, daysSinceLastUse: 1 });
  });

  it('counts days since an opioid was stopped: 5 days vs 60 days ago', () => {
    const stopped = (end: string): ReturnType<typeof fact> =>
      fact(statement('s', oxycodone, { status: 'stopped', effectivePeriod: { start: '2026-01-01', end } }), 'medication-statement');
    expect(stopped('2026-11-16')).toMatchObject({ isOpioid: true, past: true, lastUseDate: '2026-11-16', daysSinceLastUse: 5 });
    expect(stopped('2026-09-22')).toMatchObject({ isOpioid: true, past: true, lastUseDate: '2026-09-22', daysSinceLastUse: 60 });
  });

  it('uses effectiveDateTime when there is no period end, and leaves unknown dates undefined', () => {
    expect(fact(statement('s', oxycodone, { status: 'completed', effectiveDateTime: '2026-11-11T08:00:00Z' }), 'medication-statement')).toMatchObject({
      lastUseDate: '2026-11-11',
      daysSinceLastUse: 10,
    });
    const unknown = fact(statement('s', oxycodone, { status: 'completed' }), 'medication-statement');
    expect(unknown.past).toBe(true);
    expect(unknown.lastUseDate).toBeUndefined();
    expect(unknown.daysSinceLastUse).toBeUndefined();
  });

  it('gives the same facts for the same resource at a different now (time is applied after normalisation)', () => {
    const resource = statement('s', oxycodone, { status: 'stopped', effectivePeriod: { end: '2026-11-16' } });
    expect(fact(resource, 'medication-statement', undefined, new Date('2026-11-26T00:00:00Z')).daysSinceLastUse).toBe(10);
    expect(fact(resource, 'medication-statement', undefined, NOW).daysSinceLastUse).toBe(5);
  });
});

describe('MedicationRequest status', () => {
  it.each([
    ['draft', 'draft-order', { current: true, excluded: false }],
    ['active', 'draft-order', { current: true, excluded: false }],
    ['cancelled', 'draft-order', { current: false, excluded: true }],
    ['active', 'medication-request', { current: true, excluded: false }],
    ['on-hold', 'medication-request', { current: true, excluded: false }],
    ['completed', 'medication-request', { current: false, past: true, excluded: false }],
    ['stopped', 'medication-request', { current: false, past: true, excluded: false }],
    ['cancelled', 'medication-request', { current: false, excluded: true }],
    ['entered-in-error', 'medication-request', { current: false, excluded: true }],
    ['draft', 'medication-request', { current: false, excluded: true }],
  ] as const)('%s from %s → %j', (status, source, expected) => {
    expect(fact(draft('r', oxycodone, { status }), source)).toMatchObject(expected);
  });

  it('a past request uses dispenseRequest.validityPeriod.end as last use', () => {
    const f = fact(draft('r', oxycodone, { status: 'completed', dispenseRequest: { validityPeriod: { start: '2026-10-01', end: '2026-11-14' } } }), 'medication-request');
    expect(f).toMatchObject({ past: true, lastUseDate: '2026-11-14', daysSinceLastUse: 7 });
  });
});

describe('date arithmetic', () => {
  it('counts whole UTC calendar days', () => {
    expect(daysSince('2026-11-20', new Date('2026-11-21T00:00:01Z'))).toBe(1);
    expect(daysSince('2026-11-21', new Date('2026-11-21T23:59:59Z'))).toBe(0);
    // a dateTime is placed on its UTC calendar day
    expect(isoDate('2026-11-20T23:30:00-05:00')).toBe('2026-11-21');
  });

  it('reads partial dates at their latest day (fewest days since), never negative', () => {
    expect(new Date(latestInstant('2026-10')!).toISOString()).toBe('2026-10-31T23:59:59.999Z');
    expect(daysSince('2026-10', NOW)).toBe(21);
    expect(daysSince('2027-01-01', NOW)).toBe(0);
    expect(daysSince('garbage', NOW)).toBeUndefined();
  });
});
