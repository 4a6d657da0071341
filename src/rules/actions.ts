/**
 * Suggestion actions a rule file can ask for, built from the items of a binding:
 * - `delete`: remove each draft order in the binding (resourceId "MedicationRequest/<id>").
 * - `setDailyDose`: an `update` whose resource is the whole draft MedicationRequest, copied, with the
 *   dosage set to N mg once daily at bedtime (and a compounded unit strength set to N mg).
 * Items that are not draft orders (medication list entries) never get an action.
 */
import type { Dosage, Medication, MedicationRequest, Ratio } from 'fhir/r4.js';
import type { Action } from '../model/cards.js';
import type { MedicationFact } from '../model/facts.js';
import type { RuleContext } from './contract.js';
import { formatNumber } from './card-text.js';
import { containedMedication } from '../model/chart.js';

const UCUM = 'http://unitsofmeasure.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const RXNORM_NALTREXONE = '7243';
/** A unit strength at or below this is a compounded low-dose unit (the only marketed oral tablet is 50 mg). */
const LOW_DOSE_UNIT_MAX_MG = 5;
const VOLUME_UNITS = new Set(['ml', 'l', 'dl', 'cl']);

/** Binding items that are draft orders of this call. */
export function draftOrdersIn(items: readonly unknown[]): MedicationFact[] {
  return items.filter(
    (item): item is MedicationFact =>
      typeof item === 'object' && item !== null && (item as MedicationFact).source === 'draft-order' && typeof (item as MedicationFact).ref === 'string',
  );
}

/** One `delete` action per draft order among `items`. */
export function deleteDraftActions(items: readonly unknown[]): Action[] {
  return draftOrdersIn(items).map((order) => ({
    type: 'delete',
    description: `Remove the draft order: ${order.name}`,
    resourceId: order.ref,
  }));
}

/** One `update` action per draft order among `items` that the context can supply, set to `mg` once daily at bedtime. */
export function setDailyDoseActions(items: readonly unknown[], mg: number, context: RuleContext): Action[] {
  return draftOrdersIn(items).flatMap((order) => {
    const draft = context.draftOrder(order.ref);
    if (!draft) return [];
    return [
      {
        type: 'update' as const,
        description: `Change ${order.name} to ${formatNumber(mg)} mg once daily at bedtime`,
        resource: withDailyDoseAtBedtime(draft, mg),
      },
    ];
  });
}

/**
 * A copy of `draft` taking `mg` once daily at bedtime. The route of the first dosage is kept.
 * A low-dose unit strength (≤ 5 mg per capsule/tablet, not per mL) of a contained naltrexone Medication
 * is set to `mg`, and so is the single "x mg" in its name; a 50 mg tablet or a liquid is left as it is.
 */
export function withDailyDoseAtBedtime(draft: MedicationRequest, mg: number): MedicationRequest {
  const updated = structuredClone(draft);
  const route = draft.dosageInstruction?.[0]?.route;
  const dosage: Dosage = {
    text: `${formatNumber(mg)} mg by mouth at bedtime`,
    timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } },
    ...(route ? { route } : {}),
    doseAndRate: [{ doseQuantity: { value: mg, unit: 'mg', system: UCUM, code: 'mg' } }],
  };
  updated.dosageInstruction = [dosage];

  const medication = referencedContainedMedication(updated);
  if (medication && setNaltrexoneUnitStrength(medication, mg) && medication.code?.text) {
    medication.code.text = withStrength(medication.code.text, mg);
  }
  if (updated.medicationCodeableConcept?.text && /naltrexone/i.test(updated.medicationCodeableConcept.text)) {
    updated.medicationCodeableConcept.text = withStrength(updated.medicationCodeableConcept.text, mg);
  }
  return updated;
}

function referencedContainedMedication(request: MedicationRequest): Medication | undefined {
  const reference = request.medicationReference?.reference;
  if (typeof reference !== 'string' || !reference.startsWith('#')) return undefined;
  return containedMedication(request, reference.slice(1));
}

/** Set the naltrexone ingredient's low-dose unit strength to `mg`. Returns whether one was changed. */
function setNaltrexoneUnitStrength(medication: Medication, mg: number): boolean {
  let changed = false;
  for (const ingredient of medication.ingredient ?? []) {
    const concept = ingredient.itemCodeableConcept;
    const isNaltrexone =
      concept?.coding?.some((c) => c.system === RXNORM && c.code === RXNORM_NALTREXONE) ||
      /naltrexone/i.test([concept?.text, ...(concept?.coding ?? []).map((c) => c.display)].join(' '));
    if (isNaltrexone && ingredient.strength && isLowDoseUnitStrength(ingredient.strength)) {
      ingredient.strength.numerator = { ...ingredient.strength.numerator, value: mg };
      changed = true;
    }
  }
  return changed;
}

function isLowDoseUnitStrength(strength: Ratio): boolean {
  const { numerator, denominator } = strength;
  const numeratorUnit = (numerator?.code ?? numerator?.unit ?? '').toLowerCase();
  const denominatorUnit = (denominator?.code ?? denominator?.unit ?? '').toLowerCase();
  return (
    numeratorUnit === 'mg' &&
    typeof numerator?.value === 'number' &&
    numerator.value <= LOW_DOSE_UNIT_MAX_MG &&
    (denominator?.value ?? 1) === 1 &&
    !VOLUME_UNITS.has(denominatorUnit)
  );
}

/** Replace the one low-dose "x mg" in a product name with `mg`; names with none, several or a 50 mg strength are kept. */
function withStrength(name: string, mg: number): string {
  const strengths = [...name.matchAll(/(\d+(?:\.\d+)?)\s*mg\b/gi)];
  const only = strengths.length === 1 ? strengths[0] : undefined;
  if (!only || Number(only[1]) > LOW_DOSE_UNIT_MAX_MG) return name;
  return `${name.slice(0, only.index)}${formatNumber(mg)} mg${name.slice(only.index + only[0].length)}`;
}
