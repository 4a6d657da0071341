/** The synthetic patients shipped for HAPI (fixtures/patients) behave as fixtures/patients/README.md says. */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource } from 'fhir/r4.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { parseHookRequest } from '../../src/hooks/request.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { createLogger } from '../../src/observability/logger.js';

const bundle = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures/patients/ldn-demo-patients.json'), 'utf8')) as Bundle;
const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => new Date('2026-11-21T09:00:00Z') });
const service = knowledge.services.get('ldn-order-select')!;

function ldnOrderFor(patientId: string) {
  const of = (type: string) => (bundle.entry ?? []).map((e) => e.resource as Resource & { subject?: { reference?: string } }).filter((r) => r.resourceType === type && r.subject?.reference === `Patient/${patientId}`);
  const searchset = (rs: Resource[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource })) });
  const draft = {
    resourceType: 'MedicationRequest', id: 'ldn-order', status: 'draft', intent: 'order', subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { text: 'Naltrexone 4.5 mg capsule (compounded)' },
    dosageInstruction: [{ text: '4.5 mg at bedtime', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] } } }],
  };
  return {
    hook: 'order-select', hookInstance: `demo-${patientId}`,
    context: { userId: 'Practitioner/demo', patientId, selections: ['MedicationRequest/ldn-order'], draftOrders: { resourceType: 'Bundle', entry: [{ resource: draft }] } },
    prefetch: { patient: null, medications: searchset(of('MedicationStatement')), medicationRequests: searchset([]), conditions: searchset(of('Condition')) },
  };
}

describe('demo patients', () => {
  test('ldn-demo-1 (oxycodone, interferon, MS, spasticity): the opioid card is critical', async () => {
    const r = await engine.evaluate(service, parseHookRequest(ldnOrderFor('ldn-demo-1'), service.hooks, service.id));
    expect(r.rendered[0]!.draft.ruleId).toBe('ldn-with-opioid');
    expect(r.rendered.map((x) => x.draft.ruleId)).toEqual(expect.arrayContaining(['ldn-with-interferon-beta', 'ldn-ms-spasticity-dose']));
  });

  test('ldn-demo-2 (LDN 3 mg, glatiramer, MS, spasticity): the spasticity warning with a 3 mg suggestion, nothing for glatiramer', async () => {
    const r = await engine.evaluate(service, parseHookRequest(ldnOrderFor('ldn-demo-2'), service.hooks, service.id));
    expect(r.rendered.map((x) => `${x.draft.ruleId}:${x.card.indicator}`)).toEqual(['ldn-ms-spasticity-dose:warning']);
    const update = r.rendered[0]!.card.suggestions?.[0]?.actions?.[0];
    expect(update?.type).toBe('update');
    expect(JSON.stringify(update?.resource)).toMatch(/"value":3,"unit":"mg"/);
  });
});
