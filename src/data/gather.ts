/**
 * Gather the Chart for a hook call: prefetch first, the FHIR server for the rest (CDS Hooks 2.0 §3 decision table):
 * - key present with data → used (a searchset's `next` pages are fetched when FHIR access allows);
 * - key present with `null` → the client found no data: empty, no fetch;
 * - key absent, or an OperationOutcome (bare, or an error one inside the Bundle) → fetched from fhirServer;
 * - required data that cannot be had → OutcomeError 412 naming the keys.
 * All fetches run in parallel under one deadline, which also bounds the whole gathering (412 past it).
 * medicationReferences not contained or bundled are fetched too; one that leads to no Medication is a 412.
 * What may reach the facts is screened (src/data/screen.ts): another patient's resources, or resources a key's
 * query does not return, make the key unusable (fetched again when possible, else 412). Older FHIR versions are
 * read as R4 (src/data/versions.ts). At most CHART_MAX_RESOURCES resources per call (412 past it).
 */
import type { Bundle, Medication, Resource } from 'fhir/r4.js';
import type { Config } from '../config/index.js';
import type { HookRequest } from '../hooks/request.js';
import { userTokens } from '../hooks/request.js';
import type { ServiceDefinition } from '../knowledge/services.js';
import { OutcomeError, outcome, preconditionFailed, type IssueInput } from '../model/outcomes.js';
import type { Logger } from '../observability/logger.js';
import type { Chart } from '../model/chart.js';
import { containedMedication, relativeReference } from '../model/chart.js';
import { decideFhirAccess } from './fhir-access.js';
import { createFhirClient, FhirFetchError, searchEntries, type FhirClient } from './fhir-client.js';
import { isResource } from '../model/chart.js';
import { isOtherPatients, queriedType, screen, screenProblem } from './screen.js';
import { renderPrefetchTemplate } from '../model/prefetch-template.js';
import { asR4, asR4Reference, type VersionReport } from './versions.js';
import { stageSpan } from '../observability/tracing.js';

export type KeySource = 'prefetch' | 'prefetch-null' | 'prefetch-paged' | 'fetched' | 'unavailable';

export interface GatherReport {
  keys: Record<string, { source: KeySource; reason?: string }>;
  medicationReferencesFetched: number;
}

export interface GatherDeps {
  config: Config;
  logger: Logger;
  fetch?: typeof fetch;
  onFhirRequest?: (info: { ms: number; ok: boolean; kind: 'read' | 'search' | 'page' }) => void;
  /** Resources kept from the facts (for metrics): for another patient, or of a type the key's query does not return. */
  onDropped?: (reason: DropReason, count: number) => void;
}

export type DropReason = 'other-patient' | 'unexpected-type';

/**
 * True when the hook call itself supplied everything the chart holds: every prefetch key answered with data or
 * null, nothing fetched. The chart is then a function of the request body alone (the FHIR server, its token and
 * the allow-list played no part), which is what lets the engine remember an evaluation by the body's digest.
 */
export function suppliedByRequest(report: GatherReport): boolean {
  return report.medicationReferencesFetched === 0 && Object.values(report.keys).every((k) => k.source === 'prefetch' || k.source === 'prefetch-null');
}

type KeyPlan =
  | { kind: 'ready'; resources: Resource[]; source: KeySource }
  | { kind: 'continue'; resources: Resource[]; bundle: Bundle }
  | { kind: 'fetch'; why: string };

/** Classify one prefetch value the client sent (or did not send). */
function planKey(value: unknown): KeyPlan {
  if (value === null) return { kind: 'ready', resources: [], source: 'prefetch-null' };
  if (value === undefined) return { kind: 'fetch', why: 'not prefetched' };
  if (!isResource(value)) return { kind: 'fetch', why: 'prefetch value is not a FHIR resource' };
  if (value.resourceType === 'OperationOutcome') return { kind: 'fetch', why: 'client prefetch failed (OperationOutcome)' };
  if (value.resourceType !== 'Bundle') return { kind: 'ready', resources: [value], source: 'prefetch' };
  const bundle = value as Bundle;
  const read = searchEntries(bundle);
  if (read.problem) return { kind: 'fetch', why: read.problem === 'entry-not-array' ? 'prefetch Bundle.entry is not an array' : 'client prefetch failed (OperationOutcome in Bundle)' };
  const { resources } = read;
  if (Array.isArray(bundle.link) && bundle.link.some((l) => l?.relation === 'next')) return { kind: 'continue', resources, bundle };
  return { kind: 'ready', resources, source: 'prefetch' };
}

