/**
 * Value sets: the FHIR ValueSet files in cds-services/valuesets/, loaded once into one hash set of
 * "system|code" per ValueSet id. Membership is a Set lookup, never a scan. The lookup knows two code
 * hierarchies, so no terminology server is needed:
 * - ATC: a code matches when the code or any ATC-level prefix of it (1, 3, 4, 5 or 7 characters) is in the set
 *   (opioid-atc holds the groups N02A and N07BC, so N07BC02 matches).
 * - ICD-10-CM: a code matches when the code or an ancestor is in the set. Ancestors come from dropping the
 *   characters after the dot one at a time, then the dot (G35.B1 → G35.B → G35). So G35.A and G35.D are MS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KnowledgeError, zodProblems } from '../model/problems.js';

export const ATC_SYSTEM = 'http://www.whocc.no/atc';
export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** Anything with a system and a code (a FHIR Coding or a CodeRef). */
export interface CodingLike {
  system?: string;
  code?: string;
}

const ATC_LEVEL_LENGTHS = [1, 3, 4, 5, 7] as const;

export class ValueSetIndex {
  readonly #sets: ReadonlyMap<string, ReadonlySet<string>>;
  readonly #displays: ReadonlyMap<string, string>;
  readonly #urls: ReadonlyMap<string, string>;

  /** `displays`: "system|code" → display as written in a value set (first one seen); `urls`: canonical url → id. */
  constructor(sets: ReadonlyMap<string, ReadonlySet<string>>, displays: ReadonlyMap<string, string> = new Map(), urls: ReadonlyMap<string, string> = new Map()) {
    this.#sets = sets;
    this.#displays = displays;
    this.#urls = urls;
  }

  /** The id of the value set with this canonical `url` (FHIRPath memberOf()), or undefined. */
  idOfUrl(url: string): string | undefined {
    return this.#urls.get(url);
  }

