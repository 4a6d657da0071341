/**
 * Dose and timing from FHIR Dosage elements (MedicationRequest.dosageInstruction, MedicationStatement.dosage), with
 * free text as the fallback. It gives the dose per administration in mg, the administrations per day, the daily dose
 * and bedtime. The daily dose is dose × frequency ÷ period, per day (OMTKLogic.ToDaily).
 * - Dose: doseAndRate.doseQuantity, or doseRange.high (the MME-calculator convention). Units are read from the
 *   UCUM `code` first, then `unit`. A count (tablet, capsule, {pill}) is multiplied by the principal
 *   ingredient's strength per unit. mL is multiplied by mg/mL.
 * - Frequency: timing.repeat.frequency/period/periodUnit (frequencyMax is ignored). Otherwise the number of `when`
 *   or `timeOfDay` entries, or timing.code (QD, BID, TID, QID, HS, QHS, Q6H, …).
 * - When nothing says how often, it is 1/day (MMECalculator convention) and doseBasis is 'assumed'. When
 *   nothing says how much, one unit of the product's strength is assumed, also 'assumed'.
 * Dosage fields are read with FHIRPath compiled once (base type Dosage).
 */
import { compilePaths } from './paths.js';
import { highestStepMg, parseSig, type SigReading } from './sig.js';
import { amountOfQuantity, amountToMg, roundDose, type Amount, type QuantityLike, type Strength } from './units.js';

export type DoseBasis = 'structured' | 'text' | 'assumed';

export interface DoseReading {
  /** Dose per administration, mg of the principal ingredient. */
  doseMg?: number;
  dailyDoseMg?: number;
  doseBasis?: DoseBasis;
  frequencyPerDay?: number;
  atBedtime?: boolean;
  route?: string;
  /** Dosage texts as sent, joined with "; ". */
  doseText?: string;
  /**
   * Daily dose of the first step (mg): the lowest `sequence`, or the structured dose beside a stepped sig. Equal to
   * dailyDoseMg when the order has one step.
   */
  startDailyDoseMg?: number;
  /** False when nothing in the chart says how much is given (the dose fields are then absent). */
  amountStated: boolean;
  /**
   * The dose as the chart states it, for cards: "4.5 mg/day", "380 mg every 4 weeks" (non-daily schedules as
   * written, never as a fractional daily dose), "4.5 mg, frequency not stated"; absent when no dose is stated.
   */
  doseDisplay?: string;
}

/** FHIRPath expressions read from each Dosage (exported so tests can check them against fhirpath.evaluate). */
export const DOSAGE_PATHS = {
  text: 'text',
  patientInstruction: 'patientInstruction',
  sequence: 'sequence',
  doseQuantity: 'doseAndRate.dose.ofType(Quantity)',
  doseRangeHigh: 'doseAndRate.dose.ofType(Range).high',
  doseRangeLow: 'doseAndRate.dose.ofType(Range).low',
  frequency: 'timing.repeat.frequency',
  period: 'timing.repeat.period',
  periodUnit: 'timing.repeat.periodUnit',
  when: 'timing.repeat.when',
  timeOfDay: 'timing.repeat.timeOfDay',
  timingCode: 'timing.code.coding.code',
  timingCodeText: 'timing.code.text',
  route: 'route.text | route.coding.display',
} as const;

type DosagePath = keyof typeof DOSAGE_PATHS;
const compiled = compilePaths(DOSAGE_PATHS, ['Dosage']);

function read(dosage: unknown, key: DosagePath): unknown[] {
  return compiled[key](dosage);
}
function firstString(dosage: unknown, key: DosagePath): string | undefined {
  const v = read(dosage, key).find((x) => typeof x === 'string' && x.trim());
  return typeof v === 'string' ? v : undefined;
}
function firstNumber(dosage: unknown, key: DosagePath): number | undefined {
  const v = read(dosage, key).find((x) => typeof x === 'number' && Number.isFinite(x));
  return typeof v === 'number' ? v : undefined;
}
function strings(dosage: unknown, key: DosagePath): string[] {
  return read(dosage, key).filter((x): x is string => typeof x === 'string');
}

const DAYS_PER_UNIT: Record<string, number> = { s: 1 / 86400, min: 1 / 1440, h: 1 / 24, d: 1, wk: 7, mo: 30, a: 365 };

