/**
 * Medication-name lexicon: cds-services/medication-names.yaml. It finds ingredient and brand names in free
 * text (medication text, coding displays) and maps each to its ingredient(s) and class (opioid, naltrexone, …).
 * Matching is case-insensitive and word-bounded. Spaces and hyphens inside a name are flexible, and the longest
 * name wins. The matchers are compiled once, when the lexicon loads.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KnowledgeError, zodProblems } from '../model/problems.js';
import { LruCache } from '../model/cache.js';

export const INGREDIENT_CLASSES = ['opioid', 'naltrexone', 'bupropion', 'interferon-beta', 'glatiramer', 'opioid-antagonist', 'antispasticity', 'other'] as const;
export type IngredientClass = (typeof INGREDIENT_CLASSES)[number];

const Name = z.string().trim().min(1, 'must be a non-empty name');

const LexiconFile = z
  .object({
    version: z.literal(1),
    sources: z.record(z.string(), z.string().min(1)),
    ingredients: z
      .array(
        z
          .object({
            name: Name,
            class: z.enum(INGREDIENT_CLASSES),
            source: Name,
            names: z.array(Name).optional(),
          })
          .strict(),
      )
      .min(1),
    brands: z.array(z.object({ name: Name, ingredients: z.array(Name).min(1), source: Name }).strict()).default([]),
    lowDoseWords: z.array(Name).default([]),
    compoundedWords: z.array(Name).default([]),
    /** Words that name a condition in a Condition's text (problem lists often carry text only). */
    conditionWords: z
      .object({ source: Name, multipleSclerosis: z.array(Name).default([]), spasticity: z.array(Name).default([]) })
      .strict()
      .optional(),
  })
  .strict();

/** A brand read from a value-set display at load time ("... Oral Tablet [Percocet]"): see brandsFromDisplays. */
export interface DerivedBrand {
  name: string;
  ingredients: string[];
}

export interface Lexicon {
  /** Canonical (lower-case) ingredient names found in the text, in order of first appearance, without duplicates. */
  ingredientsIn(text: string): string[];
  /** Class of a canonical ingredient name; undefined for names the lexicon does not know. */
  classOf(ingredient: string): IngredientClass | undefined;
  /** The canonical ingredient a single name stands for, when the whole string is one known ingredient or synonym. */
  canonicalIngredient(name: string): string | undefined;
  /** True when the text carries low-dose wording ("LDN", "low dose", "low-dose", …). */
  hasLowDoseWording(text: string): boolean;
  /** True when the text says the product is compounded. */
  hasCompoundedWording(text: string): boolean;
  /** True when a condition's text names multiple sclerosis / spasticity (conditionWords). */
  namesMultipleSclerosis(text: string): boolean;
  namesSpasticity(text: string): boolean;
  /** Brand names known to the lexicon, hand-listed and derived (lower-case keys), for tests and review. */
  readonly brandNames: readonly string[];
  /** All canonical ingredient names. */
  readonly ingredients: readonly string[];
}

/** "β" is read as "beta" before matching. */
function normaliseText(text: string): string {
  return text.replace(/[βΒ]/g, 'beta');
}

const SYNTAX = /[.*+?^${}()|[\]\\/]/g;

/** A name as a regex source: escaped, with spaces/hyphens matching any run of spaces/hyphens (or none). */
function namePattern(name: string): string {
  return normaliseText(name)
    .trim()
    .split(/[\s-]+/)
    .map((part) => part.replace(SYNTAX, '\\$&'))
    .join('[\\s\\-]*');
}

