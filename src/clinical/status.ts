/**
 * Medication status semantics and date arithmetic. The status class is decided once per resource (it does not
 * depend on the clock). `resolveTiming` then applies the evaluation date: a current statement whose
 * effectivePeriod has ended becomes past, and days since last use are counted in UTC calendar days.
 * Unknown dates stay undefined: nothing is invented.
 */
import type { MedicationSource } from '../model/facts.js';

/**
 * - current: taken now or intended.
 * - current-until-end: current unless effectivePeriod.end is before the evaluation date (statements).
 * - past: stopped/completed.
 * - excluded: ignored clinically (entered-in-error, not-taken, cancelled, a draft outside draftOrders).
 */
export type StatusClass = 'current' | 'current-until-end' | 'past' | 'excluded';

const STATEMENT: Record<string, StatusClass> = {
  active: 'current-until-end',
  intended: 'current-until-end',
  'on-hold': 'current-until-end',
  unknown: 'current-until-end',
  completed: 'past',
  stopped: 'past',
  'not-taken': 'excluded',
  'entered-in-error': 'excluded',
};

const REQUEST: Record<string, StatusClass> = {
  active: 'current',
  'on-hold': 'current',
  unknown: 'current',
  completed: 'past',
  stopped: 'past',
  cancelled: 'excluded',
  'entered-in-error': 'excluded',
  draft: 'excluded', // a draft outside context.draftOrders is not an order of this call
};

/**
 * Status class for a resource as sent. Absent or unrecognised statuses count as current (MedicationStatement
 * 'unknown' semantics): missing an interaction is worse than a superfluous warning.
 */
export function statusClass(resourceType: 'MedicationStatement' | 'MedicationRequest', source: MedicationSource, status: string | undefined): StatusClass {
  const s = (status ?? '').trim().toLowerCase();
  if (resourceType === 'MedicationStatement') return STATEMENT[s] ?? 'current-until-end';
  if (source === 'draft-order') {
    // Every order in draftOrders is current (normally status draft), unless it is cancelled or entered in error.
    return s === 'cancelled' || s === 'entered-in-error' ? 'excluded' : 'current';
  }
  return REQUEST[s] ?? 'current';
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/**
 * The last millisecond (UTC) that a FHIR date/dateTime can stand for: "2026-11" → 2026-11-30T23:59:59.999Z,
 * "2026-11-20" → 2026-11-20T23:59:59.999Z (dates without a time zone are read as UTC calendar dates),
 * a dateTime → its instant. Undefined when the value cannot be read.
 */
export function latestInstant(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const d = DATE_RE.exec(value.trim());
  if (d) {
    const y = Number(d[1]);
    if (d[3]) return Date.UTC(y, Number(d[2]) - 1, Number(d[3]) + 1) - 1;
    if (d[2]) return Date.UTC(y, Number(d[2]), 1) - 1;
    return Date.UTC(y + 1, 0, 1) - 1;
  }
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/** ISO calendar date (UTC) of a FHIR date/dateTime; partial dates ("2026-11") are kept as sent. */
export function isoDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (DATE_RE.test(v)) return v;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : undefined;
}

const DAY_MS = 86_400_000;

/**
 * Whole UTC calendar days from `lastUse` to `now`. For a partial date the latest day it can mean is used
 * ("2026-11" → 30 November), which gives the fewest days and so errs toward warning. Never negative.
 */
export function daysSince(lastUse: string | undefined, now: Date): number | undefined {
  const end = latestInstant(lastUse);
  if (end === undefined) return undefined;
  const lastDay = Math.floor(end / DAY_MS);
  const today = Math.floor(now.getTime() / DAY_MS);
  return Math.max(0, today - lastDay);
}

export interface TimingFacts {
  current: boolean;
  past: boolean;
  excluded: boolean;
  lastUseDate?: string;
  daysSinceLastUse?: number;
}

/**
 * Apply the evaluation date to a status class.
 * @param lastUse For past medications: effectivePeriod.end ?? effectiveDateTime ?? dispenseRequest.validityPeriod.end.
 * @param periodEnd effectivePeriod.end (statements): a current statement whose period ended before `now` is past.
 */
export function resolveTiming(
  cls: StatusClass,
  lastUse: string | undefined,
  periodEnd: string | undefined,
  now: Date,
  duration: { supplyEnd?: string | undefined; actionDays?: number | undefined; earliestUse?: string | undefined } = {},
): TimingFacts {
  if (cls === 'excluded') return { current: false, past: false, excluded: true };
  const today = Math.floor(now.getTime() / DAY_MS);
  const supplyEnd = latestInstant(duration.supplyEnd);
  // An active request whose days of supply ran out before today is past, last used on the last day of supply.
  if (cls === 'current' && supplyEnd !== undefined && Math.floor(supplyEnd / DAY_MS) < today) {
    cls = 'past';
    lastUse = duration.supplyEnd;
  }
  if (cls === 'current') return { current: true, past: false, excluded: false };
  if (cls === 'current-until-end') {
    // Day-granular like every other date here: a period ending today counts as current all day (the safer side),
    // so facts depend on the evaluation date only, never the time of day.
    const end = latestInstant(periodEnd);
    if (end === undefined || Math.floor(end / DAY_MS) >= Math.floor(now.getTime() / DAY_MS)) return { current: true, past: false, excluded: false };
    lastUse = periodEnd;
  }
  const out: TimingFacts = { current: false, past: true, excluded: false };
  if (lastUse === undefined && duration.actionDays !== undefined) {
    // A long-acting dose with no date given: it was given on or after `earliestUse`, so it acts at least until then.
    const days = daysSince(isoDate(duration.earliestUse), now);
    if (days !== undefined && days < duration.actionDays) return { current: true, past: false, excluded: false };
  }
  const date = isoDate(lastUse);
  if (date !== undefined) {
    out.lastUseDate = date;
    const days = daysSince(date, now);
    if (days !== undefined) out.daysSinceLastUse = days;
    // A long-acting dose keeps acting: given fewer than actionDays days ago, it is current.
    if (days !== undefined && duration.actionDays !== undefined && days < duration.actionDays) {
      return { current: true, past: false, excluded: false, lastUseDate: date, daysSinceLastUse: days };
    }
  }
  return out;
}