/** v3 GTSAbbreviation / common timing codes → administrations per day and bedtime. */
const TIMING_CODES: Record<string, { perDay: number; bedtime?: boolean }> = {
  QD: { perDay: 1 },
  QOD: { perDay: 0.5 },
  BID: { perDay: 2, bedtime: false },
  TID: { perDay: 3, bedtime: false },
  QID: { perDay: 4, bedtime: false },
  AM: { perDay: 1, bedtime: false },
  PM: { perDay: 1, bedtime: false },
  HS: { perDay: 1, bedtime: true },
  QHS: { perDay: 1, bedtime: true },
  BED: { perDay: 1, bedtime: true },
  Q1H: { perDay: 24, bedtime: false },
  Q2H: { perDay: 12, bedtime: false },
  Q3H: { perDay: 8, bedtime: false },
  Q4H: { perDay: 6, bedtime: false },
  Q6H: { perDay: 4, bedtime: false },
  Q8H: { perDay: 3, bedtime: false },
  Q12H: { perDay: 2, bedtime: false },
  Q24H: { perDay: 1 },
  WK: { perDay: 1 / 7 },
  MO: { perDay: 1 / 30 },
};

/** event-timing codes that mean bedtime/night; any other `when` is another time of day. */
const BEDTIME_EVENTS = new Set(['HS', 'NIGHT']);

/** timeOfDay "HH:MM:SS" at night (20:00–03:59) counts as bedtime; other times are daytime. */
function isNightTime(t: string): boolean | undefined {
  const h = Number(/^(\d{1,2})/.exec(t)?.[1]);
  if (!Number.isFinite(h)) return undefined;
  return h >= 20 || h < 4;
}

interface TimingReading {
  perDay?: number;
  bedtime?: boolean;
}

/** Structured timing only: repeat, when, timeOfDay, code. */
export function readStructuredTiming(dosage: unknown): TimingReading {
  const out: TimingReading = {};
  const frequency = firstNumber(dosage, 'frequency');
  const period = firstNumber(dosage, 'period');
  const periodUnit = firstString(dosage, 'periodUnit');
  const when = strings(dosage, 'when').map((w) => w.toUpperCase());
  const timeOfDay = strings(dosage, 'timeOfDay');
  const codes = [...strings(dosage, 'timingCode'), ...strings(dosage, 'timingCodeText')].map((c) => c.trim().toUpperCase());
  const coded = codes.map((c) => TIMING_CODES[c]).find((x) => x !== undefined);

  if (frequency !== undefined || period !== undefined) {
    const f = frequency ?? 1;
    const days = period !== undefined && periodUnit && DAYS_PER_UNIT[periodUnit] !== undefined ? period * DAYS_PER_UNIT[periodUnit]! : undefined;
    if (days !== undefined && days > 0) out.perDay = f / days;
    else if (period === undefined) out.perDay = f; // frequency without a period: read as per day
  } else if (when.length) out.perDay = new Set(when).size;
  else if (timeOfDay.length) out.perDay = new Set(timeOfDay).size;
  else if (coded) out.perDay = coded.perDay;

  if (when.length) out.bedtime = when.every((w) => BEDTIME_EVENTS.has(w));
  else if (timeOfDay.length) out.bedtime = timeOfDay.every((t) => isNightTime(t) === true);
  else if (coded?.bedtime !== undefined) out.bedtime = coded.bedtime;
  if (out.perDay !== undefined && out.perDay > 1) out.bedtime = false;
  return out;
}

/** The dose per administration as an amount: doseQuantity, else doseRange.high (else .low). */
function structuredAmount(dosage: unknown): Amount | undefined {
  for (const key of ['doseQuantity', 'doseRangeHigh', 'doseRangeLow'] as const) {
    for (const q of read(dosage, key)) {
      const a = amountOfQuantity(q as QuantityLike);
      if (a) return a;
    }
  }
  return undefined;
}

const BASIS_RANK: Record<DoseBasis, number> = { structured: 0, text: 1, assumed: 2 };

interface OneDosage {
  sequence?: number;
  doseMg?: number;
  /** Administrations per day when read (structured or text); undefined when it had to be assumed. */
  perDay?: number;
  /** Daily dose, using 1/day when the frequency could not be read. */
  dailyMg?: number;
  basis?: DoseBasis;
  /** True when the amount per administration was stated (structured or text), not one unit assumed. */
  amountStated?: boolean;
  bedtime?: boolean;
  text?: string;
  route?: string;
  /** Daily dose of the first step, when the sig is a titration read at its highest step. */
  startDailyMg?: number;
}

