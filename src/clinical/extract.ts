/**
 * Fact extraction: Chart → PatientFacts, in one pass over the chart. Knowledge (value sets + lexicon) is loaded
 * once at start-up. Per resource, the time-independent part of normalisation is memoised in a bounded LRU keyed by
 * a SHA-1 of the resource's JSON and its source kind, so a chart that is sent again (EHRs resend it on every
 * keystroke) costs a hash and a lookup per resource. Date-dependent fields are computed after the cache.
 *
 * focus: order-select → the selected draft orders (all drafts when selections are absent, empty or match none);
 * order-sign → all drafts; patient-view → current medications. orders: all draft MedicationRequests.
 * medications: MedicationStatements and non-draft MedicationRequests. Excluded ones (entered-in-error, not-taken,
 * cancelled, drafts outside draftOrders) are left out of focus, orders and medications. Non-medication draft
 * resources (ServiceRequest, …) are ignored: no rule concerns them. The chart is already R4 (src/data/versions.ts
 * converts DSTU2 MedicationOrder and STU3 shapes) and screened (src/data/gather.ts answers drafts it cannot read).
 */
import { hash } from 'node:crypto';
import path from 'node:path';
import { KnowledgeError, ProblemList } from '../model/problems.js';
import { isResource, resolveMedication, type Chart } from '../model/chart.js';
import { deepFreeze, LruCache } from '../model/cache.js';
import { CONDITION_VALUE_SETS, normaliseCondition } from './conditions.js';
import type { ConditionFact, MedicationFact, MedicationSource, PatientFacts } from '../model/facts.js';
import { brandsFromDisplays, loadLexicon, type Lexicon } from './lexicon.js';
import { finaliseMedication, MEDICATION_VALUE_SETS, medicationReferenceOf, normaliseMedication, type MedicationBase } from './medications.js';
import { loadValueSets, type ValueSetIndex } from './valuesets.js';
import { stageSpan } from '../observability/tracing.js';

export interface ClinicalKnowledge {
  valueSets: ValueSetIndex;
  lexicon: Lexicon;
}

/** Value-set ids src/clinical cannot work without. */
export const REQUIRED_VALUE_SETS: readonly string[] = [...MEDICATION_VALUE_SETS, ...CONDITION_VALUE_SETS];

export const VALUESETS_DIR = 'valuesets';
/** Value sets whose RxNorm displays name brands in square brackets. */
const BRAND_DISPLAY_SETS = ['opioid-analgesics-cdc', 'opioids-all', 'naltrexone-opioid-combinations'] as const;
export const LEXICON_FILE = 'medication-names.yaml';

/** Charts smaller than this are not warmed in slices: their whole extraction takes a few milliseconds. */
const WARM_MIN_RESOURCES = 200;

/** Load cds-services/valuesets/*.json and cds-services/medication-names.yaml; every problem is reported in one KnowledgeError. */
export function loadClinicalKnowledge(dir: string): ClinicalKnowledge {
  const { items: problems, collect: attempt } = new ProblemList();
  const valueSets = attempt(() => loadValueSets(path.join(dir, VALUESETS_DIR), REQUIRED_VALUE_SETS));
  // Brand names in the RxNorm displays of the curated value sets ("[Percocet]") join the lexicon at load time.
  const lexicon = attempt(() =>
    loadLexicon(path.join(dir, LEXICON_FILE), LEXICON_FILE, valueSets ? (base) => brandsFromDisplays(BRAND_DISPLAY_SETS.flatMap((id) => valueSets.displaysOf(id)), base) : undefined),
  );
  if (problems.length || !valueSets || !lexicon) throw new KnowledgeError(problems);
  return { valueSets, lexicon };
}

export interface FactExtractorOptions {
  /** Entries in each per-resource cache, medications and conditions (default 20,000 each). */
  cacheSize?: number;
}

export interface FactExtractor {
  (chart: Chart, now: Date): PatientFacts;
  /**
   * Do the costly, time-independent part of extraction for every resource of the chart ahead of time, in slices
   * of at most `sliceMs` that yield to the event loop between them, so that the synchronous extraction that follows
   * finds each resource in the cache. A large first-seen chart then no longer holds the event loop in one piece.
   * Charts under `minResources` (default WARM_MIN_RESOURCES) are left to the synchronous extraction.
   */
  warm(chart: Chart, sliceMs?: number, minResources?: number): Promise<void>;
  /** Cache counters, for benchmarks and tests. */
  cacheStats(): { hits: number; misses: number; size: number };
}

interface MedicationEntry {
  base: MedicationBase;
  /** Hash of the external Medication the base was built with ('' when none was found). */
  medicationKey?: string;
}

type ResourceLike = { resourceType?: unknown; contained?: unknown[] };

function contentKey(kind: string, value: unknown): string {
  return hash('sha1', `${kind}\u0000${JSON.stringify(value)}`, 'base64');
}

/**
 * A current antispasticity drug is a sign of spasticity (terminology.md §4.2 lists them as medication proxies).
 * When no active spasticity is on the problem list, one inferred spasticity fact per drug is added, named so that
 * cards say it is inferred.
 */
function inferredSpasticity(conditions: readonly ConditionFact[], medications: readonly MedicationFact[]): ConditionFact[] {
  if (conditions.some((c) => c.isSpasticity && c.active)) return [];
  return medications
    .filter((m) => m.isAntispasticity && m.current)
    .map((m) => ({
      ref: m.ref,
      name: `spasticity inferred from ${m.label}, not on the problem list`,
      codes: [],
      isMultipleSclerosis: false,
      isSpasticity: true,
      isOpioidUseDisorder: false,
      inferredFrom: m.label,
      active: true,
    }));
}

