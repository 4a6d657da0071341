/**
 * The shape of PatientFacts as rule files see it: every field name an expression or a template may
 * use, and a complete sample patient that each expression is run against once at load time.
 * The `Record<keyof …, true>` tables make TypeScript fail when src/model/facts.ts gains or loses a field.
 */
import type { CodeRef, ConditionFact, IngredientFact, MedicationFact, PatientFacts } from '../model/facts.js';

const PATIENT_FIELDS: Record<keyof PatientFacts, true> = {
  hook: true, now: true, focus: true, orders: true, medications: true, conditions: true,
};

const MEDICATION_FIELDS: Record<keyof MedicationFact, true> = {
  ref: true, resourceType: true, source: true, name: true, label: true, codes: true, ingredients: true,
  isNaltrexone: true, naltrexoneRole: true, isOpioid: true, isInterferonBeta: true, isGlatiramer: true,
  isSamidorphan: true, isAntispasticity: true, actionDays: true, doseDisplay: true, startDailyDoseMg: true,
  doseMg: true, dailyDoseMg: true, doseBasis: true, frequencyPerDay: true, atBedtime: true, route: true,
  status: true, current: true, past: true, excluded: true, effectiveStart: true, effectiveEnd: true,
  lastUseDate: true, daysSinceLastUse: true, doseText: true,
};

const CONDITION_FIELDS: Record<keyof ConditionFact, true> = {
  ref: true, name: true, codes: true, isMultipleSclerosis: true, isSpasticity: true, isOpioidUseDisorder: true, inferredFrom: true,
  active: true,
};

const INGREDIENT_FIELDS: Record<keyof IngredientFact, true> = { name: true, codes: true, strengthMg: true, strengthPer: true };

const CODE_FIELDS: Record<keyof CodeRef, true> = { system: true, code: true, display: true };

/** Every field name found anywhere in PatientFacts; a member name outside this set is a typo. */
export const FACT_FIELD_NAMES: ReadonlySet<string> = new Set(
  [PATIENT_FIELDS, MEDICATION_FIELDS, CONDITION_FIELDS, INGREDIENT_FIELDS, CODE_FIELDS].flatMap((table) => Object.keys(table)),
);

const sampleMedication: MedicationFact = {
  ref: 'MedicationRequest/sample',
  resourceType: 'MedicationRequest',
  source: 'draft-order',
  name: 'sample medication',
  label: 'LDN 4.5 mg/day',
  codes: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7243', display: 'naltrexone' }],
  ingredients: [{ name: 'naltrexone', codes: [], strengthMg: 4.5, strengthPer: 'capsule' }],
  isNaltrexone: true,
  naltrexoneRole: 'ldn',
  isOpioid: true,
  isInterferonBeta: true,
  isGlatiramer: true,
  isSamidorphan: true,
  isAntispasticity: true,
  actionDays: 28,
  doseDisplay: '4.5 mg/day',
  doseMg: 4.5,
  dailyDoseMg: 4.5,
  startDailyDoseMg: 1.5,
  doseBasis: 'structured',
  frequencyPerDay: 1,
  atBedtime: true,
  route: 'oral',
  status: 'draft',
  current: true,
  past: true,
  excluded: false,
  effectiveStart: '2026-01-01',
  effectiveEnd: '2026-01-02',
  lastUseDate: '2026-01-02',
  daysSinceLastUse: 5,
  doseText: '4.5 mg at bedtime',
};

const sampleCondition: ConditionFact = {
  ref: 'Condition/sample',
  name: 'sample condition',
  codes: [{ system: 'http://snomed.info/sct', code: '24700007' }],
  isMultipleSclerosis: true,
  isSpasticity: true,
  isOpioidUseDisorder: true,
  inferredFrom: 'baclofen',
  active: true,
};

/** A patient in which every field is filled and every flag is true, so `where()` bodies are exercised. */
export const SAMPLE_FACTS: PatientFacts = {
  hook: 'order-sign',
  now: '2026-01-07T00:00:00Z',
  focus: [sampleMedication],
  orders: [sampleMedication],
  medications: [{ ...sampleMedication, ref: 'MedicationStatement/sample', resourceType: 'MedicationStatement', source: 'medication-statement' }],
  conditions: [sampleCondition],
};
