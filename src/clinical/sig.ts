/**
 * Free-text sig reading: the amount per administration, administrations per day and bedtime from text such as
 * "4.5 mg at bedtime", "take 1.5 mg nightly", "1 tablet by mouth every 6 hours as needed", "twice daily", "qhs",
 * "once weekly" or "3 mcg". It reads only what the text says. Missing parts stay undefined; nothing is defaulted here.
 */
import { amountFromUnit, UNIT_WORDS, type Amount } from './units.js';

export interface SigReading {
  /** Amount per administration (for a range "1-2 tablets", the high end). */
  amount?: Amount;
  /** Administrations per day (for "every 4-6 hours", the shorter interval: 6/day). */
  frequencyPerDay?: number;
  /** true: bedtime/night; false: daytime, evening or more than once a day; undefined: the text does not say. */
  bedtime?: boolean;
}

/** Amounts written as words ("two tablets", "five mg", "half a tablet" reads as 0.5 only with a unit right after). */
const AMOUNT_WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, half: 0.5, '½': 0.5 };
const WORD_NUMBERS: Record<string, number> = { ...AMOUNT_WORDS, once: 1, twice: 2, thrice: 3 };

function toNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim().toLowerCase();
  if (t in WORD_NUMBERS) return WORD_NUMBERS[t];
  const frac = /^(\d+)\s*\/\s*(\d+)$/.exec(t);
  if (frac) return Number(frac[2]) > 0 ? Number(frac[1]) / Number(frac[2]) : undefined;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) ? n : undefined;
}

const NUMBER = [String.raw`\d+(?:[.,]\d+)?`, String.raw`\d+\s*\/\s*\d+`, ...Object.keys(AMOUNT_WORDS)].join('|');
/** The unit words of src/clinical/units.ts, longest first (so "tablets" is not read as "tab" + "lets"). */
const UNIT = [...UNIT_WORDS].sort((a, b) => b.length - a.length).join('|');
/** A number (or range) then a unit; a mass followed by "/" is a concentration ("1 mg/mL"), not an amount. */
const AMOUNT_RE = new RegExp(
  String.raw`(?<![\w.\/])(${NUMBER})(?:\s*(?:-|to)\s*(${NUMBER}))?\s*(${UNIT})(?![a-z])(?!\s*\/\s*(?:\d|ml|cc|l\b|hr|h\b|kg|actuat))`,
  'gi',
);

const PRIORITY: Record<Amount['kind'], number> = { mass: 3, volume: 2, count: 1 };

function readAmount(text: string): Amount | undefined {
  let best: Amount | undefined;
  for (const m of text.matchAll(AMOUNT_RE)) {
    const value = toNumber(m[2]) ?? toNumber(m[1]);
    if (value === undefined) continue;
    const amount = amountFromUnit(value, m[3]);
    if (!amount) continue;
    if (!best || PRIORITY[amount.kind] > PRIORITY[best.kind] || (amount.kind === best.kind && size(amount) > size(best))) best = amount;
  }
  return best;
}

/** Words that mark a sig as a schedule of steps ("1.5 mg for 2 weeks, then 3 mg, then 4.5 mg"). */
const STEP_WORDS = /(?<![a-z])(?:then|increas\w*|titrat\w*|thereafter|after\s+\d+\s*(?:days?|weeks?)|week\s*\d|up\s+to)(?![a-z])/i;

/**
 * The largest mass (mg) a stepped sig reaches, when the text is a schedule of steps; undefined otherwise. The dose
 * reader uses it so a titration written in the sig beside a structured first step is read at its highest step.
 */
export function highestStepMg(text: string | undefined): number | undefined {
  if (!text || !STEP_WORDS.test(text)) return undefined;
  let best: number | undefined;
  for (const m of text.replace(/[µμ]/g, 'u').matchAll(AMOUNT_RE)) {
    const value = toNumber(m[2]) ?? toNumber(m[1]);
    const amount = value === undefined ? undefined : amountFromUnit(value, m[3]);
    if (amount?.kind === 'mass' && (best === undefined || amount.mg > best)) best = amount.mg;
  }
  return best;
}

function size(a: Amount): number {
  return a.kind === 'mass' ? a.mg : a.kind === 'volume' ? a.mL : a.n;
}

const B = String.raw`(?<![a-z])`;
const E = String.raw`(?![a-z])`;
const COUNT_WORD = String.raw`\d+|one|two|three|four|five|six`;

