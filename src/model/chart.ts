/**
 * The Chart: every FHIR resource a hook call has to work with, gathered from the request
 * (context + prefetch) and, where the client did not prefetch, from the FHIR server.
 * Built by src/data/gather.ts; read by src/clinical (fact extraction). Nothing here is mutated after gathering.
 */
import type { Medication, Resource } from 'fhir/r4.js';
import type { HookName } from './hooks.js';

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

const LITERAL_REFERENCE = /(?:^|\/)([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * The resource a literal reference names, relative, absolute or versioned: "Patient/1", "https://x/fhir/Patient/1",
 * "Patient/1/_history/2" → { type: "Patient", id: "1" }. Undefined for what names no resource this way
 * ("#contained", "urn:uuid:…", garbage).
 */
export function literalReference(reference: string): { type: string; id: string } | undefined {
  const m = LITERAL_REFERENCE.exec(reference);
  return m ? { type: m[1]!, id: m[2]! } : undefined;
}

/** "Medication/123", "https://x/fhir/Medication/123", "https://x/fhir/Medication/123/_history/2" → "Medication/123". */
export function relativeReference(reference: string): string | undefined {
  const named = literalReference(reference);
  return named?.type === 'Medication' ? `Medication/${named.id}` : undefined;
}

/**
 * Resolve a medicationReference held by `owner`: "#id" → owner.contained; otherwise the chart's Medication index.
 * Returns undefined when it cannot be found (gathering already tried to fetch it).
 */
export function resolveMedication(
  owner: { contained?: unknown },
  reference: string | undefined,
  chart: Pick<Chart, 'medications'>,
): Medication | undefined {
  if (!reference) return undefined;
  if (reference.startsWith('#')) return containedMedication(owner, reference.slice(1));
  const rel = relativeReference(reference);
  return rel ? chart.medications.get(rel) : undefined;
}

/** The contained Medication with this id; `contained` as sent may be anything (not an array, nulls in it). */
export function containedMedication(owner: { contained?: unknown }, id: string): Medication | undefined {
  const contained = owner.contained;
  if (!Array.isArray(contained)) return undefined;
  const found: unknown = contained.find((r: unknown) => typeof r === 'object' && r !== null && (r as Resource).resourceType === 'Medication' && (r as Resource).id === id);
  return found as Medication | undefined;
}

/** A FHIR resource as JSON: an object with a string `resourceType` (the one check; data and clinical both use it). */
/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isResource(x: unknown): x is Resource {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && typeof (x as { resourceType?: unknown }).resourceType === 'string';
}
