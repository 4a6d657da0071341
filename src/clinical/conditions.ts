/**
 * Condition → ConditionFact: multiple sclerosis (multiple-sclerosis.json; ICD-10-CM G35 and G35.x by hierarchy),
 * spasticity (spasticity.json), and whether the condition is clinically active. A condition is active when
 * clinicalStatus is active, recurrence or relapse, or absent; it has no abatement[x]; and verificationStatus is
 * neither refuted nor entered-in-error. Fields are read with FHIRPath compiled once. Nothing here depends on the clock.
 */
import { compilePaths } from './paths.js';
import type { CodeRef, ConditionFact } from './facts.js';
import { toCodeRef } from './ingredients.js';
import type { ValueSetIndex } from './valuesets.js';

export const CONDITION_VALUE_SETS = ['multiple-sclerosis', 'spasticity'] as const;

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
const NOT_VERIFIED = new Set(['refuted', 'entered-in-error']);

function lowerStrings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string').map((v) => v.trim().toLowerCase());
}

/** Normalise one Condition resource (read only). */
export function normaliseCondition(resource: unknown, valueSets: ValueSetIndex, fallbackRef = 'Condition/#'): ConditionFact {
  const id = C.id(resource).find((v): v is string => typeof v === 'string');
  const codes = C.codings(resource).map(toCodeRef).filter((c): c is CodeRef => !!c);
  const text = C.text(resource).find((v): v is string => typeof v === 'string' && !!v.trim());

  const clinical = lowerStrings(C.clinicalStatus(resource));
  const verification = lowerStrings(C.verificationStatus(resource));
  // abatementBoolean false means "not abated"; any other abatement value means it has ended.
  const abated = C.abatement(resource).some((v) => v !== false);
  const active =
    (clinical.length === 0 || clinical.some((s) => ACTIVE_CLINICAL.has(s))) && !abated && !verification.some((s) => NOT_VERIFIED.has(s));

  return {
    ref: id ? `Condition/${id}` : fallbackRef,
    name: (text ?? codes.find((c) => c.display)?.display ?? codes[0]?.code ?? 'Unnamed condition').trim(),
    codes,
    isMultipleSclerosis: valueSets.hasAny(['multiple-sclerosis'], codes),
    isSpasticity: valueSets.hasAny(['spasticity'], codes),
    active,
  };
}
