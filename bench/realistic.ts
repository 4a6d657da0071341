/**
 * The benchmark's realistic order-select request: a compounded LDN draft order in a contained Medication;
 * prefetch with 50 MedicationStatements (among them an opioid and an interferon-beta), 20 Conditions (among them
 * MS and spasticity) and the Patient. Filler medications and conditions are text-only (no invented codes).
 */
import type { Resource } from 'fhir/r4.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';

const FILLER_MEDICATIONS = [
  'Metformin 500 mg tablet', 'Lisinopril 10 mg tablet', 'Atorvastatin 20 mg tablet', 'Levothyroxine 50 mcg tablet',
  'Vitamin D3 1000 unit capsule', 'Omeprazole 20 mg capsule', 'Sertraline 50 mg tablet', 'Amlodipine 5 mg tablet',
  'Baclofen 10 mg tablet', 'Gabapentin 300 mg capsule', 'Cetirizine 10 mg tablet', 'Folic acid 1 mg tablet',
  'Magnesium oxide 400 mg tablet', 'Tizanidine 2 mg tablet', 'Melatonin 3 mg tablet', 'Ibuprofen 200 mg tablet',
];
const FILLER_CONDITIONS = [
  'Essential hypertension', 'Hyperlipidaemia', 'Hypothyroidism', 'Depressive disorder', 'Gastro-oesophageal reflux',
  'Allergic rhinitis', 'Fatigue', 'Neuropathic pain', 'Insomnia', 'Vitamin D deficiency', 'Urinary urgency',
  'Osteopenia', 'Migraine', 'Anxiety', 'Obesity', 'Back pain', 'Constipation', 'Iron deficiency',
];

export function patient(): Resource {
  return { resourceType: 'Patient', id: 'bench-patient', gender: 'female', birthDate: '1980-05-17', meta: { versionId: '1', lastUpdated: '2026-11-01T00:00:00Z' } } as Resource;
}

/** n MedicationStatements: an oxycodone and an interferon-beta first, then text-only filler; ids end in `suffix`. */
export function medicationStatements(n: number, suffix = ''): Resource[] {
  const out: Resource[] = [
    statement(`bench-oxycodone${suffix}`, { coding: [{ system: RXNORM, code: '1049621', display: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }], text: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }, '1 tablet every 6 hours as needed'),
    statement(`bench-interferon${suffix}`, { text: 'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)' }, '30 micrograms intramuscular once weekly'),
  ];
  for (let i = 0; out.length < n; i++) {
    const name = FILLER_MEDICATIONS[i % FILLER_MEDICATIONS.length]!;
    out.push(statement(`bench-med-${i}${suffix}`, { text: name }, i % 3 === 0 ? 'twice daily' : 'once daily', i % 5 === 4 ? 'completed' : 'active'));
  }
  return out.slice(0, n);
}

export function conditions(n: number, suffix = ''): Resource[] {
  const out: Resource[] = [
    condition(`bench-ms${suffix}`, { coding: [{ system: SNOMED, code: '24700007', display: 'Multiple sclerosis' }], text: 'Multiple sclerosis' }),
    condition(`bench-spasticity${suffix}`, { coding: [{ system: SNOMED, code: '221360009', display: 'Spasticity' }], text: 'Spasticity' }),
  ];
  for (let i = 0; out.length < n; i++) out.push(condition(`bench-cond-${i}${suffix}`, { text: FILLER_CONDITIONS[i % FILLER_CONDITIONS.length]! }));
  return out.slice(0, n);
}

/** The LDN draft order; a `note` stands for whatever a keystroke changed in it. */
export function ldnDraft(note?: string): Resource {
  return {
    ...(note !== undefined ? { note: [{ text: note }] } : {}),
    resourceType: 'MedicationRequest',
    id: 'bench-ldn-draft',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/bench-patient' },
    contained: [
      {
        resourceType: 'Medication',
        id: 'ldn',
        code: { text: 'Naltrexone HCl 4.5 mg oral capsule (compounded)' },
        ingredient: [
          {
            itemCodeableConcept: { coding: [{ system: RXNORM, code: '7243', display: 'naltrexone' }] },
            isActive: true,
            strength: { numerator: { value: 4.5, unit: 'mg', system: UCUM, code: 'mg' }, denominator: { value: 1, unit: 'capsule' } },
          },
        ],
      },
    ],
    medicationReference: { reference: '#ldn' },
    dosageInstruction: [
      {
        text: '4.5 mg by mouth at bedtime',
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } },
        doseAndRate: [{ doseQuantity: { value: 4.5, unit: 'mg', system: UCUM, code: 'mg' } }],
      },
    ],
  } as Resource;
}

const bundle = (resources: Resource[]) => ({ resourceType: 'Bundle', type: 'searchset', total: resources.length, entry: resources.map((resource) => ({ resource })) });

export interface RequestOptions {
  statements?: number;
  conditions?: number;
  /** false leaves every prefetch key out, so the service must fetch. */
  prefetch?: boolean;
  fhirServer?: string;
  /** Default: a fixed uuid. The HTTP benchmark sends "[<id>]", which autocannon makes unique per request. */
  hookInstance?: string;
  /** A note on the draft order: a different one per call stands for a keystroke that changed the draft. */
  draftNote?: string;
  /** Appended to every prefetched resource id: a different one per call makes a chart never seen before. */
  idSuffix?: string;
}

export function orderSelectRequest(options: RequestOptions = {}): Record<string, unknown> {
  const request: Record<string, unknown> = {
    hook: 'order-select',
    hookInstance: options.hookInstance ?? '0b7c3f5e-6b8e-4f55-9a3c-1d2e3f4a5b6c',
    context: {
      userId: 'Practitioner/bench-prescriber',
      patientId: 'bench-patient',
      selections: ['MedicationRequest/bench-ldn-draft'],
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: ldnDraft(options.draftNote) }] },
    },
  };
  if (options.prefetch !== false) {
    request.prefetch = {
      patient: patient(),
      medications: bundle(medicationStatements(options.statements ?? 50, options.idSuffix)),
      medicationRequests: bundle([]),
      conditions: bundle(conditions(options.conditions ?? 20, options.idSuffix)),
    };
  }
  if (options.fhirServer) request.fhirServer = options.fhirServer;
  return request;
}

export { bundle };

function statement(id: string, concept: Record<string, unknown>, sig: string, status = 'active'): Resource {
  return {
    resourceType: 'MedicationStatement',
    id,
    meta: { versionId: '1', lastUpdated: '2026-11-01T00:00:00Z' },
    status,
    subject: { reference: 'Patient/bench-patient' },
    medicationCodeableConcept: concept,
    effectivePeriod: { start: '2025-01-01', ...(status === 'completed' ? { end: '2026-01-01' } : {}) },
    dateAsserted: '2026-06-01',
    dosage: [{ text: sig }],
  } as Resource;
}

function condition(id: string, code: Record<string, unknown>): Resource {
  return {
    resourceType: 'Condition',
    id,
    meta: { versionId: '1', lastUpdated: '2026-11-01T00:00:00Z' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code,
    subject: { reference: 'Patient/bench-patient' },
    onsetDateTime: '2019-09-10',
  } as Resource;
}
