/**
 * Scenario files (fixtures/scenarios/*.yaml) → CDS Hooks requests, for the scenario tests and the playground. Resources may be full FHIR or a shorthand;
 * relative dates ("5 days ago") are resolved against the scenario's `now`, like opioid-cds-r4's date roller,
 * so scenarios never go stale.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Resource } from 'fhir/r4.js';
import { issueText } from '../model/problems.js';
import { SUPPORTED_HOOKS } from '../model/hooks.js';

const SYSTEMS: Record<string, string> = {
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  atc: 'http://www.whocc.no/atc',
  snomed: 'http://snomed.info/sct',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
};
const UCUM = 'http://unitsofmeasure.org';
/** The patient of a scenario case unless the caller names one. */
export const DEFAULT_PATIENT_ID = 'scenario-patient';

const Shorthand = z
  .object({
    id: z.string().optional(),
    text: z.string().optional(),
    /** "rxnorm:1049621", "atc:N07BC02", "snomed:24700007", "icd10cm:G35.A" */
    code: z.string().regex(/^(rxnorm|atc|snomed|icd10cm):\S+$/).optional(),
    display: z.string().optional(),
    status: z.string().optional(),
    started: z.string().optional(),
    stopped: z.string().optional(),
    /** Structured dose, e.g. "4.5 mg" */
    dose: z.string().regex(/^[\d.]+ \S+$/).optional(),
    /** Times per day (structured timing) */
    frequency: z.number().optional(),
    /** timing.repeat.when, e.g. HS or MORN */
    when: z.string().optional(),
    /** Free-text sig */
    sig: z.string().optional(),
    /** Condition clinical / verification status */
    clinical: z.string().optional(),
    verification: z.string().optional(),
  })
  .strict();
type Shorthand = z.infer<typeof Shorthand>;

const Item = z.union([z.object({ resourceType: z.string() }).passthrough(), Shorthand]);

export const ScenarioFile = z
  .object({
    description: z.string().min(1),
    now: z.string().datetime({ offset: true }),
    cases: z
      .array(
        z
          .object({
            name: z.string().min(1),
            hook: z.enum(SUPPORTED_HOOKS).default('order-select'),
            medications: z.array(Item).default([]),
            conditions: z.array(Item).default([]),
            orders: z.array(Item).default([]),
            expect: z.array(
              z
                .object({
                  rule: z.string(),
                  indicator: z.enum(['info', 'warning', 'critical']),
                  /** Words the card (summary or detail) must contain, e.g. "dose not stated". */
                  says: z.array(z.string().min(1)).optional(),
                  /** Words the card must NOT contain, e.g. "4.5 mg over". */
                  neverSays: z.array(z.string().min(1)).optional(),
                })
                .strict(),
            ),
          })
          .strict(),
      )
      .min(1, 'a scenario file must hold at least one case'),
  })
  .strict();
export type ScenarioFile = z.infer<typeof ScenarioFile>;
export type ScenarioCase = ScenarioFile['cases'][number];

/** "5 days ago", "today", "in 3 days" or an ISO date → YYYY-MM-DD relative to now. */
export function rollDate(value: string, now: Date): string {
  const m = /^(\d+) days? ago$/.exec(value) ?? /^in (\d+) days?$/.exec(value);
  if (value === 'today') return now.toISOString().slice(0, 10);
  if (!m) return value;
  const sign = value.startsWith('in ') ? 1 : -1;
  return new Date(now.getTime() + sign * Number(m[1]) * 86_400_000).toISOString().slice(0, 10);
}

function concept(s: Shorthand): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  if (s.code) {
    const [sys, code] = s.code.split(':') as [string, string];
    c.coding = [{ system: SYSTEMS[sys], code, ...(s.display ? { display: s.display } : {}) }];
  }
  if (s.text) c.text = s.text;
  return c;
}

function dosage(s: Shorthand): Record<string, unknown>[] | undefined {
  if (!s.dose && !s.sig && !s.when && s.frequency === undefined) return undefined;
  const d: Record<string, unknown> = {};
  if (s.sig) d.text = s.sig;
  if (s.when || s.frequency !== undefined) d.timing = { repeat: { frequency: s.frequency ?? 1, period: 1, periodUnit: 'd', ...(s.when ? { when: [s.when] } : {}) } };
  if (s.dose) {
    const [value, unit] = s.dose.split(' ') as [string, string];
    d.doseAndRate = [{ doseQuantity: { value: Number(value), unit, system: UCUM, code: unit } }];
  }
  return [d];
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${++counter}`;

/** Read and validate every scenario file in `dir` (sorted by name). Throws naming the file and the field. */
export function loadScenarioFiles(dir: string): { file: string; scenario: ScenarioFile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const parsed = ScenarioFile.safeParse(parseYaml(readFileSync(path.join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map(issueText).join('; ')}`);
      return { file, scenario: parsed.data };
    });
}

