/**
 * Discovery asks only for the medication statuses a rule can use (CDS Hooks 3.0 readiness: narrower prefetch).
 * The statuses come from the same semantics the facts use (src/clinical/status.ts), so narrowing can never drop
 * data a rule needs (the opioid washout needs stopped and completed opioids), and asks for nothing that facts
 * exclude anyway. What a client sends when it ignores the narrowing: fixtures/scenarios/prefetch-status-narrowing.yaml.
 */
import { describe, expect, test } from 'vitest';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { statusClass } from '../../src/clinical/status.js';
import { SERVICES_DIR } from '../helpers/app.js';

/** R4 value sets medication-statement-status and medicationrequest-status. */
const STATUSES = {
  MedicationStatement: ['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold', 'unknown', 'not-taken'],
  MedicationRequest: ['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown'],
} as const;

const knowledge = loadKnowledge(SERVICES_DIR);

describe.each(knowledge.services.all().map((s) => [s.id, s] as const))('%s prefetch', (_id, service) => {
  test.each(Object.keys(STATUSES) as (keyof typeof STATUSES)[])('%s: asks for exactly the statuses the facts use', (type) => {
    const templates = Object.values(service.prefetch).filter((t) => t.startsWith(`${type}?`));
    expect(templates).toHaveLength(1);
    const asked = new URLSearchParams(templates[0]!.split('?')[1]).get('status')?.split(',') ?? [];
    const used = STATUSES[type].filter((s) => statusClass(type, type === 'MedicationStatement' ? 'medication-statement' : 'medication-request', s) !== 'excluded');
    expect([...asked].sort()).toEqual([...used].sort());
    expect(asked).toEqual(expect.arrayContaining(['stopped', 'completed']));
  });

  test('conditions are not narrowed (a Condition without clinicalStatus still counts as active)', () => {
    expect(service.prefetch.conditions).toBe('Condition?patient={{context.patientId}}');
  });
});