/** Draft order types no rule of this service concerns: "nothing to say" about them is an honest answer. */
const NON_MEDICATION_ORDERS = new Set([
  'ServiceRequest', 'ProcedureRequest', 'DiagnosticOrder', 'ReferralRequest', 'DeviceRequest', 'DeviceUseRequest', 'NutritionOrder',
  'VisionPrescription', 'CommunicationRequest', 'SupplyRequest', 'Appointment', 'Task', 'ImmunizationRecommendation',
]);

export function gatherChart(service: ServiceDefinition, request: HookRequest, deps: GatherDeps): Promise<{ chart: Chart; report: GatherReport }> {
  return stageSpan('gather', { 'ldn_cds.service': service.id, 'ldn_cds.hook': request.hook }, async (span) => {
    const gathered = await gather(service, request, deps);
    const sources = Object.values(gathered.report.keys).map((k) => k.source);
    span.setAttributes({
      'ldn_cds.prefetch_keys': sources.length,
      'ldn_cds.keys_fetched': sources.filter((s) => s === 'fetched').length,
      'ldn_cds.keys_unavailable': sources.filter((s) => s === 'unavailable').length,
    });
    return gathered;
  });
}

async function gather(service: ServiceDefinition, request: HookRequest, deps: GatherDeps): Promise<{ chart: Chart; report: GatherReport }> {
  const { config, logger } = deps;
  const context = request.context;
  const deadline = performance.now() + config.requestDeadlineMs;
  const versions: VersionReport = new Map();
  const draftOrders = readDraftOrders(context, versions);
  const decision = decideFhirAccess(request, config);
  let refusalLogged = false;

  const signal = AbortSignal.timeout(config.requestDeadlineMs);
  let client: FhirClient | undefined;
  /** The call's FHIR client, made on first need; undefined (and logged once) when the call has no FHIR access. */
  const fhir = (): FhirClient | undefined => {
    if (!decision.ok) {
      if (decision.reason === 'not-allow-listed' && !refusalLogged) {
        refusalLogged = true;
        logger.warn({ fhirServerOrigin: safeOrigin(request.fhirServer) }, 'data must be fetched but fhirServer is not on FHIR_SERVER_ALLOWLIST: no FHIR request made');
      }
      return undefined;
    }
    client ??= createFhirClient({
      access: decision.access,
      signal,
      maxPages: config.fhirMaxPages,
      maxResponseBytes: config.fhirMaxResponseBytes,
      maxCallBytes: config.fhirMaxCallBytes,
      fetch: deps.fetch,
      onRequest: deps.onFhirRequest,
    });
    return client;
  };
  const noAccessReason = decision.ok ? '' : describeNoAccess(decision.reason);

  const report: GatherReport = { keys: {}, medicationReferencesFetched: 0 };
  const failures: IssueInput[] = [];
  const user = userTokens(context.userId);

  /** A key's resources as R4, less what may not reach the facts; a problem when anything had to be left out. */
  const usable = (key: string, expectedType: string | undefined, resources: Resource[], origin: 'prefetch' | 'FHIR server'): { resources: Resource[]; problem?: string } => {
    const screened = screen(resources.map((r) => asR4(r, versions)), context.patientId, expectedType);
    const problem = screenProblem(screened, expectedType);
    if (!problem) return { resources: screened.resources };
    if (screened.otherPatient) deps.onDropped?.('other-patient', screened.otherPatient);
    if (screened.unexpected) deps.onDropped?.('unexpected-type', screened.unexpected);
    logger.warn(
      { key, origin, otherPatient: screened.otherPatient, unexpected: screened.unexpected, unexpectedTypes: screened.unexpectedTypes },
      'resources that may not reach the facts were dropped: the key is unusable as answered',
    );
    return { resources: screened.resources, problem: `the ${origin} answered ${problem}` };
  };

  const perKey = await Promise.all(
    Object.entries(service.prefetch).map(async ([key, template]): Promise<Resource[]> => {
      let plan = planKey(request.prefetch?.[key]);
      // Before any per-resource work: a prefetch past the cap is refused whatever else the call holds.
      if (plan.kind !== 'fetch') checkResourceCount(draftOrders.length + plan.resources.length, config.chartMaxResources);
      const required = !service.optionalPrefetch.has(key);
      const expectedType = queriedType(template);
      const fail = (reason: string): Resource[] => {
        report.keys[key] = { source: 'unavailable', reason };
        if (required) failures.push({ text: `prefetch key "${key}": ${reason}`, expression: [`prefetch.${key}`] });
        else logger.info({ key, reason }, 'optional prefetch key unavailable');
        return [];
      };
      if (plan.kind === 'ready' || plan.kind === 'continue') {
        const checked = usable(key, expectedType, plan.resources, 'prefetch');
        if (checked.problem) plan = { kind: 'fetch', why: checked.problem };
        else if (plan.kind === 'ready') {
          report.keys[key] = { source: plan.source };
          return checked.resources;
        } else plan = { ...plan, resources: checked.resources };
      }
      const c = fhir();
      if (plan.kind === 'continue') {
        if (!c) return fail(`prefetch is paginated and the next page cannot be fetched (${noAccessReason})`);
        let pages: Resource[];
        try {
          pages = await c.continueBundle(plan.bundle, 1);
        } catch (e) {
          return fail(`next page could not be fetched (${fetchFailureText(e)})`);
        }
        checkResourceCount(draftOrders.length + plan.resources.length + pages.length, config.chartMaxResources);
        const more = usable(key, expectedType, pages, 'FHIR server');
        if (more.problem) return fail(`next page unusable: ${more.problem}`);
        report.keys[key] = { source: 'prefetch-paged' };
        return [...plan.resources, ...more.resources];
      }
      if (!c) return fail(`${plan.why} and ${noAccessReason}`);
      const rendered = renderPrefetchTemplate(template, context, user);
      if (!rendered.ok) return fail(`${plan.why} and the template needs ${rendered.missing.map((t) => `{{${t}}}`).join(', ')}, which the request does not supply`);
      let fetched: Resource[];
      try {
        fetched = isReadQuery(rendered.query) ? compact([await c.read(rendered.query)]) : await c.search(rendered.query);
      } catch (e) {
        return fail(`${plan.why} and the FHIR fetch failed (${fetchFailureText(e)})`);
      }
      checkResourceCount(draftOrders.length + fetched.length, config.chartMaxResources);
      const checked = usable(key, expectedType, fetched, 'FHIR server');
      if (checked.problem) return fail(`${plan.why} and ${checked.problem}`);
      report.keys[key] = { source: 'fetched' };
      return checked.resources;
    }),
  );
  if (failures.length) throw new OutcomeError(preconditionFailed(failures));

  const resources = dedupe(perKey.flat());
  checkResourceCount(draftOrders.length + resources.length, config.chartMaxResources);
  const medications = new Map<string, Medication>();
  for (const r of [...draftOrders, ...resources]) {
    if (r.resourceType === 'Medication' && r.id) medications.set(`Medication/${r.id}`, r as Medication);
  }

  // Every medicationReference must lead to a Medication: contained ones are checked here, others are fetched.
  const missing = new Set<string>();
  const unresolvable: IssueInput[] = [];
  for (const r of [...draftOrders, ...resources]) {
    const ref = (r as { medicationReference?: { reference?: unknown } }).medicationReference?.reference;
    if (typeof ref !== 'string') continue;
    if (ref.startsWith('#')) {
      if (!containedMedication(r as { contained?: unknown }, ref.slice(1))) unresolvable.push({ text: `${r.resourceType}: medicationReference "${ref.slice(0, 80)}" names no contained Medication` });
      continue;
    }
    const rel = relativeReference(ref);
    if (!rel) unresolvable.push({ text: `${r.resourceType}: medicationReference "${ref.slice(0, 80)}" is not a reference to a Medication this service can read` });
    else if (!medications.has(rel)) missing.add(rel);
  }
  if (unresolvable.length) throw new OutcomeError(preconditionFailed(unresolvable));
  if (missing.size) {
    checkResourceCount(draftOrders.length + resources.length + missing.size, config.chartMaxResources);
    const c = fhir();
    if (!c) {
      throw new OutcomeError(preconditionFailed([...missing].map((ref) => ({ text: `medicationReference "${ref}" is neither contained nor prefetched, and ${noAccessReason}` }))));
    }
    const fetched = await Promise.all(
      [...missing].map(async (ref): Promise<{ ref: string; med: Medication } | { ref: string; error: string }> => {
        try {
          const med = await c.read(ref);
          if (!med) return { ref, error: 'the FHIR server has no such Medication (404)' };
          if (med.resourceType !== 'Medication') return { ref, error: `the FHIR server answered a ${med.resourceType.slice(0, 64)}, not a Medication` };
          return { ref, med: med as Medication };
        } catch (e) {
          return { ref, error: fetchFailureText(e) };
        }
      }),
    );
    const errors = fetched.filter((f) => 'error' in f);
    if (errors.length) {
      throw new OutcomeError(preconditionFailed(errors.map((f) => ({ text: `medicationReference "${f.ref}" could not be read (${f.error})` }))));
    }
    for (const f of fetched) if ('med' in f) medications.set(f.ref, f.med);
    report.medicationReferencesFetched = fetched.length;
  }
  if (versions.size) logger.info({ converted: Object.fromEntries(versions) }, 'DSTU2/STU3 resources read as R4 (switch the client to R4 to avoid this)');
  // Let other calls run between reading the data (parse, screening) and evaluating it: two slices, not one.
  await new Promise((resolve) => setImmediate(resolve));
  // The deadline covers gathering and what it parsed; evaluation after it is bounded by CHART_MAX_RESOURCES.
  if (performance.now() > deadline) {
    throw new OutcomeError(preconditionFailed([{ code: 'timeout', text: `the patient data could not be gathered within the ${config.requestDeadlineMs} ms deadline` }]));
  }

  const chart: Chart = {
    hook: request.hook,
    patientId: context.patientId,
    draftOrders,
    selections: request.hook === 'order-select' ? (context.selections ?? []).map(asR4Reference) : [],
    resources,
    medications,
  };
  return { chart, report };
}