/**
 * Combine what was read into one dosage: `amount` (per administration) from structure or text, else one unit of the
 * product when nothing says how much; frequency from structure or text, else 1/day (assumed).
 */
function combine(
  parts: { amount?: Amount; amountBasis: DoseBasis; perDay?: number; perDayBasis: DoseBasis; bedtime?: boolean },
  strength: Strength | undefined,
): OneDosage {
  const out: OneDosage = {};
  let basis: DoseBasis = parts.amountBasis;
  let doseMg = parts.amount ? amountToMg(parts.amount, strength) : undefined;
  if (doseMg !== undefined) out.amountStated = true;
  if (!parts.amount && strength && strength.per !== 'mL') {
    doseMg = strength.mg; // nothing says how much: one unit of the product (kept for classification only)
    basis = 'assumed';
  }
  if (parts.perDay !== undefined) out.perDay = parts.perDay;
  if (parts.perDay === undefined) basis = 'assumed';
  else if (BASIS_RANK[parts.perDayBasis] > BASIS_RANK[basis]) basis = parts.perDayBasis;
  let bedtime = parts.bedtime;
  if ((parts.perDay ?? 1) > 1) bedtime = false;
  if (bedtime !== undefined) out.bedtime = bedtime;
  if (doseMg !== undefined) {
    out.doseMg = doseMg;
    out.dailyMg = roundDose(doseMg * (parts.perDay ?? 1));
    out.basis = basis;
  }
  return out;
}

function firstWith<K extends keyof SigReading>(sigs: readonly SigReading[], key: K): SigReading[K] {
  return sigs.find((s) => s[key] !== undefined)?.[key];
}

function readOne(dosage: unknown, strength: Strength | undefined, fallbackTexts: readonly string[]): OneDosage {
  const text = firstString(dosage, 'text');
  const sigs = [text, firstString(dosage, 'patientInstruction'), firstString(dosage, 'timingCodeText')].map(parseSig);
  const allSigs = [...sigs, ...fallbackTexts.map(parseSig)];
  const timing = readStructuredTiming(dosage);

  const structured = structuredAmount(dosage);
  const usable = (a: Amount | undefined): boolean => a !== undefined && amountToMg(a, strength) !== undefined;
  // A structured amount we cannot turn into mg (e.g. 1 tablet, strength unknown) yields to a sig that says mg.
  const textAmount = sigs.find((s) => usable(s.amount))?.amount;
  const useText = !usable(structured) && textAmount !== undefined;
  const amount = useText ? textAmount : (structured ?? firstWith(sigs, 'amount'));

  const textPerDay = firstWith(allSigs, 'frequencyPerDay');
  // A titration in the sig ("1.5 mg for 2 weeks, then 3 mg, then 4.5 mg") is read at the highest step it reaches,
  // even beside a structured first step.
  const stepMg = highestStepMg(text) ?? highestStepMg(firstString(dosage, 'patientInstruction'));
  const amountMg = amount ? amountToMg(amount, strength) : undefined;
  const stepped = stepMg !== undefined && (amountMg === undefined || stepMg > amountMg);
  const out = combine(
    {
      amount: stepped ? { kind: 'mass', mg: stepMg } : amount,
      amountBasis: stepped || useText || !structured ? 'text' : 'structured',
      perDay: timing.perDay ?? textPerDay,
      perDayBasis: timing.perDay !== undefined ? 'structured' : 'text',
      bedtime: timing.bedtime ?? firstWith(allSigs, 'bedtime'),
    },
    strength,
  );
  if (stepped && amountMg !== undefined && out.dailyMg !== undefined) out.startDailyMg = roundDose(amountMg * (timing.perDay ?? textPerDay ?? 1));
  const seq = firstNumber(dosage, 'sequence');
  if (seq !== undefined) out.sequence = seq;
  if (text) out.text = text;
  const route = firstString(dosage, 'route');
  if (route) out.route = route;
  return out;
}

/** No Dosage at all: the medication text may still carry a sig ("LDN 3mg", "… once weekly"). */
function fromTextsOnly(strength: Strength | undefined, medicationTexts: readonly string[]): OneDosage {
  const sigs = medicationTexts.map(parseSig);
  return combine(
    { perDay: firstWith(sigs, 'frequencyPerDay'), perDayBasis: 'text', amountBasis: 'text', bedtime: firstWith(sigs, 'bedtime') },
    strength,
  );
}

