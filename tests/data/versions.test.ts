/**
 * DSTU2 / STU3 read as R4 (issue 18 item 2): the CDS Hooks Sandbox against a 1.0.2 server sends draft
 * MedicationOrders, which were answered {"cards": []}. Unit tests of the conversion, then end to end through the
 * real knowledge pack: a MedicationOrder naltrexone draft with an opioid on the chart gets the critical card.
 */
import { describe, expect, test } from 'vitest';
import type { Resource } from 'fhir/r4.js';
import { testConfig } from '../../src/config/index.js';
import { asR4, asR4Reference } from '../../src/data/versions.js';
import { createEngine } from '../../src/engine/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { OutcomeError } from '../../src/model/outcomes.js';
import { memoryLogger } from '../helpers/app.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

const dstu2Order = {
  resourceType: 'MedicationOrder',
  id: 'draft-dstu2',
  status: 'draft',
  dateWritten: '2026-11-21',
  patient: { reference: 'Patient/p1' },
  medicationCodeableConcept: { text: 'Naltrexone 1.5 mg capsule (compounded)' },
  dosageInstruction: [
    {
      text: '1.5 mg by mouth at bedtime',
      timing: { repeat: { frequency: 1, period: 1, periodUnits: 'd', when: 'HS' } },
      doseQuantity: { value: 1.5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
    },
  ],
};

describe('asR4', () => {
  test('a DSTU2 MedicationOrder becomes an R4 MedicationRequest with the fields the rules read', () => {
    const report = new Map<string, number>();
    const r = asR4(dstu2Order as unknown as Resource, report) as unknown as Record<string, unknown>;
    expect(r).toMatchObject({
      resourceType: 'MedicationRequest',
      id: 'draft-dstu2',
      intent: 'order',
      status: 'draft',
      subject: { reference: 'Patient/p1' },
      authoredOn: '2026-11-21',
      medicationCodeableConcept: { text: 'Naltrexone 1.5 mg capsule (compounded)' },
      dosageInstruction: [
        {
          text: '1.5 mg by mouth at bedtime',
          timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: 'HS' } },
          doseAndRate: [{ doseQuantity: { value: 1.5, unit: 'mg' } }],
        },
      ],
    });
    expect(r).not.toHaveProperty('patient');
    expect(r).not.toHaveProperty('dateWritten');
    expect((r.dosageInstruction as Record<string, unknown>[])[0]).not.toHaveProperty('doseQuantity');
    expect(report.get('MedicationOrder (DSTU2)')).toBe(1);
    expect(dstu2Order).toHaveProperty('patient'); // the request is never mutated
  });

  test('DSTU2 dateEnded becomes the validity end', () => {
    const r = asR4({ ...dstu2Order, status: 'stopped', dateEnded: '2026-10-01' } as unknown as Resource, new Map()) as unknown as Record<string, unknown>;
    expect(r.dispenseRequest).toEqual({ validityPeriod: { end: '2026-10-01' } });
  });

  test('an STU3 MedicationRequest dosage (dose[x] on the Dosage) gets doseAndRate', () => {
    const stu3 = { resourceType: 'MedicationRequest', id: 'm', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, dosageInstruction: [{ doseRange: { low: { value: 1 }, high: { value: 2 } }, rateQuantity: { value: 1 } }] };
    const report = new Map<string, number>();
    const r = asR4(stu3 as unknown as Resource, report) as unknown as { dosageInstruction: unknown[] };
    expect(r.dosageInstruction).toEqual([{ doseAndRate: [{ doseRange: { low: { value: 1 }, high: { value: 2 } }, rateQuantity: { value: 1 } }] }]);
    expect(report.get('MedicationRequest (STU3 dosage)')).toBe(1);
  });

  test('DSTU2 MedicationStatement: patient → subject, quantity[x] → dose, wasNotTaken → not-taken; STU3 taken "n" → not-taken', () => {
    const dstu2 = { resourceType: 'MedicationStatement', id: 's', status: 'completed', wasNotTaken: true, patient: { reference: 'Patient/p1' }, dosage: [{ quantityQuantity: { value: 5, unit: 'mg' } }] };
    const r = asR4(dstu2 as unknown as Resource, new Map()) as unknown as Record<string, unknown>;
    expect(r).toMatchObject({ subject: { reference: 'Patient/p1' }, status: 'not-taken', dosage: [{ doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg' } }] }] });
    const stu3 = asR4({ resourceType: 'MedicationStatement', id: 't', status: 'active', taken: 'n', subject: { reference: 'Patient/p1' } } as unknown as Resource, new Map());
    expect((stu3 as { status?: string }).status).toBe('not-taken');
  });

  test('DSTU2/STU3 Condition status codes become CodeableConcepts (a resolved condition is no longer read as active)', () => {
    const r = asR4({ resourceType: 'Condition', id: 'c', patient: { reference: 'Patient/p1' }, clinicalStatus: 'resolved', verificationStatus: 'confirmed' } as unknown as Resource, new Map()) as unknown as Record<string, unknown>;
    expect(r.clinicalStatus).toEqual({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] });
    expect(r.subject).toEqual({ reference: 'Patient/p1' });
  });

  test('an R4 resource comes back as the same object (nothing converted, nothing counted)', () => {
    const r4 = { resourceType: 'MedicationRequest', id: 'm', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 1 } }] }] } as unknown as Resource;
    const report = new Map<string, number>();
    expect(asR4(r4, report)).toBe(r4);
    expect(report.size).toBe(0);
  });

  test('DSTU2 selections follow the converted drafts', () => {
    expect(asR4Reference('MedicationOrder/x')).toBe('MedicationRequest/x');
    expect(asR4Reference('MedicationRequest/x')).toBe('MedicationRequest/x');
  });
});

