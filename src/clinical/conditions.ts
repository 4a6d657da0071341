/**
 * Condition → ConditionFact: multiple sclerosis (multiple-sclerosis.json; ICD-10-CM G35 and G35.x by hierarchy),
 * spasticity (spasticity.json), and whether the condition is clinically active. A condition is active when
 * clinicalStatus is active, recurrence or relapse, or absent; it has no abatement[x]; and verificationStatus is
 * neither refuted nor entered-in-error. Fields are read with FHIRPath compiled once. Nothing here depends on the clock.
 */
import { compilePaths } from './paths.js';
import type { CodeRef, ConditionFact } from '../model/facts.js';
import { toCodeRef } from './ingredients.js';
import type { Lexicon } from './lexicon.js';
import type { ValueSetIndex } from './valuesets.js';

export const CONDITION_VALUE_SETS = ['multiple-sclerosis', 'spasticity', 'opioid-use-disorder'] as const;

/** FHIRPath expressions read from each Condition (exported so tests can re-evaluate them). */
export const CONDITION_PATHS = {
  id: 'id',
  codings: 'code.coding',
  text: 'code.text',
  clinicalStatus: 'clinicalStatus.coding.code | clinicalStatus.text',
  verificationStatus: 'verificationStatus.coding.code | verificationStatus.text',
  abatement: 'abatement',
} as const;

const C = compilePaths(CONDITION_PATHS, ['Condition']);

const ACTIVE_CLINICAL = new Set(['active', 'recurrence', 'relapse']);
/** MS is a relapsing disease: in remission it is still MS (abatement of a relapse does not end it). */
const MS_CLINICAL = new Set(['active', 'recurrence', 'relapse', 'remission']);
const IN_REMISSION = /(?<![a-z])in\s+(?:early\s+|sustained\s+)?remission(?![a-z])/i;
/** 122 of the set's SNOMED codes are poisonings and adverse effects: an event, not opioid dependence. */
const NOT_DEPENDENCE = /(?<![a-z])(?:poisoning|adverse\s+effect|underdosing|overdose)(?![a-z])/i;
const NOT_VERIFIED = new Set(['refuted', 'entered-in-error']);

function lowerStrings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string').map((v) => v.trim().toLowerCase());
}

/** Normalise one Condition resource (read only). */
export function normaliseCondition(resource: unknown, valueSets: ValueSetIndex, fallbackRef = 'Condition/#', lexicon?: Lexicon): ConditionFact {
  const id = C.id(resource).find((v): v is string => typeof v === 'string');
  const codes = C.codings(resource).map(toCodeRef).filter((c): c is CodeRef => !!c);
  const text = C.text(resource).find((v): v is string => typeof v === 'string' && !!v.trim());

  const clinical = lowerStrings(C.clinicalStatus(resource));
  const verification = lowerStrings(C.verificationStatus(resource));
  // abatementBoolean false means "not abated"; any other abatement value means it has ended.
  const abated = C.abatement(resource).some((v) => v !== false);
  const refuted = verification.some((s) => NOT_VERIFIED.has(s));
  const name = (text ?? codes.find((c) => c.display)?.display ?? codes[0]?.code ?? 'Unnamed condition').trim();
  const words = [text, ...codes.map((c) => c.display ?? valueSets.displayOf(c))].filter((t): t is string => !!t);
  // A problem-list entry with text only still counts (EHRs often send spasticity or MS as text).
  const isMultipleSclerosis = valueSets.hasAny(['multiple-sclerosis'], codes) || (!!lexicon && words.some((t) => lexicon.namesMultipleSclerosis(t)));
  const isSpasticity = valueSets.hasAny(['spasticity'], codes) || (!!lexicon && words.some((t) => lexicon.namesSpasticity(t)));
  const active = isMultipleSclerosis
    ? (clinical.length === 0 || clinical.some((s) => MS_CLINICAL.has(s))) && (!abated || clinical.some((s) => s !== 'active' && MS_CLINICAL.has(s))) && !refuted
    : (clinical.length === 0 || clinical.some((s) => ACTIVE_CLINICAL.has(s))) && !abated && !refuted;
  // The label contraindication is current opioid dependence: a disorder coded or written "in remission" is not current.
  const isOpioidUseDisorder =
    valueSets.hasAny(['opioid-use-disorder'], codes) && !words.some((t) => IN_REMISSION.test(t) || NOT_DEPENDENCE.test(t)) && !clinical.includes('remission');

  return {
    ref: id ? `Condition/${id}` : fallbackRef,
    name,
    codes,
    isMultipleSclerosis,
    isSpasticity,
    isOpioidUseDisorder,
    active,
  };
}
