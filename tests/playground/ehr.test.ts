/**
 * The playground's EHR model (src/web/playground/ehr.js): requests it builds are valid hook requests, suggestions
 * change the draft orders as the actions say (checked against the real engine's cards), and the feedback it
 * posts is what the real feedback endpoint accepts.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { parseFeedbackBody } from '../../src/http/feedback.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';
import { hookRequest, loadScenarioFiles } from '../../src/scenarios/build.js';
import type { Card } from '../../src/model/cards.js';
import * as ehr from '../../src/web/playground/ehr.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => NOW });
const files = loadScenarioFiles(path.join(PROJECT_ROOT, 'fixtures', 'scenarios'));
const demo = files.find((f) => f.file === 'playground.yaml')!.scenario;
const demoCase = (name: string) => demo.cases.find((c) => c.name === name)!;

async function cardsFor(request: Record<string, unknown>): Promise<Card[]> {
  const service = knowledge.services.all().find((s) => (s.hooks as readonly string[]).includes(String(request.hook)))!;
  const result = await engine.evaluate(service, parseHookRequest(request, service.hooks, service.id));
  return result.response.cards;
}

describe('requests', () => {
  test('a scenario request survives state → request for each hook, and each is a valid hook request', () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN + oxycodone'), NOW));
    expect(state.patientId).toBe('scenario-patient');
    expect(state.draftOrders).toHaveLength(1);
    for (const hook of ehr.HOOKS) {
      const request = ehr.buildRequest(state, hook, 'f1b4d9d6-8a8b-4c59-9d1c-3b7bde0fa1a0');
      const service = knowledge.services.all().find((s) => (s.hooks as readonly string[]).includes(hook))!;
      expect(() => parseHookRequest(request, service.hooks, service.id), hook).not.toThrow();
      expect(request.hook).toBe(hook);
      expect(request.prefetch).toEqual(state.prefetch);
    }
    const select = ehr.buildRequest(state, 'order-select');
    expect(select.context.selections).toEqual([`MedicationRequest/${String(state.draftOrders[0]!.id)}`]);
    expect(select.hookInstance).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ehr.buildRequest(state, 'order-sign').context).not.toHaveProperty('selections');
    expect(ehr.buildRequest(state, 'patient-view').context).toEqual({ userId: state.userId, patientId: 'scenario-patient' });
  });

  test('pasted text: JSON errors and missing patientId are explained', () => {
    expect(() => ehr.parseRequestText('{"hook": ')).toThrow(/Not valid JSON/);
    expect(() => ehr.parseRequestText('[]')).toThrow(/JSON object/);
    expect(() => ehr.parseRequestText('{"hook":"order-select","context":{}}')).toThrow(/patientId/);
    expect(ehr.parseRequestText('{"hook":"patient-view","context":{"patientId":"p1"}}')).toMatchObject({ hook: 'patient-view' });
  });

  test('order hooks are not called without a draft order; patient-view is', () => {
    const state = ehr.stateFromRequest({ hook: 'order-select', context: { patientId: 'p1' } });
    expect(ehr.blockedReason(state, 'order-select')).toMatch(/No draft order/);
    expect(ehr.blockedReason(state, 'order-sign')).toMatch(/No draft order/);
    expect(ehr.blockedReason(state, 'patient-view')).toBeNull();
  });

  test('the service for a hook comes from discovery', () => {
    const services = knowledge.services.discovery();
    expect(ehr.serviceFor('order-select', services)).toBe('ldn-order-select');
    expect(ehr.serviceFor('patient-view', services)).toBe('ldn-patient-view');
    expect(ehr.serviceFor('encounter-start', services)).toBeUndefined();
  });
});

describe('applying suggestions', () => {
  test('LDN + oxycodone: accepting the critical card removes the draft order from the chart and the request', async () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN + oxycodone'), NOW));
    const cards = await cardsFor(ehr.buildRequest(state, 'order-select'));
    expect(cards.map((c) => c.indicator)).toEqual(['critical', 'warning']);
    const suggestion = cards[0]!.suggestions![0]!;
    const { state: after, applied, problems } = ehr.applySuggestion(state, suggestion);
    expect(problems).toEqual([]);
    expect(applied).toEqual([suggestion.actions![0]!.description]);
    expect(after.draftOrders).toEqual([]);
    expect(state.draftOrders).toHaveLength(1); // the input state is not mutated
    expect(ehr.blockedReason(after, 'order-select')).not.toBeNull();
    expect(ehr.buildRequest(after, 'order-sign').context.draftOrders).toEqual({ resourceType: 'Bundle', type: 'collection', entry: [] });
  });

  test('MS spasticity: accepting the 3 mg suggestion changes the draft dose from 4.5 mg to 3 mg, and the service then says info', async () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN 4.5 mg + MS spasticity'), NOW));
    expect(ehr.doseText(state.draftOrders[0])).toBe('4.5 mg');
    const [card] = await cardsFor(ehr.buildRequest(state, 'order-select'));
    expect(card!.indicator).toBe('warning');
    const { state: after, problems } = ehr.applySuggestion(state, card!.suggestions![0]!);
    expect(problems).toEqual([]);
    expect(after.draftOrders).toHaveLength(1);
    expect(ehr.doseText(after.draftOrders[0])).toBe('3 mg');
    expect(ehr.describeResource(after.draftOrders[0]).facts).toContainEqual(['Dose', '3 mg']);
    expect(ehr.timingText(after.draftOrders[0])).toBe('once daily at bedtime');
    const again = await cardsFor(ehr.buildRequest(after, 'order-select'));
    expect(again.map((c) => c.indicator)).toEqual(['info']);
  });

  test('actions run as a FHIR transaction: deletes, then creates, then updates; unknown targets are reported', () => {
    const state = ehr.stateFromRequest({
      hook: 'order-sign',
      context: { patientId: 'p1', draftOrders: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: 'a', status: 'draft' } }] } },
      prefetch: { medications: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'MedicationStatement', id: 's1', status: 'active' } }] } },
    });
    const { state: after, applied, problems } = ehr.applySuggestion(state, {
      label: 'x',
      actions: [
        { type: 'update', description: 'update a', resource: { resourceType: 'MedicationRequest', id: 'b', status: 'draft', note: 'updated' } },
        { type: 'create', description: 'create b', resource: { resourceType: 'MedicationRequest', id: 'b', status: 'draft' } },
        { type: 'delete', description: 'delete a', resourceId: 'MedicationRequest/a' },
        { type: 'delete', description: 'stop s1', resourceId: 'MedicationStatement/s1' },
        { type: 'delete', description: 'gone', resourceId: 'MedicationRequest/zzz' },
        { type: 'update', description: 'nowhere', resource: { resourceType: 'MedicationRequest', id: 'nope' } },
      ],
    });
    expect(applied).toEqual(['delete a', 'stop s1', 'create b', 'update a']);
    expect(problems).toEqual(['delete: MedicationRequest/zzz is not in the chart', 'update: MedicationRequest/nope is not in the chart']);
    expect(after.draftOrders).toEqual([{ resourceType: 'MedicationRequest', id: 'b', status: 'draft', note: 'updated' }]);
    expect(ehr.chartOf(after).medications).toEqual([]);
    expect(ehr.selectionsOf(after)).toEqual(['MedicationRequest/b']);
  });
});

describe('feedback bodies are what the real feedback endpoint accepts', () => {
  const card = { uuid: '7c1e0b52-64c1-4e2a-9d55-0a0f5f2a6a11', summary: 's', indicator: 'critical' };
  test('accepted, with the suggestion uuid', () => {
    const body = ehr.acceptedFeedback(card, { label: 'Remove', uuid: 'a0b1c2d3-0000-4000-8000-000000000001' }, NOW);
    expect(parseFeedbackBody(body)).toEqual([
      { card: card.uuid, outcome: 'accepted', acceptedSuggestions: ['a0b1c2d3-0000-4000-8000-000000000001'], outcomeTimestamp: NOW },
    ]);
  });

  test('overridden, with and without a reason', () => {
    const reason = { system: 'http://ldn-cds.example.org/fhir/CodeSystem/override-reasons', code: 'will-monitor', display: 'Will monitor the patient' };
    expect(parseFeedbackBody(ehr.overriddenFeedback(card, reason, NOW))).toEqual([
      { card: card.uuid, outcome: 'overridden', acceptedSuggestions: [], overrideReason: { reason }, outcomeTimestamp: NOW },
    ]);
    expect(parseFeedbackBody(ehr.overriddenFeedback(card, undefined, NOW))).toEqual([
      { card: card.uuid, outcome: 'overridden', acceptedSuggestions: [], outcomeTimestamp: NOW },
    ]);
  });
});

describe('display', () => {
  test('the fixture request: banner with name and age, contained Medication name, dose and sig', async () => {
    const { readFileSync } = await import('node:fs');
    const request = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json'), 'utf8')) as unknown;
    const state = ehr.stateFromRequest(request);
    expect(ehr.patientBanner(state, NOW)).toEqual({ id: 'ldn-demo-1', name: 'Alex Rivera', gender: 'female', birthDate: '1980-05-17', age: 46 });
    const order = ehr.describeResource(state.draftOrders[0]);
    expect(order.title).toBe('Naltrexone HCl 4.5 mg oral capsule (compounded)');
    expect(order.facts).toEqual(expect.arrayContaining([['Dose', '4.5 mg'], ['When', 'once daily at bedtime'], ['Sig', '4.5 mg by mouth at bedtime']]));
    const chart = ehr.chartOf(state);
    expect(chart.medications.map((m) => ehr.medicationName(m))).toEqual([
      'Oxycodone Hydrochloride 5 MG Oral Tablet',
      'Interferon beta-1a 30 micrograms intramuscular injection once weekly (Avonex)',
    ]);
    expect(chart.conditions.map((c) => ehr.describeResource(c).title)).toEqual(['Multiple sclerosis', 'Spasticity']);
  });

  test('a patient without a name is labelled synthetic; card counts read most urgent first', () => {
    const state = ehr.stateFromRequest({ hook: 'patient-view', context: { patientId: 'x' } });
    expect(ehr.patientBanner(state).name).toMatch(/Synthetic patient/);
    expect(ehr.cardCountText([{ indicator: 'info' }, { indicator: 'critical' }, { indicator: 'info' }])).toBe('3 cards: 1 critical, 2 info');
    expect(ehr.cardCountText([])).toMatch(/No cards/);
  });
});

describe('editing the chart', () => {
  const oxycodone = { name: 'Oxycodone Hydrochloride 5 MG Oral Tablet', code: 'rxnorm:1049621', dose: '5 mg', status: 'active', start: '2026-10-01', end: '' };
  const indicators = async (state: ehr.EhrState) => (await cardsFor(ehr.buildRequest(state, state.hook))).map((c) => `${c.indicator}`);

  test('adding an opioid as a coded MedicationStatement brings the critical card; removing it takes it away', async () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN 1.5 mg alone (no card)'), NOW));
    expect(await indicators(state)).toEqual([]);
    const added = ehr.saveMedication(state, undefined, oxycodone);
    expect(added.ref).toMatch(/^MedicationStatement\/playground-/);
    const resource = ehr.chartOf(added.state).medications.find((m) => `${m.resourceType}/${m.id}` === added.ref)!;
    expect(resource).toMatchObject({
      status: 'active',
      subject: { reference: `Patient/${state.patientId}` },
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1049621' }], text: oxycodone.name },
      effectivePeriod: { start: '2026-10-01' },
      dosage: [{ doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
    });
    expect(ehr.chartOf(state).medications).toHaveLength(0); // the old state is untouched
    expect(await indicators(added.state)).toEqual(['critical']);
    expect(ehr.medicationFields(resource)).toEqual(oxycodone);

    const stopped = ehr.saveMedication(added.state, added.ref, { ...oxycodone, status: 'completed', start: '2025-01-01', end: '2025-02-01' });
    expect(await indicators(stopped.state)).toEqual([]);
    expect(await indicators(ehr.removeFromChart(added.state, added.ref))).toEqual([]);
  });

  test('an edit keeps what the form does not show (sig, timing) and changes what it does', () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN + oxycodone'), NOW));
    const med = ehr.chartOf(state).medications[0]!;
    const ref = `${med.resourceType}/${med.id}`;
    const fields = ehr.medicationFields(med);
    expect(fields.code).toBe('rxnorm:1049621');
    const { state: next } = ehr.saveMedication(state, ref, { ...fields, dose: '10 mg' });
    const edited = ehr.chartOf(next).medications[0]! as { dosage: { text?: string; doseAndRate: unknown[] }[] };
    expect(edited.dosage[0]!.text).toBe('1 tablet by mouth every 6 hours as needed for pain');
    expect(ehr.doseText(edited)).toBe('10 mg');
  });

  test('conditions: MS and spasticity added to a 4.5 mg first order give the spasticity dose warning', async () => {
    let state = ehr.stateFromRequest(hookRequest(demoCase('First LDN order at 4.5 mg'), NOW));
    expect(await indicators(state)).toEqual(['info']);
    state = ehr.saveCondition(state, undefined, { name: 'Multiple sclerosis', code: 'snomed:24700007', clinicalStatus: 'active', onset: '' }).state;
    state = ehr.saveCondition(state, undefined, { name: 'Spasticity', code: 'snomed:221360009', clinicalStatus: 'active', onset: '2024-11-03' }).state;
    const cards = await cardsFor(ehr.buildRequest(state, 'order-select'));
    expect(cards.map((c) => c.indicator)).toContain('warning');
    const spasticity = ehr.chartOf(state).conditions[1]!;
    expect(ehr.conditionFields(spasticity)).toEqual({ name: 'Spasticity', code: 'snomed:221360009', clinicalStatus: 'active', onset: '2024-11-03' });
    // Resolving it takes the warning away.
    const resolved = ehr.saveCondition(state, `Condition/${spasticity.id}`, { ...ehr.conditionFields(spasticity), clinicalStatus: 'resolved' }).state;
    expect((await cardsFor(ehr.buildRequest(resolved, 'order-select'))).map((c) => c.indicator)).not.toContain('warning');
  });

  test('unusable values are refused with a message naming the field; nothing is changed', () => {
    const state = ehr.stateFromRequest(hookRequest(demoCase('LDN 1.5 mg alone (no card)'), NOW));
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, name: '', code: '' })).toThrow(/give a name or a code/);
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, code: 'oxy' })).toThrow(/Code "oxy": write it as rxnorm:/);
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, dose: 'lots' })).toThrow(/Dose "lots"/);
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, status: 'taken' })).toThrow(/Status "taken"/);
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, start: '1/10/2026' })).toThrow(/Start date "1\/10\/2026": use YYYY-MM-DD/);
    expect(() => ehr.saveMedication(state, undefined, { ...oxycodone, start: '2026-02-01', end: '2026-01-01' })).toThrow(/End date is before/);
    expect(() => ehr.saveCondition(state, undefined, { name: 'MS', code: '', clinicalStatus: 'gone', onset: '' })).toThrow(/Clinical status "gone"/);
    expect(() => ehr.saveMedication(state, 'MedicationStatement/nope', oxycodone)).toThrow(/not in the chart/);
    expect(() => ehr.removeFromChart(state, 'Condition/nope')).toThrow(/not in the chart/);
    expect(ehr.parseCode('http://example.org/cs|X1')).toEqual({ system: 'http://example.org/cs', code: 'X1' });
    expect(ehr.codeText({ system: 'http://example.org/cs', code: 'X1' })).toBe('http://example.org/cs|X1');
  });
});

describe('held-back cards', () => {
  test('the count comes from the response extension, and the text never says "nothing to say" when cards were held back', () => {
    expect(ehr.suppressedCount({ cards: [] })).toBe(0);
    expect(ehr.suppressedCount({ cards: [], extension: { 'ldn-cds.suppressed': 2 } })).toBe(2);
    expect(ehr.suppressedCount({ cards: [], extension: { 'ldn-cds.suppressed': 'x' } })).toBe(0);
    expect(ehr.cardCountText([])).toBe('No cards: the service found nothing to say.');
    expect(ehr.cardCountText([], 1)).toBe('No cards shown: 1 card held back (acknowledged in an earlier override for this patient).');
    expect(ehr.cardCountText([{ indicator: 'critical' }], 2, 'order-sign')).toBe(
      '1 card: 1 critical. 2 cards held back (acknowledged in an earlier override or already shown at order-select).',
    );
  });
});
