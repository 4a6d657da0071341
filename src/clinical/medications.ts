/**
 * MedicationStatement / MedicationRequest (+ referenced Medication) → MedicationFact. This is done in two steps so
 * the costly part can be cached:
 * 1. `normaliseMedication` (time-independent; FHIRPath, value sets, lexicon, dose): codes, ingredients,
 *    classification, dose, the status class and the dates it needs.
 * 2. `finaliseMedication` (cheap; needs `now`): current/past/excluded, lastUseDate and daysSinceLastUse.
 *
 * Classification (terminology.md §1.2, valuesets/README.md):
 * - opioid: any code in opioids-all, opioid-analgesics-cdc, opioid-ingredients, opioid-atc (ATC hierarchy), or an
 *   Embeda/Troxyca code (naltrexone-opioid-combinations minus naltrexone-bupropion-combinations), or an opioid
 *   ingredient or brand named in the product text.
 * - naltrexone: naltrexone.json, naltrexone-opioid-combinations.json, or a naltrexone name (incl. "LDN").
 *   An opioid product (Embeda, Troxyca) has isNaltrexone true and **no** naltrexoneRole: it is an opioid.
 * - naltrexoneRole: Contrave code or bupropion + naltrexone → bupropion-combination. Otherwise, with naltrexone
 *   alone: a daily dose <= 5 mg (and a single dose <= 5 mg when known) → ldn; low-dose wording, or "compounded"
 *   with a strength <= 5 mg per unit → ldn; a naltrexone-full-dose code or a dose > 5 mg → full-dose; else unknown-dose.
 * - interferon-beta and glatiramer: their value sets or names/brands (glatiramer is not an interferon).
 */
import { compilePaths } from './paths.js';
import type { CodeRef, IngredientFact, MedicationFact, MedicationSource, NaltrexoneRole } from '../model/facts.js';
import { deepFreeze } from '../model/cache.js';
import { readDose } from './dose.js';
import { displayTexts, ingredientsFromMedication, ingredientsFromTexts, principalStrength, toCodeRef } from './ingredients.js';
import type { Lexicon } from './lexicon.js';
import { resolveTiming, statusClass, type StatusClass } from './status.js';
import type { ValueSetIndex } from './valuesets.js';

/** Value sets this module reads; loading fails when one is missing. */
export const MEDICATION_VALUE_SETS = [
  'opioids-all',
  'opioid-analgesics-cdc',
  'opioid-ingredients',
  'opioid-atc',
  'naltrexone',
  'naltrexone-full-dose',
  'naltrexone-opioid-combinations',
  'naltrexone-bupropion-combinations',
  'interferon-beta',
  'glatiramer',
] as const;

const OPIOID_SETS = ['opioids-all', 'opioid-analgesics-cdc', 'opioid-ingredients', 'opioid-atc'] as const;

/** FHIRPath expressions read from MedicationStatement / MedicationRequest (exported so tests can re-evaluate them). */
export const MEDICATION_PATHS = {
  id: 'id',
  status: 'status',
  conceptCodings: 'medication.ofType(CodeableConcept).coding',
  conceptText: 'medication.ofType(CodeableConcept).text',
  reference: 'medication.ofType(Reference).reference',
  referenceDisplay: 'medication.ofType(Reference).display',
  statementDosage: 'dosage',
  requestDosage: 'dosageInstruction',
  effectiveStart: 'effective.ofType(Period).start',
  effectiveEnd: 'effective.ofType(Period).end',
  effectiveDateTime: 'effective.ofType(dateTime)',
  validityEnd: 'dispenseRequest.validityPeriod.end',
  authoredOn: 'authoredOn',
  supplyDuration: 'dispenseRequest.expectedSupplyDuration',
  repeatsAllowed: 'dispenseRequest.numberOfRepeatsAllowed',
} as const;

/** FHIRPath expressions read from a Medication resource. */
export const MEDICATION_RESOURCE_PATHS = {
  codings: 'code.coding',
  text: 'code.text',
  ingredients: 'ingredient',
} as const;