/** One regex matching any of the names, word-bounded, longest name first (JS alternation takes the first that matches). */
function compileAlternation(names: readonly string[], flags: string): RegExp | undefined {
  if (!names.length) return undefined;
  const sorted = [...new Set(names)].sort((a, b) => b.length - a.length || a.localeCompare(b));
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${sorted.map(namePattern).join('|')})(?![\\p{L}\\p{N}])`, flags);
}

/** Key for looking a matched string back up: lower-case, separators removed. */
function nameKey(s: string): string {
  return normaliseText(s).toLowerCase().replace(/[\s-]+/g, '');
}

/** Build a lexicon from parsed YAML data; `file` names the file in errors. */
export function compileLexicon(data: unknown, file: string, derivedBrands: readonly DerivedBrand[] = []): Lexicon {
  const parsed = LexiconFile.safeParse(data);
  if (!parsed.success) {
    throw new KnowledgeError(
      zodProblems(file, parsed.error),
    );
  }
  const lex = parsed.data;
  const problems: KnowledgeError['problems'] = [];
  const classes = new Map<string, IngredientClass>();
  /** nameKey(name) → canonical ingredients it stands for. */
  const byName = new Map<string, string[]>();
  const addName = (name: string, ingredients: string[], field: string): void => {
    const key = nameKey(name);
    const prior = byName.get(key);
    if (prior && prior.join('+') !== ingredients.join('+')) {
      problems.push({ file, field, message: `name "${name}" already stands for ${prior.join(' + ')}` });
      return;
    }
    byName.set(key, ingredients);
  };

  lex.ingredients.forEach((ing, i) => {
    const canonical = ing.name.toLowerCase();
    if (classes.has(canonical)) problems.push({ file, field: `ingredients[${i}].name`, message: `duplicate ingredient "${ing.name}"` });
    if (!lex.sources[ing.source]) problems.push({ file, field: `ingredients[${i}].source`, message: `unknown source "${ing.source}" (not a key of sources)` });
    classes.set(canonical, ing.class);
    addName(ing.name, [canonical], `ingredients[${i}].name`);
    (ing.names ?? []).forEach((n, j) => addName(n, [canonical], `ingredients[${i}].names[${j}]`));
  });
  lex.brands.forEach((brand, i) => {
    if (!lex.sources[brand.source]) problems.push({ file, field: `brands[${i}].source`, message: `unknown source "${brand.source}" (not a key of sources)` });
    const ingredients = brand.ingredients.map((n) => n.toLowerCase());
    ingredients.forEach((n, j) => {
      if (!classes.has(n)) problems.push({ file, field: `brands[${i}].ingredients[${j}]`, message: `"${n}" is not a listed ingredient` });
    });
    addName(brand.name, ingredients, `brands[${i}].name`);
  });
  if (problems.length) throw new KnowledgeError(problems);
  // Brands derived from value-set displays: a hand-listed name always wins; a derived brand whose ingredients the
  // lexicon does not know, or whose name is already taken, is skipped (never an error: the value sets are imported).
  const derived = derivedBrands.filter((b) => {
    const ingredients = b.ingredients.map((n) => n.toLowerCase());
    if (!ingredients.length || !ingredients.every((n) => classes.has(n)) || byName.has(nameKey(b.name))) return false;
    byName.set(nameKey(b.name), ingredients);
    return true;
  });

  const allNames = [...lex.ingredients.flatMap((i) => [i.name, ...(i.names ?? [])]), ...lex.brands.map((b) => b.name), ...derived.map((b) => b.name)];
  const nameRegex = compileAlternation(allNames, 'giu');
  const lowDose = compileAlternation(lex.lowDoseWords, 'iu');
  const compounded = compileAlternation(lex.compoundedWords, 'iu');
  const msWords = compileAlternation(lex.conditionWords?.multipleSclerosis ?? [], 'iu');
  const spasticityWords = compileAlternation(lex.conditionWords?.spasticity ?? [], 'iu');
  // Drug texts repeat across statements and charts ("Metformin 500 mg tablet"); the Unicode-aware alternation of
  // every name costs ~15 µs a text, so results are remembered (bounded, frozen: callers share them).
  const seen = new LruCache<string, readonly string[]>(20_000);

  return {
    ingredients: [...classes.keys()],
    classOf: (ingredient) => classes.get(ingredient.toLowerCase()),
    canonicalIngredient: (name) => {
      const hit = byName.get(nameKey(name));
      return hit?.length === 1 ? hit[0] : undefined;
    },
    ingredientsIn(text) {
      if (!nameRegex || !text) return [];
      const known = seen.get(text);
      if (known) return [...known];
      const out: string[] = [];
      for (const m of normaliseText(text).matchAll(nameRegex)) {
        for (const ing of byName.get(nameKey(m[0])) ?? []) if (!out.includes(ing)) out.push(ing);
      }
      seen.set(text, Object.freeze([...out]));
      return out;
    },
    hasLowDoseWording: (text) => (lowDose ? lowDose.test(normaliseText(text)) : false),
    hasCompoundedWording: (text) => (compounded ? compounded.test(normaliseText(text)) : false),
    namesMultipleSclerosis: (text) => (msWords ? msWords.test(normaliseText(text)) : false),
    namesSpasticity: (text) => (spasticityWords ? spasticityWords.test(normaliseText(text)) : false),
    brandNames: [...lex.brands.map((b) => b.name), ...derived.map((b) => b.name)].map((n) => n.toLowerCase()),
  };
}

const BRACKETED = /\[([^\]]+)\]\s*$/;

/**
 * Brands named in square brackets at the end of RxNorm branded-drug displays ("acetaminophen 325 MG / oxycodone
 * hydrochloride 5 MG Oral Tablet [Percocet]"), with the ingredients the display lists (found with `lexicon`).
 * A strength or note after the brand ("[Subsys 1600 MCG]", "[Endodan Reformulated May 2009]") is dropped.
 */
export function brandsFromDisplays(displays: readonly string[], lexicon: Lexicon): DerivedBrand[] {
  const out = new Map<string, DerivedBrand>();
  for (const display of displays) {
    const m = BRACKETED.exec(display);
    if (!m) continue;
    const name = m[1]!.replace(/\s+(?:\d.*|reformulated.*)$/i, '').trim();
    if (!name || /^brand$/i.test(name) || /\d/.test(name)) continue;
    const ingredients = lexicon.ingredientsIn(display.slice(0, m.index));
    if (!ingredients.length) continue;
    const key = nameKey(name);
    const prior = out.get(key);
    // The same brand on several displays: keep the union of their ingredients.
    out.set(key, { name, ingredients: [...new Set([...(prior?.ingredients ?? []), ...ingredients])].sort() });
  }
  return [...out.values()];
}

/** Load and compile the lexicon YAML; any problem is a KnowledgeError naming `label` (the file as shown to people). */
export function loadLexicon(filePath: string, label = 'medication-names.yaml', derivedFrom?: (base: Lexicon) => DerivedBrand[]): Lexicon {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(filePath, 'utf8'));
  } catch (e) {
    throw KnowledgeError.one(label, '', `cannot be read: ${(e as Error).message}`);
  }
  const base = compileLexicon(data, label);
  return derivedFrom ? compileLexicon(data, label, derivedFrom(base)) : base;
}