export function createFactExtractor(knowledge: ClinicalKnowledge, options: FactExtractorOptions = {}): FactExtractor {
  const medicationCache = new LruCache<string, MedicationEntry>(options.cacheSize ?? 20_000);
  const conditionCache = new LruCache<string, ConditionFact>(options.cacheSize ?? 20_000);

  const externalMedication = (resource: ResourceLike, reference: string | undefined, chart: Chart): { medication: unknown; key: string } => {
    const medication = resolveMedication(resource as Parameters<typeof resolveMedication>[0], reference, chart);
    return { medication, key: medication ? contentKey('Medication', medication) : '' };
  };

  const medicationBase = (resource: ResourceLike, source: MedicationSource, chart: Chart): MedicationBase => {
    const key = contentKey(`${String(resource.resourceType)}|${source}`, resource);
    const hit = medicationCache.get(key);
    if (hit && hit.medicationKey === undefined) return hit.base;
    if (hit?.base.externalReference !== undefined) {
      // The resource is unchanged, but the Medication it references lives outside it: check that too.
      if (externalMedication(resource, hit.base.externalReference, chart).key === hit.medicationKey) return hit.base;
    }
    const reference = medicationReferenceOf(resource);
    const external = reference && !reference.startsWith('#') ? externalMedication(resource, reference, chart) : undefined;
    const medication = external ? external.medication : reference ? resolveMedication(resource as Parameters<typeof resolveMedication>[0], reference, chart) : undefined;
    const base = normaliseMedication({ resource: resource as { resourceType: string }, source, medication }, knowledge);
    medicationCache.set(key, external ? { base, medicationKey: external.key } : { base });
    return base;
  };

  const conditionFact = (resource: ResourceLike, index: number): ConditionFact => {
    const key = contentKey('Condition', resource);
    let fact = conditionCache.get(key);
    if (!fact) {
      fact = deepFreeze(normaliseCondition(resource, knowledge.valueSets, 'Condition/#', knowledge.lexicon));
      conditionCache.set(key, fact);
    }
    return fact.ref === 'Condition/#' ? { ...fact, ref: `Condition/#${index}` } : fact;
  };

  const extract = (chart: Chart, now: Date): PatientFacts =>
    stageSpan('extract', { 'ldn_cds.hook': chart.hook }, (span) => {
      const facts = extractNow(chart, now);
      span.setAttributes({ 'ldn_cds.medications': facts.medications.length, 'ldn_cds.conditions': facts.conditions.length, 'ldn_cds.orders': facts.orders.length });
      return facts;
    });

  const extractNow = (chart: Chart, now: Date): PatientFacts => {
    const orders: MedicationFact[] = [];
    const selectedOrders: MedicationFact[] = [];
    const selections = new Set(chart.selections ?? []);
    (chart.draftOrders ?? []).forEach((r: unknown, i: number) => {
      if (!isResource(r) || r.resourceType !== 'MedicationRequest') return;
      const fact = finaliseMedication(medicationBase(r, 'draft-order', chart), now, `MedicationRequest/#${i}`);
      if (fact.excluded) return;
      orders.push(fact);
      if (selections.has(fact.ref)) selectedOrders.push(fact);
    });

    const medications: MedicationFact[] = [];
    const conditions: ConditionFact[] = [];
    (chart.resources ?? []).forEach((r: unknown, i: number) => {
      if (!isResource(r)) return;
      if (r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest') {
        const source: MedicationSource = r.resourceType === 'MedicationStatement' ? 'medication-statement' : 'medication-request';
        const fact = finaliseMedication(medicationBase(r, source, chart), now, `${r.resourceType}/#${i}`);
        if (!fact.excluded) medications.push(fact);
      } else if (r.resourceType === 'Condition') {
        conditions.push(conditionFact(r, i));
      }
    });

    conditions.push(...inferredSpasticity(conditions, medications));

    let focus: MedicationFact[];
    if (chart.hook === 'patient-view') focus = medications.filter((m) => m.current);
    else if (chart.hook === 'order-select' && selectedOrders.length) focus = selectedOrders;
    else focus = orders;

    return { hook: chart.hook, now: now.toISOString().slice(0, 10), focus, orders, medications, conditions };
  };

  const warm = async (chart: Chart, sliceMs = 10, minResources = WARM_MIN_RESOURCES): Promise<void> => {
    // A small chart is extracted in one block well under a slice: warming it first would only compute every
    // resource's cache key twice (the bench's new-chart case measured ~2× for 70 resources).
    if ((chart.draftOrders?.length ?? 0) + (chart.resources?.length ?? 0) < minResources) return;
    let sliceStart = performance.now();
    const yieldIfDue = async () => {
      if (performance.now() - sliceStart < sliceMs) return;
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    };
    for (const r of (chart.draftOrders ?? []) as unknown[]) {
      if (isResource(r) && r.resourceType === 'MedicationRequest') medicationBase(r, 'draft-order', chart);
      await yieldIfDue();
    }
    let i = 0;
    for (const r of (chart.resources ?? []) as unknown[]) {
      if (isResource(r)) {
        if (r.resourceType === 'MedicationStatement') medicationBase(r, 'medication-statement', chart);
        else if (r.resourceType === 'MedicationRequest') medicationBase(r, 'medication-request', chart);
        else if (r.resourceType === 'Condition') conditionFact(r, i);
      }
      i++;
      await yieldIfDue();
    }
  };

  return Object.assign(extract, {
    warm,
    cacheStats: () => ({
      hits: medicationCache.hits + conditionCache.hits,
      misses: medicationCache.misses + conditionCache.misses,
      size: medicationCache.size + conditionCache.size,
    }),
  });
}
