/**
 * Older FHIR versions, read as R4: the one place DSTU2 (1.0.2) and STU3 (3.0.x) shapes become the R4 shapes the
 * clinical layer reads. The CDS Hooks Sandbox against a 1.0.2 server sends draft `MedicationOrder`s; an EHR on
 * STU3 sends MedicationRequests whose Dosage holds dose[x] directly. Read as R4 unchanged, both looked empty
 * (no medication, no dose) and the answer was an all-clear. Only the fields the rules use are carried over:
 *
 * - DSTU2 MedicationOrder → MedicationRequest (intent "order"): medication[x], status, `patient` → subject,
 *   `dateWritten` → authoredOn, `dateEnded` → dispenseRequest.validityPeriod.end when none is given,
 *   dosageInstruction, dispenseRequest, contained, id, meta.
 * - Dosage (DSTU2 and STU3): dose[x] and rate[x] → doseAndRate[0]; DSTU2 MedicationStatement.dosage.quantity[x]
 *   → doseAndRate[0].dose[x]; DSTU2 Timing.repeat.periodUnits/durationUnits → periodUnit/durationUnit.
 * - MedicationStatement: `patient` → subject; DSTU2 wasNotTaken=true and STU3 taken="n" → status "not-taken".
 * - Condition: `patient` → subject; clinicalStatus / verificationStatus as a code string → CodeableConcept.
 *
 * A resource already in R4 shape is returned as is (the same object, so caches keyed by content keep hitting);
 * a converted one is a new object (the request is never mutated). Values are otherwise passed through as sent.
 */
import type { Resource } from 'fhir/r4.js';
import { isObject } from '../model/chart.js';

type Json = Record<string, unknown>;


/** What was converted, by the resource type as sent (e.g. "MedicationOrder", "MedicationRequest (STU3 dosage)"). */
export type VersionReport = Map<string, number>;

const DOSE_KEYS = ['doseQuantity', 'doseRange', 'quantityQuantity', 'quantityRange'] as const;
const RATE_KEYS = ['rateRatio', 'rateRange', 'rateQuantity'] as const;

/** A Dosage with dose[x]/rate[x] (or DSTU2 quantity[x]) on itself, as R4 doseAndRate; the same object when already R4. */
function r4Dosage(dosage: unknown): unknown {
  if (!isObject(dosage)) return dosage;
  const flatDose = DOSE_KEYS.some((k) => k in dosage) || RATE_KEYS.some((k) => k in dosage);
  const timing = r4Timing(dosage.timing);
  if (!flatDose && timing === dosage.timing) return dosage;
  const out: Json = { ...dosage, timing };
  if (timing === undefined) delete out.timing;
  if (flatDose) {
    const doseAndRate: Json = {};
    for (const k of [...DOSE_KEYS, ...RATE_KEYS]) {
      if (!(k in dosage)) continue;
      doseAndRate[k.replace(/^quantity/, 'dose')] = dosage[k];
      delete out[k];
    }
    if (!Array.isArray(dosage.doseAndRate)) out.doseAndRate = [doseAndRate];
  }
  return out;
}

function r4Timing(timing: unknown): unknown {
  if (!isObject(timing) || !isObject(timing.repeat)) return timing;
  const repeat = timing.repeat;
  if (!('periodUnits' in repeat) && !('durationUnits' in repeat)) return timing;
  const { periodUnits, durationUnits, ...rest } = repeat;
  return {
    ...timing,
    repeat: { ...rest, ...(periodUnits !== undefined && rest.periodUnit === undefined ? { periodUnit: periodUnits } : {}), ...(durationUnits !== undefined && rest.durationUnit === undefined ? { durationUnit: durationUnits } : {}) },
  };
}

/** Each Dosage of a list through r4Dosage; the same array when nothing changed. */
function r4Dosages(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  const mapped = list.map(r4Dosage);
  return mapped.some((d, i) => d !== list[i]) ? mapped : list;
}

/** `patient` → subject (DSTU2 MedicationOrder/MedicationStatement/Condition), when there is no subject. */
function withSubject(r: Json): Json {
  if (!('patient' in r) || r.subject !== undefined) return r;
  const { patient, ...rest } = r;
  return { ...rest, subject: patient };
}

function codeConcept(value: unknown, system: string): unknown {
  return typeof value === 'string' ? { coding: [{ system, code: value }] } : value;
}

function medicationOrder(r: Json): Json {
  const { resourceType: _type, patient, dateWritten, dateEnded, prescriber, dosageInstruction, dispenseRequest, ...rest } = r;
  const out: Json = { ...rest, resourceType: 'MedicationRequest', intent: 'order' };
  if (patient !== undefined) out.subject = patient;
  if (dateWritten !== undefined) out.authoredOn = dateWritten;
  if (prescriber !== undefined) out.requester = prescriber;
  if (dosageInstruction !== undefined) out.dosageInstruction = r4Dosages(dosageInstruction);
  let dispense = dispenseRequest;
  if (typeof dateEnded === 'string') {
    const base = isObject(dispense) ? dispense : {};
    const period = isObject(base.validityPeriod) ? base.validityPeriod : {};
    if (period.end === undefined) dispense = { ...base, validityPeriod: { ...period, end: dateEnded } };
  }
  if (dispense !== undefined) out.dispenseRequest = dispense;
  return out;
}

/**
 * One resource as R4 (see the module comment); `report` counts what was converted. Resources of other types, and
 * R4 ones, come back unchanged.
 */
export function asR4(resource: Resource, report: VersionReport): Resource {
  const r = resource as unknown as Json;
  let out: Json = r;
  let kind: string | undefined;
  switch (r.resourceType) {
    case 'MedicationOrder':
      out = medicationOrder(r);
      kind = 'MedicationOrder (DSTU2)';
      break;
    case 'MedicationRequest': {
      const dosages = r4Dosages(r.dosageInstruction);
      if (dosages !== r.dosageInstruction) {
        out = { ...r, dosageInstruction: dosages };
        kind = 'MedicationRequest (STU3 dosage)';
      }
      break;
    }
    case 'MedicationStatement': {
      const dosages = r4Dosages(r.dosage);
      const notTaken = r.wasNotTaken === true || r.taken === 'n';
      out = withSubject(r);
      if (dosages !== r.dosage || notTaken) out = { ...out, dosage: dosages, ...(notTaken ? { status: 'not-taken' } : {}) };
      if (out !== r) kind = 'MedicationStatement (DSTU2/STU3)';
      break;
    }
    case 'Condition': {
      out = withSubject(r);
      if (typeof r.clinicalStatus === 'string' || typeof r.verificationStatus === 'string') {
        out = {
          ...out,
          clinicalStatus: codeConcept(r.clinicalStatus, 'http://terminology.hl7.org/CodeSystem/condition-clinical'),
          verificationStatus: codeConcept(r.verificationStatus, 'http://terminology.hl7.org/CodeSystem/condition-ver-status'),
        };
        for (const k of ['clinicalStatus', 'verificationStatus']) if (out[k] === undefined) delete out[k];
      }
      if (out !== r) kind = 'Condition (DSTU2/STU3)';
      break;
    }
  }
  if (kind) report.set(kind, (report.get(kind) ?? 0) + 1);
  return out as unknown as Resource;
}

/** `MedicationOrder/x` (a DSTU2 selection) → `MedicationRequest/x`, matching the converted draft. */
export function asR4Reference(reference: string): string {
  return reference.startsWith('MedicationOrder/') ? `MedicationRequest/${reference.slice('MedicationOrder/'.length)}` : reference;
}
