/**
 * Hand-built PatientFacts for rule tests: each builder gives a plain, typical fact and takes overrides,
 * so a test states only what matters to it. References are derived from names ("oxycodone 5 mg" →
 * "MedicationStatement/oxycodone-5-mg"), so tests can assert on them.
 */
import type { Medication, MedicationRequest } from 'fhir/r4.js';
import type { ConditionFact, MedicationFact, NaltrexoneRole, PatientFacts } from '../../src/model/facts.js';
import type { HookName } from '../../src/model/hooks.js';
import type { RuleContext } from '../../src/rules/contract.js';

export const NOW = '2026-11-21T09:00:00Z';

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** A current MedicationStatement with no drug-class flags. */
export function statement(name: string, overrides: Partial<MedicationFact> = {}): MedicationFact {
  return {
    ref: `MedicationStatement/${slug(name)}`,
    resourceType: 'MedicationStatement',
    source: 'medication-statement',
    name,
    label: name,
    codes: [],
    ingredients: [],
    isNaltrexone: false,
    isOpioid: false,
    isInterferonBeta: false,
    isGlatiramer: false,
    isSamidorphan: false,
    isAntispasticity: false,
    doseDisplay: 'dose not stated',
    status: 'active',
    current: true,
    past: false,
    excluded: false,
    ...overrides,
  };
}

/** A draft MedicationRequest of this call (every draft order is `current`). */
export function draftOrder(name: string, overrides: Partial<MedicationFact> = {}): MedicationFact {
  return statement(name, {
    ref: `MedicationRequest/${slug(name)}`,
    resourceType: 'MedicationRequest',
    source: 'draft-order',
    status: 'draft',
    ...overrides,
  });
}

/** Fields of an LDN product taken once daily at bedtime; a `null` dose = not readable. */
function ldnFields(dailyDoseMg: number | null): Partial<MedicationFact> {
  if (dailyDoseMg === null) {
    return { isNaltrexone: true, naltrexoneRole: 'ldn', ingredients: [{ name: 'naltrexone', codes: [] }], atBedtime: true };
  }
  return {
    isNaltrexone: true,
    naltrexoneRole: 'ldn',
    ingredients: [{ name: 'naltrexone', codes: [], strengthMg: dailyDoseMg, strengthPer: 'capsule' }],
    doseMg: dailyDoseMg,
    dailyDoseMg,
    frequencyPerDay: 1,
    doseBasis: 'structured',
    atBedtime: true,
    doseText: `${dailyDoseMg} mg by mouth at bedtime`,
    label: dailyDoseMg === null ? 'LDN' : `LDN ${dailyDoseMg} mg/day`,
    doseDisplay: `${dailyDoseMg} mg/day`,
    startDailyDoseMg: dailyDoseMg,
  };
}

const ldnName = (dailyDoseMg: number | null): string =>
  dailyDoseMg === null ? 'Naltrexone capsule (compounded)' : `Naltrexone ${dailyDoseMg} mg capsule (compounded)`;

/** A draft order for compounded LDN; a `null` dose = dose not readable. */
export function ldnOrder(dailyDoseMg: number | null = 4.5, overrides: Partial<MedicationFact> = {}): MedicationFact {
  return draftOrder(ldnName(dailyDoseMg), { ...ldnFields(dailyDoseMg), ...overrides });
}

/** The patient already takes LDN (a current MedicationStatement). */
export function ldnStatement(dailyDoseMg: number | null = 4.5, overrides: Partial<MedicationFact> = {}): MedicationFact {
  return statement(ldnName(dailyDoseMg), { ...ldnFields(dailyDoseMg), ...overrides });
}

/** A draft naltrexone order with another role: 50 mg tablet, unreadable dose, or bupropion/naltrexone. */
export function naltrexoneOrder(role: Exclude<NaltrexoneRole, 'ldn'>): MedicationFact {
  const names: Record<typeof role, string> = {
    'full-dose': 'naltrexone hydrochloride 50 MG Oral Tablet',
    'unknown-dose': 'naltrexone (dose not stated)',
    'bupropion-combination': 'bupropion 90 MG / naltrexone 8 MG ER Oral Tablet',
  };
  return draftOrder(names[role], { isNaltrexone: true, naltrexoneRole: role });
}

