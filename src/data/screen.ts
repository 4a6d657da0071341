/**
 * What may reach the facts. A hook call is about one patient (context.patientId): a resource whose subject or
 * patient names another one (a FHIR server answering the wrong patient's data, an EHR prefetch mix-up) must never
 * become a card. A prefetch key also answers one query: resources of a type the query does not return (an
 * Observation in a MedicationStatement search) mean the answer is not what was asked for, and reading it as
 * "no MedicationStatements" would be a silent all-clear. Either way the key's data is unusable (src/data/gather.ts
 * then fetches it again or answers 412).
 *
 * References are compared as literal references, relative, absolute or versioned (`Patient/x`,
 * `https://fhir/r4/Patient/x`, `Patient/x/_history/2`), in `subject` and in `patient` (DSTU2, and
 * MedicationStatement.subject's older name). A reference that names no resource this way (`urn:uuid:…`, an
 * identifier only) cannot be compared and is kept: the search that returned it was for this patient.
 * Medications have no subject and are always kept.
 */
import type { Resource } from 'fhir/r4.js';
import { literalReference } from '../model/chart.js';

/** True when the resource names a patient other than `patientId` (or a non-Patient subject such as a Group). */
export function isOtherPatients(resource: Resource, patientId: string): boolean {
  const r = resource as unknown as Record<string, unknown>;
  if (r.resourceType === 'Patient') return typeof r.id === 'string' && r.id !== patientId;
  for (const field of ['subject', 'patient']) {
    const value = r[field];
    const reference = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined;
    if (typeof reference !== 'string') continue;
    const named = literalReference(reference);
    if (named && (named.type !== 'Patient' || named.id !== patientId)) return true;
  }
  return false;
}

/** The resource type a prefetch template queries: "MedicationStatement?patient=…" → "MedicationStatement". */
export function queriedType(template: string): string | undefined {
  return /^\/?([A-Z][A-Za-z]+)(?:[/?]|$)/.exec(template)?.[1];
}

interface Screened {
  resources: Resource[];
  /** Resources for another patient (dropped). */
  otherPatient: number;
  /** Types found that the query does not return (their resources dropped), sorted, at most five named. */
  unexpectedTypes: string[];
  unexpected: number;
}

/**
 * Split one key's resources into those that may reach the facts and those that may not. Besides the queried type,
 * a Medication is expected (search _include, or a Bundle carrying what its statements reference).
 */
export function screen(resources: readonly Resource[], patientId: string, expectedType: string | undefined): Screened {
  const kept: Resource[] = [];
  const unexpectedTypes = new Set<string>();
  let otherPatient = 0;
  let unexpected = 0;
  for (const r of resources) {
    if (expectedType && r.resourceType !== expectedType && r.resourceType !== 'Medication') {
      unexpected++;
      unexpectedTypes.add(r.resourceType.slice(0, 64));
    } else if (isOtherPatients(r, patientId)) otherPatient++;
    else kept.push(r);
  }
  return { resources: kept, otherPatient, unexpected, unexpectedTypes: [...unexpectedTypes].sort().slice(0, 5) };
}

/** "2 resources for another patient; 1 resource of type Observation (not MedicationStatement)": undefined when clean. */
export function screenProblem(s: Screened, expectedType: string | undefined): string | undefined {
  const parts: string[] = [];
  if (s.otherPatient) parts.push(`${plural(s.otherPatient, 'resource')} for another patient than context.patientId`);
  if (s.unexpected) parts.push(`${plural(s.unexpected, 'resource')} of type ${s.unexpectedTypes.join(', ')} (the query is for ${expectedType})`);
  return parts.length ? parts.join('; ') : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
