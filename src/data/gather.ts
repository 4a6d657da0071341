/**
 * Gather the Chart for a hook call: prefetch first, the FHIR server for the rest (CDS Hooks 2.0 §3 decision table):
 * - key present with data → used (a searchset's `next` pages are fetched when FHIR access allows);
 * - key present with `null` → the client found no data: empty, no fetch;
 * - key absent, or an OperationOutcome (bare, or an error one inside the Bundle) → fetched from fhirServer;
 * - required data that cannot be had → OutcomeError 412 naming the keys.
 * All fetches run in parallel under one deadline. medicationReferences not contained or bundled are fetched too.
 */
import type { Bundle, Medication, Resource } from 'fhir/r4.js';
import type { Config } from '../config.js';
import type { HookRequest } from '../hooks/request.js';
import { userTokens } from '../hooks/request.js';
import type { ServiceDefinition } from '../knowledge/services.js';
import { OutcomeError, preconditionFailed, type IssueInput } from '../http/outcomes.js';
import type { Logger } from '../observability/logger.js';
import type { Chart } from './chart.js';
import { relativeReference } from './chart.js';
import { decideFhirAccess } from './fhir-access.js';
import { createFhirClient, FhirFetchError, hasErrorIssue, isResource, type FhirClient } from './fhir-client.js';
import { renderTemplate } from './templates.js';

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
}

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
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) return { kind: 'fetch', why: 'prefetch Bundle.entry is not an array' };
  const resources: Resource[] = [];
  for (const e of bundle.entry ?? []) {
    const r: unknown = e?.resource;
    if (!isResource(r)) continue;
    if (r.resourceType === 'OperationOutcome') {
      if (hasErrorIssue(r)) return { kind: 'fetch', why: 'client prefetch failed (OperationOutcome in Bundle)' };
      continue;
    }
    resources.push(r);
  }
  if (Array.isArray(bundle.link) && bundle.link.some((l) => l?.relation === 'next')) return { kind: 'continue', resources, bundle };
  return { kind: 'ready', resources, source: 'prefetch' };
}

export async function gatherChart(service: ServiceDefinition, request: HookRequest, deps: GatherDeps): Promise<{ chart: Chart; report: GatherReport }> {
  const { config, logger } = deps;
  const context = request.context;
  const draftOrders = (context.draftOrders?.entry ?? []).map((e) => e?.resource).filter(isResource);
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
    client ??= createFhirClient({ access: decision.access, signal, maxPages: config.fhirMaxPages, fetch: deps.fetch, onRequest: deps.onFhirRequest });
    return client;
  };
  const noAccessReason = decision.ok ? '' : describeNoAccess(decision.reason);

  const report: GatherReport = { keys: {}, medicationReferencesFetched: 0 };
  const failures: IssueInput[] = [];
  const user = userTokens(context.userId);

  const perKey = await Promise.all(
    Object.entries(service.prefetch).map(async ([key, template]): Promise<Resource[]> => {
      const plan = planKey(request.prefetch?.[key]);
      const required = !service.optionalPrefetch.has(key);
      const fail = (reason: string): Resource[] => {
        report.keys[key] = { source: 'unavailable', reason };
        if (required) failures.push({ text: `prefetch key "${key}": ${reason}`, expression: [`prefetch.${key}`] });
        else logger.info({ key, reason }, 'optional prefetch key unavailable');
        return [];
      };
      if (plan.kind === 'ready') {
        report.keys[key] = { source: plan.source };
        return plan.resources;
      }
      const c = fhir();
      if (plan.kind === 'continue') {
        if (!c) return fail(`prefetch is paginated and the next page cannot be fetched (${noAccessReason})`);
        try {
          const more = await c.continueBundle(plan.bundle, 1);
          report.keys[key] = { source: 'prefetch-paged' };
          return [...plan.resources, ...more];
        } catch (e) {
          return fail(`next page could not be fetched (${fetchFailureText(e)})`);
        }
      }
      if (!c) return fail(`${plan.why} and ${noAccessReason}`);
      const rendered = renderTemplate(template, context, user);
      if (!rendered.ok) return fail(`${plan.why} and the template needs ${rendered.missing.map((t) => `{{${t}}}`).join(', ')}, which the request does not supply`);
      try {
        const resources = isReadQuery(rendered.query) ? compact([await c.read(rendered.query)]) : await c.search(rendered.query);
        report.keys[key] = { source: 'fetched' };
        return resources;
      } catch (e) {
        return fail(`${plan.why} and the FHIR fetch failed (${fetchFailureText(e)})`);
      }
    }),
  );
  if (failures.length) throw new OutcomeError(preconditionFailed(failures));

  const resources = dedupe(perKey.flat());
  const medications = new Map<string, Medication>();
  for (const r of [...draftOrders, ...resources]) {
    if (r.resourceType === 'Medication' && r.id) medications.set(`Medication/${r.id}`, r as Medication);
  }

  // medicationReferences that are neither contained nor bundled: fetch them (same deadline).
  const missing = new Set<string>();
  for (const r of [...draftOrders, ...resources]) {
    const ref = (r as { medicationReference?: { reference?: unknown } }).medicationReference?.reference;
    if (typeof ref !== 'string' || ref.startsWith('#')) continue;
    const rel = relativeReference(ref);
    if (rel && !medications.has(rel)) missing.add(rel);
  }
  if (missing.size) {
    const c = fhir();
    if (!c) {
      throw new OutcomeError(preconditionFailed([...missing].map((ref) => ({ text: `medicationReference "${ref}" is neither contained nor prefetched, and ${noAccessReason}` }))));
    }
    const fetched = await Promise.all(
      [...missing].map(async (ref) => {
        try {
          return { ref, med: await c.read(ref) };
        } catch (e) {
          return { ref, error: fetchFailureText(e) };
        }
      }),
    );
    const errors = fetched.filter((f) => 'error' in f);
    if (errors.length) {
      throw new OutcomeError(preconditionFailed(errors.map((f) => ({ text: `medicationReference "${f.ref}" could not be fetched (${(f as { error: string }).error})` }))));
    }
    for (const f of fetched) {
      if ('med' in f && f.med?.resourceType === 'Medication') medications.set(f.ref, f.med as Medication);
      else logger.info({ reference: f.ref }, 'referenced Medication not found on the FHIR server');
    }
    report.medicationReferencesFetched = fetched.length;
  }

  const chart: Chart = {
    hook: request.hook,
    patientId: context.patientId,
    draftOrders,
    selections: request.hook === 'order-select' ? (context.selections ?? []) : [],
    resources,
    medications,
  };
  return { chart, report };
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
