import { describe, expect, test } from 'vitest';
import type { Medication, MedicationRequest } from 'fhir/r4.js';
import { deleteDraftActions, setDailyDoseActions, withDailyDoseAtBedtime } from '../../src/rules/actions.js';
import { draftContext, ldnDraftRequest, ldnOrder, ldnStatement, noDrafts } from '../helpers/facts.js';

const containedMedication = (request: MedicationRequest): Medication => request.contained?.[0] as Medication;

describe('withDailyDoseAtBedtime', () => {
  test('returns the whole draft with the new dose, at bedtime, without touching the original', () => {
    const draft = ldnDraftRequest('ldn-1', 4.5);
    const original = structuredClone(draft);
    const updated = withDailyDoseAtBedtime(draft, 3);

    expect(draft).toEqual(original);
    expect(updated).toMatchObject({
      resourceType: 'MedicationRequest',
      id: 'ldn-1',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/example' },
      medicationReference: { reference: '#ldn' },
      dispenseRequest: original.dispenseRequest,
    });
    expect(updated.dosageInstruction).toEqual([
      {
        text: '3 mg by mouth at bedtime',
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } },
        route: original.dosageInstruction?.[0]?.route,
        doseAndRate: [{ doseQuantity: { value: 3, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ]);
    expect(containedMedication(updated).ingredient?.[0]?.strength?.numerator?.value).toBe(3);
    expect(containedMedication(updated).code?.text).toBe('Naltrexone HCl 3 mg oral capsule (compounded)');
  });

  test('leaves a liquid concentration (mg per mL) as it is', () => {
    const draft = ldnDraftRequest('ldn-liquid', 1);
    const medication = containedMedication(draft);
    medication.code = { text: 'Naltrexone 1 mg/mL oral suspension (compounded)' };
    const strength = medication.ingredient?.[0]?.strength;
    if (strength) strength.denominator = { value: 1, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' };

    const updated = withDailyDoseAtBedtime(draft, 3);
    expect(containedMedication(updated).ingredient?.[0]?.strength?.numerator?.value).toBe(1);
    expect(containedMedication(updated).code?.text).toBe('Naltrexone 1 mg/mL oral suspension (compounded)');
  });

  test('leaves a 50 mg tablet product as it is (the dose is then part of a tablet)', () => {
    const draft: MedicationRequest = {
      ...ldnDraftRequest('ldn-split', 4.5),
      contained: undefined,
      medicationReference: undefined,
      medicationCodeableConcept: { text: 'naltrexone hydrochloride 50 MG Oral Tablet' },
    };
    expect(withDailyDoseAtBedtime(draft, 3).medicationCodeableConcept?.text).toBe('naltrexone hydrochloride 50 MG Oral Tablet');
  });

  test('updates the strength in a free-text compounded product name', () => {
    const draft: MedicationRequest = {
      ...ldnDraftRequest('ldn-text', 4.5),
      contained: undefined,
      medicationReference: undefined,
      medicationCodeableConcept: { text: 'Naltrexone 4.5 mg capsule (compounded)' },
    };
    expect(withDailyDoseAtBedtime(draft, 3).medicationCodeableConcept?.text).toBe('Naltrexone 3 mg capsule (compounded)');
  });
});

describe('actions from binding items', () => {
  test('delete: one action per draft order, none for medication-list entries', () => {
    const order = ldnOrder(4.5);
    expect(deleteDraftActions([order, ldnStatement(4.5), 'not a fact'])).toEqual([
      { type: 'delete', description: 'Remove the draft order: Naltrexone 4.5 mg capsule (compounded)', resourceId: order.ref },
    ]);
  });

  test('setDailyDose: an update per draft the context can supply', () => {
    const order = ldnOrder(4.5, { ref: 'MedicationRequest/ldn-1' });
    const [action] = setDailyDoseActions([order], 3, draftContext(ldnDraftRequest('ldn-1', 4.5)));
    expect(action).toMatchObject({ type: 'update', resource: { resourceType: 'MedicationRequest', id: 'ldn-1' } });
    expect(setDailyDoseActions([order], 3, noDrafts)).toEqual([]);
  });
});