/** The paths compiled for each resource type (the model differs: effective[x] is a MedicationStatement's only). */
const READERS = {
  MedicationStatement: compilePaths(MEDICATION_PATHS, ['MedicationStatement']),
  MedicationRequest: compilePaths(MEDICATION_PATHS, ['MedicationRequest']),
};
const readersFor = (resource: unknown) =>
  READERS[(resource as { resourceType?: unknown } | null)?.resourceType === 'MedicationStatement' ? 'MedicationStatement' : 'MedicationRequest'];
const M = compilePaths(MEDICATION_RESOURCE_PATHS, ['Medication']);

function str(values: unknown[]): string | undefined {
  const v = values.find((x) => typeof x === 'string' && x.trim());
  return typeof v === 'string' ? v.trim() : undefined;
}
function codeRefs(values: unknown[]): CodeRef[] {
  return values.map(toCodeRef).filter((c): c is CodeRef => !!c);
}

export interface MedicationInput {
  /** The MedicationStatement or MedicationRequest as sent (read only, never mutated). */
  resource: { resourceType: string; contained?: unknown[] };
  source: MedicationSource;
  /** The Medication that medication[x] references (contained or bundled/fetched), already resolved. */
  medication?: unknown;
}

/** The time-independent part of a MedicationFact plus what `finaliseMedication` needs. Frozen: cached across requests. */
export interface MedicationBase {
  fact: Readonly<Omit<MedicationFact, 'current' | 'past' | 'excluded' | 'lastUseDate' | 'daysSinceLastUse'>>;
  statusClass: StatusClass;
  /** effectivePeriod.end ?? effectiveDateTime ?? dispenseRequest.validityPeriod.end, as sent. */
  lastUse?: string;
  /** effectivePeriod.end (statements), as sent. */
  periodEnd?: string;
  /**
   * Requests: the day the supply runs out, authoredOn + expectedSupplyDuration × (1 + numberOfRepeatsAllowed)
   * (ISO date). A non-draft request whose supply ran out before the evaluation date is past, last used that day.
   */
  supplyEnd?: string;
  /**
   * The earliest date a dose can have been given (effectivePeriod.start, or a request's authoredOn): for long-acting
   * products without a last-use date, a dose on or after it still acts if it is fewer than actionDays days ago.
   */
  earliestUse?: string;
  /** medicationReference.reference when it points outside the resource ("Medication/1"), so cache hits can re-check it. */
  externalReference?: string;
}

export interface Classifier {
  valueSets: ValueSetIndex;
  lexicon: Lexicon;
}

/** The reference medication[x] holds, read with FHIRPath (for resolving before normalisation). */
export function medicationReferenceOf(resource: unknown): string | undefined {
  return str(readersFor(resource).reference(resource));
}

/**
 * Names are shown whole: RxNorm names run past 100 characters ("12 HR bupropion … Oral Tablet [Contrave]", 107),
 * and no card field they appear in besides the summary is length-limited (summaries shorten names themselves,
 * at word boundaries). Only runaway free text is bounded, and then at a word boundary, never inside a word.
 */
const MAX_NAME = 300;
function shortName(name: string): string {
  const n = name.replace(/\s+/g, ' ').trim();
  if (n.length <= MAX_NAME) return n;
  const head = n.slice(0, MAX_NAME);
  const space = head.lastIndexOf(' ');
  return `${(space > 0 ? head.slice(0, space) : head.slice(0, MAX_NAME - 1)).replace(/[\s,;:(\-–/]+$/u, '')}…`;
}

/** Classes worth naming in a summary; "other" ingredients (e.g. guaifenesin) are left to the full name. */
const LABELLED_CLASSES = new Set(['opioid', 'naltrexone', 'bupropion', 'interferon-beta', 'glatiramer', 'opioid-antagonist', 'antispasticity']);

