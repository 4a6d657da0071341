/**
 * The playground's scenario list: every case of fixtures/scenarios/*.yaml (playground.yaml first), built into a
 * complete hook request with `hookRequest` against today's date (so relative dates such as "60 days ago" mean
 * the same to the service's clock), plus the complete requests in fixtures/requests/*.json. Each entry carries
 * what an EHR would show next to the cards: the patient banner, medications, conditions and draft orders.
 * All of it is synthetic test data.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hookRequest, loadScenarioFiles, type ScenarioFile } from '../scenarios/build.js';

export interface PatientBanner {
  id: string;
  name?: string;
  gender?: string;
  birthDate?: string;
}

export interface PlaygroundScenario {
  /** Stable id: `<file>#<case index>` or the request file name. */
  id: string;
  /** Path under fixtures/, e.g. `scenarios/playground.yaml`. */
  file: string;
  /** The file's description (scenario files) or its name (request files). */
  group: string;
  name: string;
  hook: string;
  patient: PatientBanner;
  medications: unknown[];
  conditions: unknown[];
  draftOrders: unknown[];
  /** The complete CDS Hooks request, every prefetch key filled. */
  request: Record<string, unknown>;
}

/** Listed first in the page. */
export const DEMO_FILE = 'playground.yaml';

interface Source {
  scenarioFiles: { file: string; scenario: ScenarioFile }[];
  requestFiles: { file: string; request: Record<string, unknown> }[];
  problems: string[];
}

/** Read (once, at start) the scenario and request files under `fixturesDir`; problems are returned, not thrown. */
export function readScenarioSources(fixturesDir: string): Source {
  const problems: string[] = [];
  let scenarioFiles: Source['scenarioFiles'] = [];
  const scenarioDir = path.join(fixturesDir, 'scenarios');
  if (existsSync(scenarioDir)) {
    try {
      scenarioFiles = loadScenarioFiles(scenarioDir);
    } catch (error) {
      problems.push(`fixtures/scenarios: ${(error as Error).message}`);
    }
  } else problems.push(`${scenarioDir} not found`);
  scenarioFiles.sort((a, b) => Number(b.file === DEMO_FILE) - Number(a.file === DEMO_FILE));

  const requestFiles: Source['requestFiles'] = [];
  const requestDir = path.join(fixturesDir, 'requests');
  if (existsSync(requestDir)) {
    for (const file of readdirSync(requestDir).filter((f) => f.endsWith('.json')).sort()) {
      try {
        const request = JSON.parse(readFileSync(path.join(requestDir, file), 'utf8')) as unknown;
        if (typeof request !== 'object' || request === null || typeof (request as { hook?: unknown }).hook !== 'string') throw new Error('not a hook request');
        requestFiles.push({ file, request: request as Record<string, unknown> });
      } catch (error) {
        problems.push(`fixtures/requests/${file}: ${(error as Error).message}`);
      }
    }
  }
  return { scenarioFiles, requestFiles, problems };
}

/** The list, with requests built for `now`. */
export function buildScenarioList(source: Source, now: Date): PlaygroundScenario[] {
  const list: PlaygroundScenario[] = [];
  for (const { file, scenario } of source.scenarioFiles) {
    scenario.cases.forEach((c, index) => {
      list.push(entry(`${file}#${index}`, `scenarios/${file}`, scenario.description.trim(), c.name, hookRequest(c, now, { patientId: scenarioPatientId(file, index) })));
    });
  }
  for (const { file, request } of source.requestFiles) {
    list.push(entry(file, `requests/${file}`, 'Complete hook requests (fixtures/requests)', file, structuredClone(request)));
  }
  return list;
}

/**
 * Each case its own synthetic patient, e.g. `pg-playground-1`: suppression is per patient, so cases sharing one
 * would hold each other's cards back after a single dismissal. A valid FHIR id (letters, digits, '-', '.'; ≤ 64).
 */
export function scenarioPatientId(file: string, index: number): string {
  const stem = file.replace(/\.ya?ml$/, '').replace(/[^A-Za-z0-9.-]+/g, '-');
  return `pg-${stem.slice(0, 50)}-${index + 1}`;
}

/** Every patient id the playground's scenarios and request files use (what its reset may clear). */
export function playgroundPatientIds(source: Source): string[] {
  const ids = new Set<string>();
  for (const { file, scenario } of source.scenarioFiles) scenario.cases.forEach((_c, index) => ids.add(scenarioPatientId(file, index)));
  for (const { request } of source.requestFiles) {
    const id = (request.context as { patientId?: unknown } | undefined)?.patientId;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

function entry(id: string, file: string, group: string, name: string, request: Record<string, unknown>): PlaygroundScenario {
  const context = (request.context ?? {}) as Record<string, unknown>;
  const prefetch = (request.prefetch ?? {}) as Record<string, unknown>;
  return {
    id,
    file,
    group,
    name,
    hook: String(request.hook),
    patient: banner(prefetch.patient, context.patientId),
    medications: [...bundleResources(prefetch.medications), ...bundleResources(prefetch.medicationRequests)],
    conditions: bundleResources(prefetch.conditions),
    draftOrders: bundleResources(context.draftOrders),
    request,
  };
}

function bundleResources(bundle: unknown): unknown[] {
  const entries = (bundle as { entry?: unknown } | null | undefined)?.entry;
  return Array.isArray(entries) ? entries.map((e) => (e as { resource?: unknown } | null)?.resource).filter((r) => r !== undefined) : [];
}

interface FhirPatient {
  id?: string;
  name?: { text?: string; given?: string[]; family?: string }[];
  gender?: string;
  birthDate?: string;
}

function banner(patient: unknown, patientId: unknown): PatientBanner {
  const p = (patient ?? {}) as FhirPatient;
  const n = Array.isArray(p.name) ? p.name[0] : undefined;
  const name = n?.text ?? ([...(n?.given ?? []), n?.family ?? ''].join(' ').trim() || undefined);
  return {
    id: typeof patientId === 'string' ? patientId : String(p.id ?? ''),
    ...(name ? { name } : {}),
    ...(typeof p.gender === 'string' ? { gender: p.gender } : {}),
    ...(typeof p.birthDate === 'string' ? { birthDate: p.birthDate } : {}),
  };
}
