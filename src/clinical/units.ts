/**
 * Amounts, units and strengths: turn a dose quantity or unit word into mg, mL or a count of units
 * (tablet, capsule, {pill}, …). Read a strength per unit from a Ratio or from drug-name text
 * ("Naltrexone hydrochloride 50 MG Oral Tablet" → 50 mg per tablet). Pure functions, no FHIRPath.
 */

export type Amount = { kind: 'mass'; mg: number } | { kind: 'volume'; mL: number } | { kind: 'count'; n: number; unit: string };

/** Strength of one ingredient per unit: mg per `per` (a count unit such as "tablet", or "mL"); `per` absent = per unit, form unknown. */
export interface Strength {
  mg: number;
  per?: string;
}

export interface QuantityLike {
  value?: unknown;
  unit?: unknown;
  system?: unknown;
  code?: unknown;
}

/** Round away floating-point noise (1.5 × 3 stays 4.5, 0.03 stays 0.03). */
export function roundDose(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const MASS_TO_MG: Record<string, number> = {
  mg: 1,
  milligram: 1,
  milligrams: 1,
  ug: 0.001,
  mcg: 0.001,
  microgram: 0.001,
  micrograms: 0.001,
  g: 1000,
  gm: 1000,
  gram: 1000,
  grams: 1000,
};

const VOLUME_TO_ML: Record<string, number> = { ml: 1, mls: 1, milliliter: 1, milliliters: 1, millilitre: 1, millilitres: 1, cc: 1 };

/** Count units → canonical name. Solid oral units (tablet, capsule, pill, each) are interchangeable; the others are not. */
const COUNT_UNITS: Record<string, string> = {
  tablet: 'tablet',
  tablets: 'tablet',
  tab: 'tablet',
  tabs: 'tablet',
  tbl: 'tablet',
  capsule: 'capsule',
  capsules: 'capsule',
  cap: 'capsule',
  caps: 'capsule',
  pill: 'pill',
  pills: 'pill',
  each: 'each',
  ea: 'each',
  lozenge: 'lozenge',
  lozenges: 'lozenge',
  troche: 'troche',
  troches: 'troche',
  film: 'film',
  films: 'film',
  patch: 'patch',
  patches: 'patch',
  actuat: 'actuation',
  actuation: 'actuation',
  actuations: 'actuation',
  spray: 'actuation',
  sprays: 'actuation',
  injection: 'injection',
  injections: 'injection',
};

const SOLID_UNITS = new Set(['tablet', 'capsule', 'pill', 'each']);

/** Every unit word amountFromUnit reads (after normaliseUnit): the one list the sig reader matches (src/clinical/sig.ts). */
export const UNIT_WORDS: readonly string[] = [...Object.keys(MASS_TO_MG), ...Object.keys(VOLUME_TO_ML), ...Object.keys(COUNT_UNITS)];

/** Normalise a unit word or UCUM code: lower-case, braces and trailing dots removed, µ/μ → u. */
export function normaliseUnit(raw: string): string {
  return raw
    .trim()
    .replace(/[µμ]/g, 'u')
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** An amount from a number and a unit word/code; undefined when the unit is not one we can use. */
export function amountFromUnit(value: number, rawUnit: unknown): Amount | undefined {
  if (typeof rawUnit !== 'string' || !rawUnit.trim() || !Number.isFinite(value) || value < 0) return undefined;
  const u = normaliseUnit(rawUnit);
  const mass = MASS_TO_MG[u];
  if (mass !== undefined) return { kind: 'mass', mg: roundDose(value * mass) };
  const vol = VOLUME_TO_ML[u];
  if (vol !== undefined) return { kind: 'volume', mL: value * vol };
  const count = COUNT_UNITS[u];
  if (count !== undefined) return { kind: 'count', n: value, unit: count };
  return undefined;
}

/** A FHIR Quantity as an amount: UCUM `code` first (the MME calculator convention), then the display `unit`. */
export function amountOfQuantity(q: QuantityLike | undefined): Amount | undefined {
  if (!q || typeof q.value !== 'number') return undefined;
  return amountFromUnit(q.value, q.code) ?? amountFromUnit(q.value, q.unit);
}

/** True when a count of `unit` can be multiplied by a strength per `per`. */
export function unitsCompatible(unit: string, per: string | undefined): boolean {
  if (per === undefined || per === unit) return true;
  return SOLID_UNITS.has(unit) && SOLID_UNITS.has(per);
}

/** mg in an amount, given the principal ingredient's strength (for counts and volumes). */
export function amountToMg(amount: Amount, strength: Strength | undefined): number | undefined {
  switch (amount.kind) {
    case 'mass':
      return amount.mg;
    case 'volume':
      return strength?.per === 'mL' ? roundDose(amount.mL * strength.mg) : undefined;
    case 'count':
      return strength && strength.per !== 'mL' && unitsCompatible(amount.unit, strength.per) ? roundDose(amount.n * strength.mg) : undefined;
  }
}

/** Strength from a FHIR Ratio (Medication.ingredient.strength): numerator mass, denominator 1 unit or mL (or absent). */
export function strengthFromRatio(ratio: { numerator?: QuantityLike; denominator?: QuantityLike } | undefined): Strength | undefined {
  const num = amountOfQuantity(ratio?.numerator);
  if (num?.kind !== 'mass') return undefined;
  if (!ratio?.denominator) return { mg: num.mg };
  const den = amountOfQuantity(ratio.denominator);
  if (!den) {
    // A denominator with a unit we do not know (e.g. "{patch}") is not a per-unit strength we can use.
    return undefined;
  }
  if (den.kind === 'volume') return den.mL > 0 ? { mg: roundDose(num.mg / den.mL), per: 'mL' } : undefined;
  if (den.kind === 'count') return den.n > 0 ? { mg: roundDose(num.mg / den.n), per: den.unit } : undefined;
  return undefined;
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const MASS_UNIT = String.raw`(mg|milligrams?|mcg|ug|micrograms?|g|gm|grams?)`;
/** "4.5 mg", "50 MG", "3mg", "1 mg/mL", "0.02 MG/HR" (a rate: skipped), "0.1 MG/ACTUAT". */
const STRENGTH_RE = new RegExp(String.raw`(?<![\w.])${NUM}\s*${MASS_UNIT}(?:\s*\/\s*(?:${NUM}\s*)?(ml|mls|milliliters?|millilitres?|cc|hr|hrs|h|hours?|actuat|actuations?|sprays?|kg|tablets?|tabs?|capsules?|caps?|pills?))?(?![a-z])`, 'i');
const FORM_RE = /(?<![a-z])(tablets?|tabs?|capsules?|caps?|pills?|lozenges?|troches?|films?|injection|solution|suspension|syrup|elixir|liquid|drops?)(?![a-z])/i;
const LIQUID_FORMS = new Set(['solution', 'suspension', 'syrup', 'elixir', 'liquid', 'drop', 'drops']);

function perFromForm(text: string): string | undefined {
  const form = FORM_RE.exec(text)?.[1]?.toLowerCase();
  if (!form || LIQUID_FORMS.has(form)) return undefined;
  return COUNT_UNITS[form];
}

/** The first mass-per-unit strength in a piece of text; `formText` supplies the dose form when the piece has none. */
export function parseStrengthText(text: string, formText: string = text): Strength | undefined {
  const m = STRENGTH_RE.exec(text.replace(/[µμ]/g, 'u'));
  if (!m) return undefined;
  const mg = amountFromUnit(Number(m[1]), m[2]);
  if (mg?.kind !== 'mass') return undefined;
  const perUnit = m[4] ? normaliseUnit(m[4]) : undefined;
  if (perUnit !== undefined) {
    const denom = m[3] ? Number(m[3]) : 1;
    if (VOLUME_TO_ML[perUnit] !== undefined) return denom > 0 ? { mg: roundDose(mg.mg / denom), per: 'mL' } : undefined;
    const count = COUNT_UNITS[perUnit];
    if (count !== undefined) return denom > 0 ? { mg: roundDose(mg.mg / denom), per: count } : undefined;
    return undefined; // per hour, per kg, …: not a per-unit strength
  }
  const per = perFromForm(text) ?? perFromForm(formText);
  return per ? { mg: mg.mg, per } : { mg: mg.mg };
}

/**
 * Strengths of each ingredient segment of a drug name: "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet"
 * → [{segment: "acetaminophen 325 MG", 325 mg/tablet}, {segment: "oxycodone hydrochloride 5 MG Oral Tablet", 5 mg/tablet}].
 */
export function parseStrengthSegments(text: string): { segment: string; strength: Strength }[] {
  const out: { segment: string; strength: Strength }[] = [];
  for (const segment of text.split(/\s\/\s/)) {
    const strength = parseStrengthText(segment, text);
    if (strength) out.push({ segment, strength });
  }
  return out;
}