/** The only marketed oral naltrexone strength (terminology.md §6.2): any other strength per unit is compounded. */
const MARKETED_ORAL_MG = 50;
/**
 * LDN by dose (terminology.md §1.2: sole ingredient naltrexone, daily dose <= 5 mg; seed 001: LDN is "less than 10%
 * of a typical dose" of 50 mg; seed 000: typically 0.5-4.5 mg nightly).
 */
const LDN_MAX_DAILY_MG = 5;
/** Extended-release injectable naltrexone blocks opioids for about 28 days after a dose (Vivitrol label §5.1). */
const XR_NALTREXONE_ACTION_DAYS = 28;
const INJECTABLE_WORDS = /(?<![a-z])(?:inject\w*|intramuscular|i\.?m\.?|extended[\s-]release\s+(?:injectable\s+)?suspension|vivitrol)(?![a-z])/i;

const DAYS_PER: Record<string, number> = { d: 1, day: 1, days: 1, wk: 7, week: 7, weeks: 7, mo: 30, month: 30, months: 30 };

/** authoredOn + expectedSupplyDuration × (1 + repeats), as an ISO date; undefined when either is missing. */
function supplyEndDate(authoredOn: string | undefined, duration: unknown, repeats: unknown): string | undefined {
  if (!authoredOn || !duration || typeof duration !== 'object') return undefined;
  const d = duration as { value?: unknown; code?: unknown; unit?: unknown };
  const per = DAYS_PER[String(d.code ?? d.unit ?? '').trim().toLowerCase()];
  if (typeof d.value !== 'number' || !(d.value > 0) || per === undefined) return undefined;
  const start = Date.parse(authoredOn.length === 10 ? `${authoredOn}T00:00:00Z` : authoredOn);
  if (!Number.isFinite(start)) return undefined;
  const fills = 1 + (typeof repeats === 'number' && repeats > 0 ? repeats : 0);
  return new Date(start + d.value * per * fills * 86_400_000).toISOString().slice(0, 10);
}

/** The short label for summaries (see MedicationFact.label). */
function clinicalLabel(names: ReadonlySet<string>, lexicon: Lexicon, role: NaltrexoneRole | undefined, doseDisplay: string, fallback: string): string {
  const dose = doseDisplay === 'dose not stated' ? '(dose not stated)' : doseDisplay;
  if (role === 'ldn') return `LDN ${dose}`;
  if (role === 'full-dose' || role === 'unknown-dose') return `naltrexone ${dose}`;
  const canonical = [...new Set([...names].map((n) => lexicon.canonicalIngredient(n) ?? n))].filter((n) => LABELLED_CLASSES.has(lexicon.classOf(n) ?? 'other'));
  return canonical.length ? canonical.sort().join('/') : fallback;
}

function has(k: Classifier, ids: readonly string[], codes: readonly CodeRef[]): boolean {
  return k.valueSets.hasAny(ids, codes);
}