function roll(resource: Record<string, unknown>, now: Date): Resource {
  return JSON.parse(JSON.stringify(resource), (_k, v) => (typeof v === 'string' ? rollDate(v, now) : v)) as Resource;
}

export function medicationStatement(item: z.infer<typeof Item>, now: Date, patientId = DEFAULT_PATIENT_ID): Resource {
  if ('resourceType' in item) return roll(item as Record<string, unknown>, now);
  const s = item as Shorthand;
  const period: Record<string, string> = {};
  if (s.started) period.start = rollDate(s.started, now);
  if (s.stopped) period.end = rollDate(s.stopped, now);
  return {
    resourceType: 'MedicationStatement',
    id: s.id ?? nextId('ms'),
    status: s.status ?? (s.stopped ? 'completed' : 'active'),
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: concept(s),
    ...(Object.keys(period).length ? { effectivePeriod: period } : {}),
    ...(dosage(s) ? { dosage: dosage(s) } : {}),
  } as Resource;
}

export function draftOrder(item: z.infer<typeof Item>, now: Date, patientId = DEFAULT_PATIENT_ID): Resource {
  if ('resourceType' in item) return roll(item as Record<string, unknown>, now);
  const s = item as Shorthand;
  return {
    resourceType: 'MedicationRequest',
    id: s.id ?? nextId('draft'),
    status: s.status ?? 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    authoredOn: now.toISOString().slice(0, 10),
    medicationCodeableConcept: concept(s),
    ...(dosage(s) ? { dosageInstruction: dosage(s) } : {}),
  } as Resource;
}

export function condition(item: z.infer<typeof Item>, now: Date, patientId = DEFAULT_PATIENT_ID): Resource {
  if ('resourceType' in item) return roll(item as Record<string, unknown>, now);
  const s = item as Shorthand;
  const cs = (system: string, code: string) => ({ coding: [{ system: `http://terminology.hl7.org/CodeSystem/${system}`, code }] });
  return {
    resourceType: 'Condition',
    id: s.id ?? nextId('cond'),
    subject: { reference: `Patient/${patientId}` },
    clinicalStatus: cs('condition-clinical', s.clinical ?? 'active'),
    verificationStatus: cs('condition-ver-status', s.verification ?? 'confirmed'),
    code: concept(s),
    ...(s.started ? { onsetDateTime: rollDate(s.started, now) } : {}),
  } as Resource;
}

const searchset = (resources: Resource[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

/**
 * The complete hook request for one case (every prefetch key filled). `patientId` gives the case its own patient
 * (the playground does: suppression is per patient, so cases sharing one would hold each other's cards back).
 */
export function hookRequest(c: ScenarioCase, now: Date, options: { patientId?: string } = {}): Record<string, unknown> {
  const patientId = options.patientId ?? DEFAULT_PATIENT_ID;
  const statements = c.medications.map((m) => medicationStatement(m, now, patientId));
  const requests = statements.filter((r) => r.resourceType === 'MedicationRequest');
  const prefetch = {
    patient: { resourceType: 'Patient', id: patientId },
    medications: searchset(statements.filter((r) => r.resourceType !== 'MedicationRequest')),
    medicationRequests: searchset(requests),
    conditions: searchset(c.conditions.map((x) => condition(x, now, patientId))),
  };
  const context: Record<string, unknown> = { userId: 'Practitioner/scenario-prescriber', patientId };
  if (c.hook !== 'patient-view') {
    const drafts = c.orders.map((o) => draftOrder(o, now, patientId));
    context.draftOrders = { resourceType: 'Bundle', entry: drafts.map((resource) => ({ resource })) };
    if (c.hook === 'order-select') context.selections = drafts.map((d) => `MedicationRequest/${d.id}`);
  }
  return { hook: c.hook, hookInstance: `scenario-${++counter}`, context, prefetch };
}
