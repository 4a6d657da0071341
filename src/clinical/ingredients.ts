/**
 * Ingredients of a medication: from Medication.ingredient[] when there is a Medication resource with
 * ingredients (codes, names, Ratio strength), otherwise from the names the lexicon finds in the product's texts
 * and displays, with strengths read from RxNorm-style names ("acetaminophen 325 MG / oxycodone … 5 MG Oral Tablet").
 * Also picks the principal ingredient, whose strength turns "1 tablet" into mg.
 */
import { compilePaths } from './paths.js';
import type { CodeRef, IngredientFact } from '../model/facts.js';
import type { Lexicon } from './lexicon.js';
import { parseStrengthSegments, parseStrengthText, strengthFromRatio, type Strength } from './units.js';
import type { ValueSetIndex } from './valuesets.js';

/** FHIRPath expressions read from each Medication.ingredient element (exported for tests). */
export const INGREDIENT_PATHS = {
  codings: 'item.ofType(CodeableConcept).coding',
  text: 'item.ofType(CodeableConcept).text',
  isActive: 'isActive',
  strength: 'strength',
} as const;

const compiled = compilePaths(INGREDIENT_PATHS, ['Medication.ingredient']);

/** A Coding as read from a resource, reduced to a CodeRef (codes without system or code are dropped). */
export function toCodeRef(coding: unknown): CodeRef | undefined {
  if (!coding || typeof coding !== 'object') return undefined;
  const c = coding as { system?: unknown; code?: unknown; display?: unknown };
  if (typeof c.system !== 'string' || typeof c.code !== 'string' || !c.system.trim() || !c.code.trim()) return undefined;
  const ref: CodeRef = { system: c.system.trim(), code: c.code.trim() };
  if (typeof c.display === 'string' && c.display.trim()) ref.display = c.display.trim();
  return ref;
}

export function displayTexts(codes: readonly CodeRef[], valueSets: ValueSetIndex): string[] {
  // The sender's display, else the display our value sets give the code (e.g. 1483744 → "naltrexone hydrochloride 50 MG Oral Tablet").
  return codes.map((c) => c.display ?? valueSets.displayOf(c)).filter((d): d is string => !!d);
}

function withStrength(fact: IngredientFact, s: Strength | undefined): IngredientFact {
  if (s) {
    fact.strengthMg = s.mg;
    if (s.per) fact.strengthPer = s.per;
  }
  return fact;
}

/** Ingredients listed on a Medication resource (inactive ones, e.g. excipients, are skipped). */
export function ingredientsFromMedication(elements: readonly unknown[], lexicon: Lexicon, valueSets: ValueSetIndex): IngredientFact[] {
  const out: IngredientFact[] = [];
  for (const el of elements) {
    if (compiled.isActive(el).some((v) => v === false)) continue;
    const codes = compiled.codings(el).map(toCodeRef).filter((c): c is CodeRef => !!c);
    const text = compiled.text(el).find((t): t is string => typeof t === 'string' && !!t.trim());
    const labels = [...displayTexts(codes, valueSets), ...(text ? [text] : [])];
    const known = labels.map((l) => lexicon.ingredientsIn(l)[0]).find((n) => n !== undefined);
    const name = known ?? labels[0]?.toLowerCase() ?? codes[0]?.code ?? 'unknown ingredient';
    const ratio = compiled.strength(el)[0] as Parameters<typeof strengthFromRatio>[0];
    out.push(withStrength({ name, codes }, strengthFromRatio(ratio)));
  }
  return out;
}

/** Ingredients named in product texts (lexicon), with strengths from the segment of text that names each. */
export function ingredientsFromTexts(texts: readonly string[], lexicon: Lexicon): IngredientFact[] {
  const names: string[] = [];
  for (const t of texts) for (const n of lexicon.ingredientsIn(t)) if (!names.includes(n)) names.push(n);
  const facts = names.map((name): IngredientFact => ({ name, codes: [] }));
  const unassigned: Strength[] = [];
  for (const t of texts) {
    for (const { segment, strength } of parseStrengthSegments(t)) {
      const inSegment = lexicon.ingredientsIn(segment);
      const target = facts.find((f) => inSegment.length === 1 && f.name === inSegment[0] && f.strengthMg === undefined);
      if (target) withStrength(target, strength);
      else if (!inSegment.length) unassigned.push(strength);
    }
  }
  // "4.5 mg capsules" with the name elsewhere: one ingredient, one unplaced strength.
  if (facts.length === 1 && facts[0]!.strengthMg === undefined && unassigned.length === 1) withStrength(facts[0]!, unassigned[0]);
  return facts;
}

/**
 * The ingredient whose strength converts a count of units into mg: the single opioid in an opioid product,
 * else naltrexone, else the only ingredient. Falls back to a single strength written in the product text.
 */
export function principalStrength(ingredients: readonly IngredientFact[], isOpioid: boolean, classOf: (n: string) => string | undefined, texts: readonly string[]): Strength | undefined {
  const strong = ingredients.filter((i) => i.strengthMg !== undefined);
  const opioids = strong.filter((i) => classOf(i.name) === 'opioid');
  const pick =
    (isOpioid && opioids.length === 1 ? opioids[0] : undefined) ??
    strong.find((i) => i.name === 'naltrexone') ??
    (ingredients.length <= 1 && strong.length === 1 ? strong[0] : undefined);
  if (pick) return pick.strengthPer ? { mg: pick.strengthMg!, per: pick.strengthPer } : { mg: pick.strengthMg! };
  if (ingredients.length <= 1) {
    const found = texts.map((t) => parseStrengthText(t)).filter((s): s is Strength => !!s);
    if (found.length && found.every((s) => s.mg === found[0]!.mg)) return found[0];
  }
  return undefined;
}