/** A current opioid on the medication list. */
export function opioid(name = 'oxycodone 5 mg oral tablet', overrides: Partial<MedicationFact> = {}): MedicationFact {
  return statement(name, { isOpioid: true, ...overrides });
}

/** An opioid the patient stopped; `daysSinceLastUse` undefined = stop date unknown. */
export function pastOpioid(name: string, daysSinceLastUse: number | undefined): MedicationFact {
  return opioid(name, {
    status: 'completed',
    current: false,
    past: true,
    ...(daysSinceLastUse !== undefined ? { daysSinceLastUse, lastUseDate: '2026-11-16' } : {}),
  });
}

export function interferonBeta(name = 'Avonex (interferon beta-1a) 30 mcg', overrides: Partial<MedicationFact> = {}): MedicationFact {
  return statement(name, { isInterferonBeta: true, label: 'interferon beta-1a', ...overrides });
}

export function glatiramer(name = 'Copaxone (glatiramer acetate) 20 mg/mL'): MedicationFact {
  return statement(name, { isGlatiramer: true });
}

export function condition(name: string, overrides: Partial<ConditionFact> = {}): ConditionFact {
  return { ref: `Condition/${slug(name)}`, name, codes: [], isMultipleSclerosis: false, isSpasticity: false, isOpioidUseDisorder: false, active: true, ...overrides };
}

export const multipleSclerosis = (overrides: Partial<ConditionFact> = {}): ConditionFact =>
  condition('Primary progressive multiple sclerosis', { isMultipleSclerosis: true, ...overrides });

export const spasticity = (overrides: Partial<ConditionFact> = {}): ConditionFact =>
  condition('Spasticity', { isSpasticity: true, ...overrides });

/** Facts for an order hook: `focus` are the draft orders about (selected); `orders` default to them. */
export function orderFacts(input: {
  focus: MedicationFact[];
  orders?: MedicationFact[];
  medications?: MedicationFact[];
  conditions?: ConditionFact[];
  hook?: Exclude<HookName, 'patient-view'>;
}): PatientFacts {
  return {
    hook: input.hook ?? 'order-sign',
    now: NOW,
    focus: input.focus,
    orders: input.orders ?? input.focus,
    medications: input.medications ?? [],
    conditions: input.conditions ?? [],
  };
}

/** Facts for patient-view: the focus is the patient's current medications. */
export function patientViewFacts(input: { medications: MedicationFact[]; conditions?: ConditionFact[] }): PatientFacts {
  return {
    hook: 'patient-view',
    now: NOW,
    focus: input.medications.filter((m) => m.current),
    orders: [],
    medications: input.medications,
    conditions: input.conditions ?? [],
  };
}

/** A RuleContext that knows these draft MedicationRequests by "MedicationRequest/<id>". */
export function draftContext(...drafts: MedicationRequest[]): RuleContext {
  const byRef = new Map(drafts.map((d) => [`MedicationRequest/${d.id ?? ''}`, d]));
  return { draftOrder: (ref) => byRef.get(ref) };
}

export const noDrafts: RuleContext = { draftOrder: () => undefined };

/** A draft compounded-LDN MedicationRequest as an EHR sends it (terminology.md §1.3): contained Medication, dose at bedtime. */
export function ldnDraftRequest(id: string, mg: number): MedicationRequest {
  const medication: Medication = {
    resourceType: 'Medication',
    id: 'ldn',
    code: { text: `Naltrexone HCl ${mg} mg oral capsule (compounded)` },
    ingredient: [
      {
        itemCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7243', display: 'naltrexone' }] },
        isActive: true,
        strength: {
          numerator: { value: mg, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
          denominator: { value: 1, unit: 'capsule' },
        },
      },
    ],
  };
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/example' },
    authoredOn: '2026-11-21',
    contained: [medication],
    medicationReference: { reference: '#ldn' },
    dosageInstruction: [
      {
        text: `${mg} mg by mouth at bedtime`,
        route: { coding: [{ system: 'http://snomed.info/sct', code: '26643006', display: 'Oral route' }] },
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } },
        doseAndRate: [{ doseQuantity: { value: mg, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
    dispenseRequest: { quantity: { value: 30, unit: 'capsule' }, numberOfRepeatsAllowed: 2 },
  };
}