/** Ordered: the first rule that matches decides the frequency. */
const FREQUENCY_RULES: [RegExp, (m: RegExpExecArray) => number | undefined][] = [
  [new RegExp(String.raw`${B}every\s+(\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(\d+(?:\.\d+)?))?\s*(?:hours?|hrs?|h)${E}`, 'i'), (m) => perHours(m[1], m[2])],
  [new RegExp(String.raw`${B}q\.?\s*(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?\s*(?:hours?|hrs?|h)${E}\.?`, 'i'), (m) => perHours(m[1], m[2])],
  [new RegExp(String.raw`${B}(?:every|each)\s+hour${E}|${B}hourly${E}`, 'i'), () => 24],
  [new RegExp(String.raw`${B}every\s+(\d+)\s*days?${E}`, 'i'), (m) => inverse(Number(m[1]))],
  [new RegExp(String.raw`${B}every\s+(\d+)\s*weeks?${E}`, 'i'), (m) => inverse(7 * Number(m[1]))],
  [new RegExp(String.raw`${B}every\s+(\d+)\s*months?${E}`, 'i'), (m) => inverse(30 * Number(m[1]))],
  [
    new RegExp(
      String.raw`${B}(?:(once|twice|thrice)|(${COUNT_WORD})\s*(?:times|x))\s*(?:a|an|per|each|every|\/)?\s*(day|daily|week|weekly|wk|month|monthly)${E}`,
      'i',
    ),
    (m) => perPeriod(m[1] ?? m[2], m[3]),
  ],
  // "up to 4 a day", "2 per day": a bare count per period (units per day when no amount is written).
  [new RegExp(String.raw`${B}(${COUNT_WORD})\s+(?:a|an|per|each|every)\s+(day|week|month)${E}`, 'i'), (m) => perPeriod(m[1], m[2])],
  [new RegExp(String.raw`${B}(?:q\.?i\.?d|four\s+times)${E}\.?`, 'i'), () => 4],
  [new RegExp(String.raw`${B}(?:t\.?i\.?d|three\s+times)${E}\.?`, 'i'), () => 3],
  [new RegExp(String.raw`${B}(?:b\.?i\.?d|twice)${E}\.?`, 'i'), () => 2],
  [new RegExp(String.raw`${B}(?:q\.?o\.?d|every\s+other\s+day|alternate\s+days)${E}\.?`, 'i'), () => 0.5],
  [new RegExp(String.raw`${B}(?:weekly|every\s+week|once\s+a\s+week|q\s?wk|qw)${E}`, 'i'), () => 1 / 7],
  [new RegExp(String.raw`${B}(?:monthly|every\s+month|once\s+a\s+month)${E}`, 'i'), () => 1 / 30],
  [new RegExp(String.raw`${B}(?:q\.?d|daily|every\s+day|each\s+day|once\s+a\s+day|per\s+day|a\s+day|q\s?24\s?h)${E}\.?`, 'i'), () => 1],
  [new RegExp(String.raw`${B}(?:q\.?h\.?s|h\.?s|nightly|every\s+night|each\s+night|at\s+night|at\s+bed\s*time|bed\s*time|before\s+bed|q\.?p\.?m|every\s+evening|in\s+the\s+evening)${E}\.?`, 'i'), () => 1],
  [new RegExp(String.raw`${B}(?:q\.?a\.?m|every\s+morning|in\s+the\s+morning|each\s+morning)${E}\.?`, 'i'), () => 1],
];

function perPeriod(count: string | undefined, unit: string | undefined): number | undefined {
  const n = toNumber(count);
  if (n === undefined) return undefined;
  const u = (unit ?? '').toLowerCase();
  return u.startsWith('d') ? n : u.startsWith('w') ? n / 7 : n / 30;
}

function inverse(days: number): number | undefined {
  return days > 0 ? 1 / days : undefined;
}

function perHours(a: string | undefined, b: string | undefined): number | undefined {
  const hours = Math.min(...[a, b].map((x) => (x === undefined ? Infinity : Number(x))));
  return hours > 0 && Number.isFinite(hours) ? 24 / hours : undefined;
}

const BEDTIME_RE = new RegExp(
  String.raw`${B}(?:bed\s*time|before\s+bed|at\s+bed|at\s+night|nightly|every\s+night|each\s+night|q\.?h\.?s|h\.?s|hour\s+of\s+sleep|before\s+sleep)${E}`,
  'i',
);
const DAYTIME_RE = new RegExp(
  String.raw`${B}(?:morning|q\.?a\.?m|a\.m|noon|afternoon|breakfast|lunch|daytime|during\s+the\s+day|evening|q\.?p\.?m|dinner|supper)${E}`,
  'i',
);

/** Read a free-text sig (or a medication name that carries one). */
export function parseSig(text: string | undefined): SigReading {
  if (!text?.trim()) return {};
  const t = text.replace(/[µμ]/g, 'u');
  const out: SigReading = {};
  const amount = readAmount(t);
  if (amount) out.amount = amount;
  for (const [re, fn] of FREQUENCY_RULES) {
    const m = re.exec(t);
    if (!m) continue;
    const f = fn(m);
    if (f !== undefined && Number.isFinite(f) && f > 0) {
      out.frequencyPerDay = f;
      break;
    }
  }
  const bedtimeWords = BEDTIME_RE.test(t);
  const dayWords = DAYTIME_RE.test(t);
  if (out.frequencyPerDay !== undefined && out.frequencyPerDay > 1) out.bedtime = false;
  else if (dayWords) out.bedtime = false;
  else if (bedtimeWords) out.bedtime = true;
  return out;
}