/** Step 1: everything that does not depend on the evaluation date. */
export function normaliseMedication(input: MedicationInput, k: Classifier): MedicationBase {
  const r = input.resource;
  const resourceType = r.resourceType === 'MedicationStatement' ? 'MedicationStatement' : 'MedicationRequest';
  const P = readersFor(r);
  const id = str(P.id(r));
  const status = str(P.status(r)) ?? '';
  const med = input.medication;

  const productCodes = [...codeRefs(P.conceptCodings(r)), ...(med ? codeRefs(M.codings(med)) : [])];
  const conceptText = str(P.conceptText(r));
  const medText = med ? str(M.text(med)) : undefined;
  const refDisplay = str(P.referenceDisplay(r));
  const productTexts = [conceptText, medText, refDisplay, ...displayTexts(productCodes, k.valueSets)].filter((t): t is string => !!t);

  const listed = med ? ingredientsFromMedication(M.ingredients(med), k.lexicon, k.valueSets) : [];
  const ingredients: IngredientFact[] = listed.length ? listed : ingredientsFromTexts(productTexts, k.lexicon);
  const allCodes = [...productCodes, ...ingredients.flatMap((i) => i.codes)];
  const names = new Set([...ingredients.map((i) => i.name), ...productTexts.flatMap((t) => k.lexicon.ingredientsIn(t))]);
  const classes = new Set([...names].map((n) => k.lexicon.classOf(n)));

  const opioidCombination = has(k, ['naltrexone-opioid-combinations'], allCodes) && !has(k, ['naltrexone-bupropion-combinations'], allCodes);
  const isOpioid = has(k, OPIOID_SETS, allCodes) || opioidCombination || classes.has('opioid');
  const isNaltrexone = has(k, ['naltrexone', 'naltrexone-opioid-combinations'], allCodes) || classes.has('naltrexone');
  const isBupropionCombination = has(k, ['naltrexone-bupropion-combinations'], allCodes) || (isNaltrexone && classes.has('bupropion'));
  const isInterferonBeta = has(k, ['interferon-beta'], allCodes) || classes.has('interferon-beta');
  const isGlatiramer = has(k, ['glatiramer'], allCodes) || classes.has('glatiramer');
  const isSamidorphan = classes.has('opioid-antagonist');
  const isAntispasticity = classes.has('antispasticity');

  const dosages = resourceType === 'MedicationStatement' ? P.statementDosage(r) : P.requestDosage(r);
  const strength = principalStrength(ingredients, isOpioid, (n) => k.lexicon.classOf(n), productTexts);
  const dose = readDose(dosages, strength, productTexts);

  let naltrexoneRole: NaltrexoneRole | undefined;
  if (isNaltrexone && !isOpioid) {
    if (isBupropionCombination) naltrexoneRole = 'bupropion-combination';
    else {
      const sigTexts = dose.doseText ? [dose.doseText] : [];
      const wording = [...productTexts, ...sigTexts];
      const naltrexoneStrength = ingredients.find((i) => i.name === 'naltrexone')?.strengthMg ?? strength?.mg;
      // LDN by dose, whatever the words: the stated daily dose, else the strength of one unit.
      const daily = dose.dailyDoseMg;
      const single = dose.doseMg;
      const fullDoseCode = has(k, ['naltrexone-full-dose'], allCodes);
      const compounded = wording.some((t) => k.lexicon.hasCompoundedWording(t)) || (naltrexoneStrength !== undefined && naltrexoneStrength !== MARKETED_ORAL_MG && !fullDoseCode);
      const highest = Math.max(daily ?? 0, single ?? 0);
      if (daily !== undefined && daily <= LDN_MAX_DAILY_MG && (single === undefined || single <= LDN_MAX_DAILY_MG)) naltrexoneRole = 'ldn';
      else if (wording.some((t) => k.lexicon.hasLowDoseWording(t))) naltrexoneRole = 'ldn';
      else if (naltrexoneStrength !== undefined && naltrexoneStrength <= LDN_MAX_DAILY_MG && !fullDoseCode) naltrexoneRole = 'ldn';
      // Compounded naltrexone below the marketed 50 mg (seed 000: LDN "requires preparation by compounding pharmacies").
      else if (compounded && !INJECTABLE_WORDS.test(wording.join(' ')) && highest > 0 && highest < MARKETED_ORAL_MG) naltrexoneRole = 'ldn';
      else if (fullDoseCode || (daily !== undefined && daily > LDN_MAX_DAILY_MG) || (single !== undefined && single > LDN_MAX_DAILY_MG)) naltrexoneRole = 'full-dose';
      // The only naltrexone injection is the 380 mg extended-release one: full-dose blockade (terminology.md §1.2).
      else if (INJECTABLE_WORDS.test([...wording, dose.route ?? ''].join(' '))) naltrexoneRole = 'full-dose';
      else naltrexoneRole = 'unknown-dose';
    }
  }

  const longActing = naltrexoneRole === 'full-dose' && INJECTABLE_WORDS.test([...productTexts, dose.doseText ?? '', dose.route ?? ''].join(' '));
  const stated = dose.amountStated;
  const doseDisplay = dose.doseDisplay ?? 'dose not stated';

  const name = shortName(
    conceptText ?? medText ?? productCodes.find((c) => c.display)?.display ?? refDisplay ?? (ingredients.map((i) => i.name).join(' / ') || 'Unnamed medication'),
  );

  const fact: MedicationBase['fact'] = {
    ref: `${resourceType}/${id ?? '#'}`,
    resourceType,
    source: input.source,
    name,
    label: clinicalLabel(names, k.lexicon, naltrexoneRole, doseDisplay, name),
    codes: productCodes,
    ingredients,
    isNaltrexone,
    ...(naltrexoneRole ? { naltrexoneRole } : {}),
    isOpioid,
    isInterferonBeta,
    isGlatiramer,
    isSamidorphan,
    isAntispasticity,
    ...(longActing ? { actionDays: XR_NALTREXONE_ACTION_DAYS } : {}),
    doseDisplay,
    // An amount the chart does not state is never given as a dose (it was one unit assumed).
    ...(stated && dose.doseMg !== undefined ? { doseMg: dose.doseMg } : {}),
    ...(stated && dose.dailyDoseMg !== undefined ? { dailyDoseMg: dose.dailyDoseMg } : {}),
    ...(stated && dose.startDailyDoseMg !== undefined ? { startDailyDoseMg: dose.startDailyDoseMg } : {}),
    ...(stated && dose.doseBasis ? { doseBasis: dose.doseBasis } : {}),
    ...(dose.frequencyPerDay !== undefined ? { frequencyPerDay: dose.frequencyPerDay } : {}),
    ...(dose.atBedtime !== undefined ? { atBedtime: dose.atBedtime } : {}),
    ...(dose.route ? { route: dose.route } : {}),
    status,
    ...effectiveDates(r, resourceType),
    ...(dose.doseText ? { doseText: dose.doseText } : {}),
  };

  const periodEnd = resourceType === 'MedicationStatement' ? str(P.effectiveEnd(r)) : undefined;
  const supplyEnd =
    resourceType === 'MedicationRequest' && input.source !== 'draft-order'
      ? supplyEndDate(str(P.authoredOn(r)), P.supplyDuration(r)[0], P.repeatsAllowed(r)[0])
      : undefined;
  const lastUse = periodEnd ?? str(P.effectiveDateTime(r)) ?? supplyEnd ?? str(P.validityEnd(r));
  const earliestUse = longActing ? (resourceType === 'MedicationStatement' ? str(P.effectiveStart(r)) : str(P.authoredOn(r))) : undefined;
  const reference = medicationReferenceOf(r);
  const base: MedicationBase = {
    fact,
    statusClass: statusClass(resourceType, input.source, status),
    ...(lastUse ? { lastUse } : {}),
    ...(periodEnd ? { periodEnd } : {}),
    ...(supplyEnd ? { supplyEnd } : {}),
    ...(earliestUse ? { earliestUse } : {}),
    ...(reference && !reference.startsWith('#') ? { externalReference: reference } : {}),
  };
  return deepFreeze(base);
}

function effectiveDates(r: unknown, resourceType: string): { effectiveStart?: string; effectiveEnd?: string } {
  if (resourceType !== 'MedicationStatement') return {};
  const P = READERS.MedicationStatement;
  const start = str(P.effectiveStart(r)) ?? str(P.effectiveDateTime(r));
  const end = str(P.effectiveEnd(r));
  return { ...(start ? { effectiveStart: start } : {}), ...(end ? { effectiveEnd: end } : {}) };
}

/**
 * Step 2: apply the evaluation date. `fallbackRef` replaces the "#" placeholder of resources without an id
 * (e.g. "MedicationRequest/#0" for the first draft order).
 */
export function finaliseMedication(base: MedicationBase, now: Date, fallbackRef?: string): MedicationFact {
  const timing = resolveTiming(base.statusClass, base.lastUse, base.periodEnd, now, { supplyEnd: base.supplyEnd, actionDays: base.fact.actionDays, earliestUse: base.earliestUse });
  const fact: MedicationFact = { ...base.fact, ...timing };
  if (fallbackRef && fact.ref.endsWith('/#')) fact.ref = fallbackRef;
  return fact;
}
