/**
 * The Chart: every FHIR resource a hook call has to work with, gathered from the request
 * (context + prefetch) and, where the client did not prefetch, from the FHIR server.
 * Built by src/data/gather.ts; read by src/clinical (fact extraction). Nothing here is mutated after gathering.
 */
import type { Medication, Resource } from 'fhir/r4.js';
import type { HookName } from '../clinical/facts.js';

export interface Chart {
  hook: HookName;
  patientId: string;
  /** Resources of context.draftOrders (order hooks), in order; empty on patient-view. */
  draftOrders: Resource[];
  /** context.selections (order-select): relative references into draftOrders. Empty otherwise. */
  selections: string[];
  /** Resources from prefetch and fetches, de-duplicated by resourceType/id (draft orders not included). */
  resources: Resource[];
  /** Medication resources found in draftOrders, prefetch or fetched, by "Medication/<id>". */
  medications: ReadonlyMap<string, Medication>;
}

/** "Medication/123", "https://x/fhir/Medication/123", "https://x/fhir/Medication/123/_history/2" → "Medication/123". */
export function relativeReference(reference: string): string | undefined {
  const m = /(?:^|\/)(Medication)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/**
 * Resolve a medicationReference held by `owner`: "#id" → owner.contained; otherwise the chart's Medication index.
 * Returns undefined when it cannot be found (gathering already tried to fetch it).
 */
export function resolveMedication(
  owner: { contained?: Resource[] },
  reference: string | undefined,
  chart: Pick<Chart, 'medications'>,
): Medication | undefined {
  if (!reference) return undefined;
  if (reference.startsWith('#')) {
    const id = reference.slice(1);
    const found = owner.contained?.find((r) => r.resourceType === 'Medication' && r.id === id);
    return found as Medication | undefined;
  }
  const rel = relativeReference(reference);
  return rel ? chart.medications.get(rel) : undefined;
}