  /** Every canonical url loaded. */
  get urls(): string[] {
    return [...this.#urls.keys()];
  }

  /** The display a value set gives this exact code (no hierarchy), e.g. 7052 → "morphine". */
  displayOf(coding: CodingLike): string | undefined {
    const system = coding.system?.trim();
    const code = coding.code?.trim();
    return system && code ? this.#displays.get(`${system}|${code}`) : undefined;
  }

  /** Every display the value set's codes carry (first display seen per code), in no particular order. */
  displaysOf(valueSetId: string): string[] {
    const out: string[] = [];
    for (const key of this.#set(valueSetId)) {
      const d = this.#displays.get(key);
      if (d) out.push(d);
    }
    return out;
  }

  /** The ValueSet ids that were loaded. */
  get ids(): string[] {
    return [...this.#sets.keys()];
  }

  /** Number of distinct system|code entries in one value set. */
  size(valueSetId: string): number {
    return this.#set(valueSetId).size;
  }

  /** True when the coding (or, for ATC and ICD-10-CM, an ancestor of it) is in the value set. */
  has(valueSetId: string, coding: CodingLike): boolean {
    const set = this.#set(valueSetId);
    const system = coding.system?.trim();
    const code = coding.code?.trim();
    if (!system || !code) return false;
    for (const candidate of candidateCodes(system, code)) {
      if (set.has(`${system}|${candidate}`)) return true;
    }
    return false;
  }

  /** True when any of the codings is in any of the value sets. */
  hasAny(valueSetIds: readonly string[], codings: readonly CodingLike[]): boolean {
    for (const id of valueSetIds) {
      for (const c of codings) if (this.has(id, c)) return true;
    }
    return false;
  }

  #set(valueSetId: string): ReadonlySet<string> {
    const set = this.#sets.get(valueSetId);
    if (!set) throw new Error(`Unknown value set "${valueSetId}" (loaded: ${[...this.#sets.keys()].join(', ')})`);
    return set;
  }
}

/** The code itself, then its ancestors where the code system has a hierarchy we can compute. */
export function candidateCodes(system: string, code: string): string[] {
  if (system === ATC_SYSTEM) {
    const upper = code.toUpperCase();
    const out = [upper];
    for (const len of ATC_LEVEL_LENGTHS) if (len < upper.length) out.push(upper.slice(0, len));
    return out;
  }
  if (system === ICD10CM_SYSTEM) return icd10cmAncestry(code);
  return [code];
}

/** "G35.B1" → ["G35.B1", "G35.B", "G35"]; an undotted "G35B1" is dotted first. */
export function icd10cmAncestry(code: string): string[] {
  let c = code.toUpperCase();
  if (!c.includes('.') && c.length > 3) c = `${c.slice(0, 3)}.${c.slice(3)}`;
  const out = [c];
  const dot = c.indexOf('.');
  if (dot < 0) return out;
  for (let end = c.length - 1; end > dot + 1; end--) out.push(c.slice(0, end));
  out.push(c.slice(0, dot));
  return [...new Set(out)];
}

const Concept = z.object({ code: z.string().trim().min(1, 'must be a non-empty code'), display: z.string().optional() }).passthrough();
type Contains = { system?: string; code?: string; display?: string; contains?: Contains[] };
const ContainsSchema: z.ZodType<Contains> = z.lazy(() =>
  z
    .object({
      system: z.string().min(1).optional(),
      code: z.string().trim().min(1).optional(),
      display: z.string().optional(),
      contains: z.array(ContainsSchema).optional(),
    })
    .passthrough(),
);

const ValueSetFile = z
  .object({
    resourceType: z.literal('ValueSet'),
    id: z.string().min(1),
    url: z.string().optional(),
    expansion: z.object({ contains: z.array(ContainsSchema).optional() }).passthrough().optional(),
    compose: z
      .object({
        include: z.array(z.object({ system: z.string().optional(), concept: z.array(Concept).optional() }).passthrough()).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** Parse one ValueSet's JSON text into its "system|code" keys; throws KnowledgeError naming `file`. */
export function parseValueSet(file: string, text: string, expectedId?: string): { id: string; url?: string; keys: Set<string>; displays: Map<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw KnowledgeError.one(file, '', `is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = ValueSetFile.safeParse(json);
  if (!parsed.success) {
    throw new KnowledgeError(zodProblems(file, parsed.error));
  }
  const vs = parsed.data;
  if (expectedId !== undefined && vs.id !== expectedId) {
    throw KnowledgeError.one(file, 'id', `is "${vs.id}" but the file name says "${expectedId}"`);
  }
  const keys = new Set<string>();
  const displays = new Map<string, string>();
  const add = (system: string, code: string, display: string | undefined): void => {
    const key = `${system}|${code.trim()}`;
    keys.add(key);
    if (display && !displays.has(key)) displays.set(key, display);
  };
  const problems: KnowledgeError['problems'] = [];
  const walk = (items: Contains[], at: string): void => {
    items.forEach((c, i) => {
      if (c.code !== undefined) {
        if (!c.system) problems.push({ file, field: `${at}[${i}].system`, message: 'is required when code is present' });
        else add(c.system, c.code, c.display);
      }
      if (c.contains) walk(c.contains, `${at}[${i}].contains`);
    });
  };
  walk(vs.expansion?.contains ?? [], 'expansion.contains');
  (vs.compose?.include ?? []).forEach((inc, i) => {
    if (!inc.concept?.length) return;
    if (!inc.system) {
      problems.push({ file, field: `compose.include[${i}].system`, message: 'is required when concepts are listed' });
      return;
    }
    for (const c of inc.concept) add(inc.system, c.code, c.display);
  });
  if (problems.length) throw new KnowledgeError(problems);
  if (keys.size === 0) {
    throw KnowledgeError.one(file, 'expansion.contains', 'holds no codes (compose filters are not evaluated; an enumerated expansion is required)');
  }
  return { id: vs.id, ...(vs.url ? { url: vs.url } : {}), keys, displays };
}

/**
 * Load every `*.json` ValueSet in `dir`. The file name (without .json) must equal the ValueSet id.
 * `required` ids that are missing are reported as missing files. All problems are collected into one KnowledgeError.
 */
export function loadValueSets(dir: string, required: readonly string[] = []): ValueSetIndex {
  const label = path.basename(dir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    throw KnowledgeError.one(label, '', `value-set folder cannot be read: ${(e as Error).message}`);
  }
  const sets = new Map<string, Set<string>>();
  const displays = new Map<string, string>();
  const urls = new Map<string, string>();
  const problems: KnowledgeError['problems'] = [];
  for (const name of names) {
    const file = `${label}/${name}`;
    try {
      let text: string;
      try {
        text = readFileSync(path.join(dir, name), 'utf8');
      } catch (e) {
        throw KnowledgeError.one(file, '', `cannot be read: ${(e as Error).message}`);
      }
      const parsed = parseValueSet(file, text, name.slice(0, -'.json'.length));
      sets.set(parsed.id, parsed.keys);
      for (const [k, d] of parsed.displays) if (!displays.has(k)) displays.set(k, d);
      if (parsed.url) {
        const other = urls.get(parsed.url);
        if (other) problems.push({ file, field: 'url', message: `"${parsed.url}" is also the url of ${label}/${other}.json: a canonical url names one value set` });
        else urls.set(parsed.url, parsed.id);
      }
    } catch (e) {
      if (e instanceof KnowledgeError) problems.push(...e.problems);
      else throw e;
    }
  }
  for (const id of required) {
    if (!sets.has(id) && !problems.some((p) => p.file === `${label}/${id}.json`)) {
      problems.push({ file: `${label}/${id}.json`, field: '', message: 'is missing (required value set)' });
    }
  }
  if (problems.length) throw new KnowledgeError(problems);
  return new ValueSetIndex(sets, displays, urls);
}
