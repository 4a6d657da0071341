/**
 * Test wiring: an app with a small, deterministic knowledge pack whose one rule reports how much data
 * reached it, so protocol tests (prefetch, fetch, paging, validation) do not depend on clinical rules.
 * The real services files are used, so discovery and prefetch templates are the shipped ones.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Resource } from 'fhir/r4.js';
import { createApp, type AppDeps, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import type { PatientFacts, MedicationFact } from '../../src/model/facts.js';
import { statement as factStatement } from './facts.js';
import type { Knowledge } from '../../src/engine/knowledge.js';
import { ServiceCatalog, loadServices, type ServiceDefinition } from '../../src/knowledge/services.js';
import { loadOverrideReasons } from '../../src/knowledge/override-reasons.js';
import type { Rule } from '../../src/rules/contract.js';
import type { Chart } from '../../src/model/chart.js';
import { createLogger } from '../../src/observability/logger.js';

export const SERVICES_DIR = path.join(PROJECT_ROOT, 'cds-services');

/** Reports the number of medications and conditions that reached the rules; silent when there are none. */
export const dataCountRule: Rule = {
  id: 'test-data-count',
  version: '0.0.1',
  concern: 'test-data-count',
  hooks: ['patient-view', 'order-select', 'order-sign'],
  evaluate(facts) {
    if (facts.medications.length === 0 && facts.conditions.length === 0) return null;
    return {
      ruleId: 'test-data-count',
      ruleVersion: '0.0.1',
      concern: 'test-data-count',
      indicator: 'info',
      summary: `${facts.medications.length} medications, ${facts.conditions.length} conditions`,
      detail: `medications: ${facts.medications.map((m) => m.ref).join(', ')}`,
      evidence: [],
      subjects: [],
    };
  },
};

function trivialFacts(chart: Chart, now: Date): PatientFacts {
  const meds: MedicationFact[] = chart.resources
    .filter((r) => r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest')
    .map((r) => factStatement(r.id ?? '?', { ref: `${r.resourceType}/${r.id}`, status: String((r as { status?: string }).status) }));
  return {
    hook: chart.hook,
    now: now.toISOString(),
    focus: [],
    orders: [],
    medications: meds,
    conditions: chart.resources
      .filter((r) => r.resourceType === 'Condition')
      .map((r) => ({ ref: `Condition/${r.id}`, name: r.id ?? '?', codes: [], isMultipleSclerosis: false, isSpasticity: false, isOpioidUseDisorder: false, active: true })),
  };
}

export function testKnowledge(rules: Rule[] = [dataCountRule], services: ServiceDefinition[] = loadServices(SERVICES_DIR)): Knowledge {
  return {
    name: 'Test knowledge',
    version: '0.0.1',
    dir: SERVICES_DIR,
    services: new ServiceCatalog(services),
    rules: new Map(rules.map((r) => [r.id, r])),
    rulesFor: () => rules,
    evidenceLinks: () => [],
    hasEvidencePages: false,
    extractFacts: trivialFacts,
    overrideReasons: loadOverrideReasons(path.join(SERVICES_DIR, 'override-reasons.yaml')),
  };
}

/** Captures log lines in memory (to assert what is and is not logged). */
export function memoryLogger(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger(level, stream), lines, text: () => lines.join('') };
}

export async function testApp(env: NodeJS.ProcessEnv = {}, deps: AppDeps = {}): Promise<AppHandle> {
  return createApp(testConfig(env), { knowledge: testKnowledge(), ...deps });
}

export const FHIR = 'https://fhir.example.org/r4';

export function searchset(resources: Resource[], next?: string): Resource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ resource })),
    ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
  } as Resource;
}

export function statement(id: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'MedicationStatement',
    id,
    status: 'active',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { text: `drug ${id}` },
    ...extra,
  } as Resource;
}

export function condition(id: string): Resource {
  return { resourceType: 'Condition', id, subject: { reference: 'Patient/p1' }, code: { text: `condition ${id}` } } as Resource;
}

/** A complete, valid order-select request for patient p1 with every required prefetch key. */
export function orderSelect(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'order-select',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context: {
      userId: 'Practitioner/example',
      patientId: 'p1',
      selections: ['MedicationRequest/draft-1'],
      draftOrders: {
        resourceType: 'Bundle',
        entry: [{ resource: { resourceType: 'MedicationRequest', id: 'draft-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { text: 'metformin 500 mg tablet' } } }],
      },
    },
    prefetch: {
      patient: { resourceType: 'Patient', id: 'p1' },
      medications: searchset([statement('s1')]),
      medicationRequests: searchset([]),
      conditions: searchset([condition('c1')]),
    },
    ...overrides,
  };
}

export function patientView(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = orderSelect();
  return {
    hook: 'patient-view',
    hookInstance: '3f6a1bd0-8d5d-4d7c-9b8e-7d0bb0a6d1f1',
    context: { userId: 'Practitioner/example', patientId: 'p1' },
    prefetch: base.prefetch,
    ...overrides,
  };
}

/** The bearer token withFhir sends (tests assert it never leaks). */
export const FHIR_TOKEN = 'secret-access-token-123';

export function withFhir(req: Record<string, unknown>, token = FHIR_TOKEN): Record<string, unknown> {
  return {
    ...req,
    fhirServer: FHIR,
    fhirAuthorization: { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 'user/MedicationStatement.read user/Condition.read', subject: 'ldn-cds' },
  };
}

/** The same request for another patient: context.patientId, every Patient/p1 reference and the Patient resource's id. */
export function forPatient(req: Record<string, unknown>, patientId: string): Record<string, unknown> {
  const json = JSON.stringify(req).replaceAll('"Patient/p1"', JSON.stringify(`Patient/${patientId}`)).replaceAll('"patientId":"p1"', `"patientId":${JSON.stringify(patientId)}`);
  const out = JSON.parse(json) as { prefetch?: { patient?: { id?: string } } };
  if (out.prefetch?.patient?.id === 'p1') out.prefetch.patient.id = patientId;
  return out as Record<string, unknown>;
}