/**
 * Dose reading for one medication.
 * @param dosages Dosage elements of the resource (as read by FHIRPath).
 * @param strength Strength per unit of the principal ingredient (naltrexone, else the single opioid, else the single ingredient).
 * @param medicationTexts Medication text/displays: a last resort for frequency and bedtime (e.g. "… once weekly (Avonex)").
 * Several Dosage elements: those with the same `sequence` (or none) are concurrent and their daily doses add up. Different
 * sequences are consecutive, and the highest daily dose is kept. Bedtime is true only when no dosage says otherwise.
 */
export function readDose(dosages: readonly unknown[], strength: Strength | undefined, medicationTexts: readonly string[]): DoseReading {
  const items = dosages.length ? dosages.map((d) => readOne(d, strength, medicationTexts)) : [fromTextsOnly(strength, medicationTexts)];
  const groups = new Map<number | undefined, OneDosage[]>();
  for (const it of items) groups.set(it.sequence, [...(groups.get(it.sequence) ?? []), it]);

  let best: { daily?: number; perDay?: number; doseMg?: number; basis?: DoseBasis; stated?: boolean } | undefined;
  let first: { sequence: number; daily?: number } | undefined;
  for (const [sequence, group] of groups) {
    const withDose = group.filter((g) => g.dailyMg !== undefined);
    const summary = {
      daily: withDose.length === group.length ? roundDose(withDose.reduce((s, g) => s + (g.dailyMg ?? 0), 0)) : undefined,
      perDay: group.reduce((s, g) => s + (g.perDay ?? 0), 0) || undefined,
      doseMg: withDose.length ? Math.max(...withDose.map((g) => g.doseMg ?? 0)) : undefined,
      basis: withDose.length ? withDose.map((g) => g.basis!).sort((a, b) => BASIS_RANK[b] - BASIS_RANK[a])[0] : undefined,
      stated: withDose.length > 0 && withDose.every((g) => g.amountStated),
    };
    if (!best || (summary.daily ?? -1) > (best.daily ?? -1)) best = summary;
    const order = sequence ?? Number.NEGATIVE_INFINITY;
    const stepStart = group.length === 1 && group[0]!.startDailyMg !== undefined ? group[0]!.startDailyMg : summary.daily;
    if (!first || order < first.sequence) first = { sequence: order, ...(stepStart !== undefined ? { daily: stepStart } : {}) };
  }

  const out: DoseReading = { amountStated: best?.stated === true };
  if (best?.doseMg !== undefined) out.doseMg = best.doseMg;
  if (best?.daily !== undefined) {
    out.dailyDoseMg = best.daily;
    if (best.basis) out.doseBasis = best.basis;
    out.startDailyDoseMg = first?.daily ?? best.daily;
  }
  if (best?.perDay !== undefined) out.frequencyPerDay = roundDose(best.perDay);
  const bedtimes = items.map((i) => i.bedtime);
  if (bedtimes.some((b) => b === false)) out.atBedtime = false;
  else if (bedtimes.some((b) => b === true)) out.atBedtime = true;
  const route = items.find((i) => i.route)?.route;
  if (route) out.route = route;
  const texts = items.map((i) => i.text).filter((t): t is string => !!t);
  if (texts.length) out.doseText = texts.join('; ');
  const display = doseDisplay(out, items.some((i) => i.perDay !== undefined));
  if (display) out.doseDisplay = display;
  return out;
}

const num = (x: number): string => String(+x.toFixed(3));

/** How a card states the dose (DoseReading.doseDisplay): only what the chart says. */
function doseDisplay(d: DoseReading, frequencyStated: boolean): string | undefined {
  if (!d.amountStated || d.doseMg === undefined) return undefined;
  if (!frequencyStated || d.frequencyPerDay === undefined) return `${num(d.doseMg)} mg, frequency not stated`;
  if (d.frequencyPerDay >= 1 || d.dailyDoseMg === undefined) return `${num(d.dailyDoseMg ?? d.doseMg)} mg/day`;
  const days = Math.round(1 / d.frequencyPerDay);
  const every = days % 7 === 0 ? (days === 7 ? 'week' : `${days / 7} weeks`) : days === 30 ? 'month' : days === 2 ? 'other day' : `${days} days`;
  return `${num(d.doseMg)} mg every ${every}`;
}