describe('old-version drafts end to end (real knowledge pack)', () => {
  const config = testConfig();
  const knowledge = loadKnowledge(config.cdsServicesDir);
  const serviceFor = (hook: unknown) => knowledge.services.all().find((s) => s.hook === hook)!;
  const oxycodone = {
    resourceType: 'MedicationStatement',
    id: 'oxy',
    status: 'active',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '1049621', display: 'Oxycodone Hydrochloride 5 MG Oral Tablet' }] },
  };
  const call = (hook: 'order-select' | 'order-sign', drafts: unknown[], statements: unknown[] = [oxycodone]) => ({
    hook,
    hookInstance: 'b6a5c7f0-2f1c-4b0e-9f57-6e1f3f0e2a11',
    context: {
      userId: 'Practitioner/example',
      patientId: 'p1',
      ...(hook === 'order-select' ? { selections: drafts.map((d) => `${(d as Resource).resourceType}/${(d as Resource).id}`) } : {}),
      draftOrders: { resourceType: 'Bundle', entry: drafts.map((resource) => ({ resource })) },
    },
    prefetch: {
      patient: { resourceType: 'Patient', id: 'p1' },
      medications: { resourceType: 'Bundle', type: 'searchset', entry: statements.map((resource) => ({ resource })) },
      medicationRequests: { resourceType: 'Bundle', type: 'searchset', entry: [] },
      conditions: { resourceType: 'Bundle', type: 'searchset', entry: [] },
    },
  });
  const evaluate = async (body: Record<string, unknown>) => {
    const log = memoryLogger('info');
    const engine = createEngine(knowledge, { config, logger: log.logger, now: () => NOW, memoChars: 0 });
    const service = serviceFor(body.hook);
    const result = await engine.evaluate(service, parseHookRequest(body, service.hooks, service.id));
    return { result, log };
  };

  test.each(['order-select', 'order-sign'] as const)('%s: a DSTU2 MedicationOrder naltrexone draft with an opioid on the chart yields the critical card, logged', async (hook) => {
    const { result, log } = await evaluate(call(hook, [dstu2Order]));
    expect(result.response.cards.length).toBeGreaterThan(0);
    expect(result.rendered.map((r) => `${r.draft.ruleId}:${r.card.indicator}`)).toContain('ldn-with-opioid:critical');
    expect(result.facts.focus[0]).toMatchObject({ naltrexoneRole: 'ldn', dailyDoseMg: 1.5, atBedtime: true });
    const line = log.lines.find((l) => l.includes('DSTU2/STU3 resources read as R4'));
    expect(line).toMatch(/"converted":\{"MedicationOrder \(DSTU2\)":1\}/);
  });

  test('a DSTU2 MedicationStatement opioid (patient, not subject) counts as the patient\'s', async () => {
    const { patient: _p, subject: _s, ...rest } = { ...oxycodone, patient: undefined };
    const dstu2Statement = { ...rest, patient: { reference: 'Patient/p1' } };
    const { result } = await evaluate(call('order-sign', [dstu2Order], [dstu2Statement]));
    expect(result.rendered.map((r) => r.draft.ruleId)).toContain('ldn-with-opioid');
  });

  test('a draft of a medication type the service cannot read is a 412 naming it, never {"cards": []}', async () => {
    const dispense = { resourceType: 'MedicationDispense', id: 'd1', status: 'preparation', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { text: 'naltrexone 4.5 mg' } };
    const error = await evaluate(call('order-sign', [dispense])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeError);
    expect((error as OutcomeError).outcome.status).toBe(412);
    expect((error as OutcomeError).outcome.body.issue[0]).toMatchObject({ code: 'not-supported', expression: ['context.draftOrders.entry[0].resource'] });
  });

  test('a non-medication draft (ServiceRequest) is legitimately "nothing to say": no rule concerns it', async () => {
    const lab = { resourceType: 'ServiceRequest', id: 'lab', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, code: { text: 'CBC' } };
    const { result } = await evaluate(call('order-sign', [lab]));
    expect(result.response.cards).toEqual([]);
  });
});
