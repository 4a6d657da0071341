/**
 * Strict RFC 3339 parsing (§5.6 date-time and full-date), for feedback timestamps and report ranges.
 * JavaScript's Date accepts impossible values (February 30, 24:00) and many other formats; this does not.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/i;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant of an RFC 3339 date-time (e.g. 1985-04-12T23:20:50.52Z), or undefined when it is not one. */
export function parseDateTime(s: string): Date | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, , , oh, om] = m.map(Number);
  if (!isCalendarDate(y!, mo!, d!) || h! > 23 || mi! > 59 || sec! > 59) return undefined;
  if (oh !== undefined && !Number.isNaN(oh) && (oh > 23 || om! > 59)) return undefined;
  const t = Date.parse(s.toUpperCase());
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Midnight UTC of an RFC 3339 full-date (YYYY-MM-DD), or undefined when it is not one. */
export function parseFullDate(s: string): Date | undefined {
  const m = FULL_DATE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d] = m.map(Number);
  return isCalendarDate(y!, mo!, d!) ? new Date(Date.UTC(y!, mo! - 1, d!)) : undefined;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