/**
 * context.draftOrders as R4 (DSTU2 MedicationOrder and STU3 shapes converted). A draft the service cannot read is
 * answered, never ignored: one for another patient is a 400; a medication order of a type the service does not read
 * (MedicationDispense, …) or an unknown type is a 412. Non-medication orders (NON_MEDICATION_ORDERS) concern no rule.
 */
function readDraftOrders(context: HookRequest['context'], versions: VersionReport): Resource[] {
  const entries = context.draftOrders?.entry ?? [];
  const drafts: Resource[] = [];
  const foreign: IssueInput[] = [];
  const unreadable: IssueInput[] = [];
  entries.forEach((e, i) => {
    const raw = e?.resource;
    if (!isResource(raw)) return;
    const where = `context.draftOrders.entry[${i}].resource`;
    const r = asR4(raw, versions);
    if (isOtherPatients(r, context.patientId)) {
      foreign.push({ code: 'invalid', text: `${where}: the draft order is for another patient than context.patientId`, expression: [where] });
    } else if (r.resourceType !== 'MedicationRequest' && r.resourceType !== 'Medication' && !NON_MEDICATION_ORDERS.has(r.resourceType)) {
      unreadable.push({ code: 'not-supported', text: `${where}: this service cannot read a draft ${r.resourceType.slice(0, 64)} (it reads MedicationRequest, R4, STU3 or DSTU2 MedicationOrder)`, expression: [where] });
    }
    drafts.push(r);
  });
  if (foreign.length) throw new OutcomeError(outcome(400, foreign));
  if (unreadable.length) throw new OutcomeError(preconditionFailed(unreadable));
  return drafts;
}

function checkResourceCount(count: number, max: number): void {
  if (count > max) {
    throw new OutcomeError(preconditionFailed([{ code: 'too-costly', text: `the call brings ${count} FHIR resources; this service evaluates at most ${max} per call (CHART_MAX_RESOURCES)` }]));
  }
}

function isReadQuery(query: string): boolean {
  return /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.%]+$/.test(query);
}

function compact<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

function dedupe(resources: Resource[]): Resource[] {
  const seen = new Set<string>();
  const out: Resource[] = [];
  for (const r of resources) {
    if (r.id) {
      const key = `${r.resourceType}/${r.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(r);
  }
  return out;
}

function describeNoAccess(reason: 'no-fhir-server' | 'not-allow-listed' | 'no-authorization'): string {
  switch (reason) {
    case 'no-fhir-server':
      return 'the request has no fhirServer';
    case 'not-allow-listed':
      return 'the request\'s fhirServer is not on this service\'s allow-list';
    case 'no-authorization':
      return 'the request has no fhirAuthorization';
  }
}

function fetchFailureText(e: unknown): string {
  if (e instanceof FhirFetchError) return e.message;
  return 'unexpected error';
}

function safeOrigin(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return 'invalid';
  }
}
