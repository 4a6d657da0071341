/** Shared builders for tests/clinical: the real knowledge pack, charts and resources. */
import path from 'node:path';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import type { Chart } from '../../src/model/chart.js';
import { createFactExtractor, loadClinicalKnowledge, type ClinicalKnowledge } from '../../src/clinical/extract.js';
import type { MedicationFact } from '../../src/model/facts.js';
import type { HookName } from '../../src/model/hooks.js';
import { NOW as FACTS_NOW } from '../helpers/facts.js';
import { finaliseMedication, normaliseMedication, type MedicationInput } from '../../src/clinical/medications.js';

export const CDS_SERVICES = path.join(PROJECT_ROOT, 'cds-services');

let cached: ClinicalKnowledge | undefined;
export function knowledge(): ClinicalKnowledge {
  cached ??= loadClinicalKnowledge(CDS_SERVICES);
  return cached;
}

export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const SNOMED = 'http://snomed.info/sct';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const ATC = 'http://www.whocc.no/atc';
export const UCUM = 'http://unitsofmeasure.org';

/** The tests' one clock (tests/helpers/facts.ts), as a Date. */
export const NOW = new Date(FACTS_NOW);

type Json = Record<string, unknown>;
/** A resource-shaped test object. */
export type TestResource = { resourceType: string } & Json;

/** fhirpath.evaluate, synchronous (no async functions are used in these expressions). */
export function evaluate(resource: unknown, expression: string | { base: string; expression: string }): unknown[] {
  return fhirpath.evaluate(resource, expression, {}, r4) as unknown[];
}

export function rx(code: string, display?: string): { system: string; code: string; display?: string } {
  return display ? { system: RXNORM, code, display } : { system: RXNORM, code };
}

/** A MedicationStatement with a medicationCodeableConcept. */
export function statement(id: string, concept: Json, extra: Json = {}): TestResource {
  return { resourceType: 'MedicationStatement', id, status: 'active', medicationCodeableConcept: concept, subject: { reference: 'Patient/p1' }, ...extra };
}

/** A draft MedicationRequest with a medicationCodeableConcept. */
export function draft(id: string, concept: Json | undefined, extra: Json = {}): TestResource {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    ...(concept ? { medicationCodeableConcept: concept } : {}),
    ...extra,
  };
}

export function chart(
  hook: HookName,
  parts: { draftOrders?: unknown[]; selections?: string[]; resources?: unknown[]; medications?: Map<string, unknown> } = {},
): Chart {
  return {
    hook,
    patientId: 'p1',
    draftOrders: [],
    selections: [],
    resources: [],
    medications: new Map(),
    ...parts,
  } as unknown as Chart;
}

/** Normalise one resource with the real knowledge and apply NOW. */
export function fact(resource: Json, source: MedicationInput['source'] = 'draft-order', medication?: unknown, now: Date = NOW): MedicationFact {
  return finaliseMedication(normaliseMedication({ resource: resource as MedicationInput['resource'], source, medication }, knowledge()), now);
}

export function extractor(): ReturnType<typeof createFactExtractor> {
  return createFactExtractor(knowledge());
}

/** A realistic chart: 50 MedicationStatements (opioids, interferon text, LDN, others) and 20 Conditions. */
export function realisticChart(): Chart {
  const meds: TestResource[] = [];
  for (let i = 0; i < 50; i++) {
    const kind = i % 5;
    const concept =
      kind === 0
        ? { coding: [rx('1049621', 'Oxycodone Hydrochloride 5 MG Oral Tablet')], text: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }
        : kind === 1
          ? { text: 'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)' }
          : kind === 2
            ? { text: 'Naltrexone 4.5 mg capsule (compounded)' }
            : kind === 3
              ? { coding: [rx('860975', 'metformin hydrochloride 500 MG Oral Tablet')] }
              : { coding: [rx('995868', 'codeine phosphate 2 MG/ML / guaifenesin 20 MG/ML Oral Solution')] };
    meds.push(
      statement(`m${i}`, concept, {
        status: i % 7 === 0 ? 'stopped' : 'active',
        effectivePeriod: { start: '2026-01-01', ...(i % 7 === 0 ? { end: '2026-11-10' } : {}) },
        dosage: [{ text: '1 tablet by mouth every 6 hours as needed', doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }],
        meta: { versionId: String(i), lastUpdated: '2026-11-21T04:31:35.113Z' },
      }),
    );
  }
  const conditions = Array.from({ length: 20 }, (_, i) => ({
    resourceType: 'Condition',
    id: `c${i}`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [i % 2 ? { system: SNOMED, code: '24700007', display: 'Multiple sclerosis' } : { system: ICD10CM, code: `R25.${i % 3}` }] },
  }));
  return chart('order-select', {
    draftOrders: [draft('ldn', { text: 'LDN 4.5 mg' }, { dosageInstruction: [{ text: '4.5 mg at bedtime' }] })],
    selections: ['MedicationRequest/ldn'],
    resources: [...meds, ...conditions],
  });
}
