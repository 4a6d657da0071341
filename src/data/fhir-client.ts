/**
 * A minimal FHIR R4 REST client for one hook call: reads and paged searches against the call's
 * allow-listed fhirServer, all under the call's deadline (an AbortSignal). It never follows redirects
 * (the token must not travel to another host), sends requests only under the fhirServer's own origin and base
 * path (no encoded slash, backslash or dot segment: src/data/url-safety.ts), next links included, and reads each
 * body as a stream under two byte caps, one per response and one for the whole call, aborting past either.
 */
import type { Bundle, Resource } from 'fhir/r4.js';
import type { FhirAccess } from './fhir-access.js';
import { unsafePathReason } from './url-safety.js';
import { isResource } from '../model/chart.js';

export type FetchFailure = 'deadline' | 'network' | 'http-status' | 'not-fhir' | 'redirect' | 'next-link-off-origin' | 'too-many-pages' | 'too-large' | 'unsafe-url';

export class FhirFetchError extends Error {
  constructor(
    readonly reason: FetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FhirFetchError';
  }
}

export interface FhirClientOptions {
  access: FhirAccess;
  signal: AbortSignal;
  maxPages: number;
  /** Largest body read from one FHIR response, bytes. */
  maxResponseBytes: number;
  /** Largest total of bodies read from the FHIR server during one hook call, bytes. */
  maxCallBytes: number;
  fetch?: typeof fetch;
  /** Called once per HTTP request made (for metrics). */
  onRequest?: (info: { ms: number; ok: boolean; kind: 'read' | 'search' | 'page' }) => void;
}

export interface FhirClient {
  read(relative: string): Promise<Resource | undefined>;
  search(relative: string): Promise<Resource[]>;
  /** Continue a searchset Bundle (e.g. a paged prefetch) from its `next` link; returns the further resources. */
  continueBundle(bundle: Bundle, pagesAlreadyRead: number): Promise<Resource[]>;
}

export function createFhirClient(opts: FhirClientOptions): FhirClient {
  const doFetch = opts.fetch ?? fetch;
  const base = new URL(`${opts.access.baseUrl}/`);
  const basePath = base.pathname;
  let callBytes = 0;

  /** Every URL the token is sent to: on the fhirServer's origin, under its base path, with no path the server could read otherwise. */
  function checkTarget(raw: string): string {
    const unsafe = unsafePathReason(raw);
    if (unsafe) throw new FhirFetchError('unsafe-url', `FHIR URL path holds ${unsafe}; not requested`);
    const url = new URL(raw);
    if (url.origin !== base.origin || !url.pathname.startsWith(basePath)) {
      throw new FhirFetchError('unsafe-url', 'FHIR URL leaves the fhirServer base; not requested');
    }
    return url.toString();
  }

  /** The body as text, read chunk by chunk; cancelled as soon as it passes the per-response or per-call cap. */
  async function readCapped(res: Response): Promise<string> {
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > Math.min(opts.maxResponseBytes, opts.maxCallBytes - callBytes)) {
      await res.body?.cancel();
      throw tooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      callBytes += value.byteLength;
      if (bytes > opts.maxResponseBytes || callBytes > opts.maxCallBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, bytes).toString('utf8');
  }

  function tooLarge(): FhirFetchError {
    return new FhirFetchError(
      'too-large',
      `FHIR answer exceeds the service's byte limit (${opts.maxResponseBytes} per response, ${opts.maxCallBytes} per call)`,
    );
  }

  async function getJson(target: string, kind: 'read' | 'search' | 'page'): Promise<{ status: number; json: unknown }> {
    const url = checkTarget(target);
    const started = performance.now();
    let ok = false;
    try {
      const headers: Record<string, string> = { accept: 'application/fhir+json, application/json' };
      if (opts.access.token) headers.authorization = `Bearer ${opts.access.token}`;
      let res: Response;
      try {
        res = await doFetch(url, { headers, redirect: 'manual', signal: opts.signal });
      } catch (e) {
        if (opts.signal.aborted) throw new FhirFetchError('deadline', `FHIR request did not finish before the deadline`);
        throw new FhirFetchError('network', `FHIR request failed: ${(e as Error).name}`);
      }
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw new FhirFetchError('redirect', `FHIR server answered a redirect (${res.status}); redirects are not followed`, res.status);
      }
      if (res.status === 404 && kind === 'read') {
        await res.body?.cancel();
        ok = true;
        return { status: 404, json: undefined };
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new FhirFetchError('http-status', `FHIR server answered HTTP ${res.status}`, res.status);
      }
      let text: string;
      try {
        text = await readCapped(res);
      } catch (e) {
        if (e instanceof FhirFetchError) throw e;
        if (opts.signal.aborted) throw new FhirFetchError('deadline', `FHIR request did not finish before the deadline`);
        throw new FhirFetchError('network', `FHIR response could not be read: ${(e as Error).name}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new FhirFetchError('not-fhir', 'FHIR server answered something that is not JSON');
      }
      if (!isResource(json)) throw new FhirFetchError('not-fhir', 'FHIR server answered JSON that is not a FHIR resource');
      ok = true;
      return { status: res.status, json };
    } finally {
      opts.onRequest?.({ ms: performance.now() - started, ok, kind });
    }
  }

  function resolve(relative: string): string {
    const unsafe = unsafePathReason(relative);
    if (unsafe) throw new FhirFetchError('unsafe-url', `FHIR query path holds ${unsafe}; not requested`);
    return new URL(relative.replace(/^\/+/, ''), base).toString();
  }

  /** next links must stay on the fhirServer's origin and under its base path, with a path the server reads as we do. */
  function checkedNext(bundle: Bundle): string | undefined {
    const next = Array.isArray(bundle.link) ? bundle.link.find((l) => l?.relation === 'next')?.url : undefined;
    if (next === undefined || next === null || next === '') return undefined;
    if (typeof next !== 'string') throw new FhirFetchError('next-link-off-origin', 'next link is not a string');
    const unsafe = unsafePathReason(next);
    if (unsafe) throw new FhirFetchError('next-link-off-origin', `next link path holds ${unsafe}; not followed`);
    let url: URL;
    try {
      url = new URL(next, base);
    } catch {
      throw new FhirFetchError('next-link-off-origin', 'next link is not a valid URL');
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(basePath)) {
      throw new FhirFetchError('next-link-off-origin', `next link leaves the FHIR server (${url.origin}); not followed`);
    }
    return url.toString();
  }

  function bundleResources(json: unknown): { bundle: Bundle; resources: Resource[] } {
    const bundle = json as Bundle;
    if (bundle.resourceType !== 'Bundle') {
      if (bundle.resourceType === 'OperationOutcome') throw new FhirFetchError('not-fhir', 'FHIR server answered an OperationOutcome to a search');
      throw new FhirFetchError('not-fhir', `search answered a ${String(bundle.resourceType)}, not a Bundle`);
    }
    const read = searchEntries(bundle);
    // Warnings/information in searchset outcomes are normal; an error outcome means the search failed.
    if (read.problem) throw new FhirFetchError('not-fhir', read.problem === 'entry-not-array' ? 'search Bundle.entry is not an array' : 'search Bundle holds an error OperationOutcome');
    return { bundle, resources: read.resources };
  }

  async function follow(first: Bundle, pagesRead: number): Promise<Resource[]> {
    const out: Resource[] = [];
    let bundle = first;
    let pages = pagesRead;
    for (;;) {
      const next = checkedNext(bundle);
      if (!next) return out;
      if (pages >= opts.maxPages) throw new FhirFetchError('too-many-pages', `search has more than ${opts.maxPages} pages`);
      const page = bundleResources((await getJson(next, 'page')).json);
      out.push(...page.resources);
      bundle = page.bundle;
      pages++;
    }
  }

  return {
    async read(relative) {
      const { status, json } = await getJson(resolve(relative), 'read');
      if (status === 404) return undefined;
      const r = json as Resource;
      if (r.resourceType === 'OperationOutcome') throw new FhirFetchError('not-fhir', 'read answered an OperationOutcome');
      return r;
    },
    async search(relative) {
      const first = bundleResources((await getJson(resolve(relative), 'search')).json);
      return [...first.resources, ...(await follow(first.bundle, 1))];
    },
    continueBundle(bundle, pagesAlreadyRead) {
      return follow(bundle, pagesAlreadyRead);
    },
  };
}

/**
 * The resources of a search Bundle (a prefetched one, or a page fetched here), in one loop: entries that are not
 * resources and included non-medication resources are skipped, warning/information OperationOutcomes are normal;
 * `entry` that is not an array, or an error OperationOutcome (the search failed), is a problem.
 */
export function searchEntries(bundle: Bundle): { resources: Resource[]; problem?: undefined } | { problem: 'entry-not-array' | 'error-outcome'; resources?: undefined } {
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) return { problem: 'entry-not-array' };
  const resources: Resource[] = [];
  for (const e of bundle.entry ?? []) {
    const r: unknown = e?.resource;
    if (!isResource(r) || isIncludedNonMedication(e, r)) continue;
    if (r.resourceType === 'OperationOutcome') {
      if (hasErrorIssue(r)) return { problem: 'error-outcome' };
      continue;
    }
    resources.push(r);
  }
  return { resources };
}

function hasErrorIssue(r: Resource): boolean {
  const issues = (r as { issue?: { severity?: string }[] }).issue;
  return !Array.isArray(issues) || issues.length === 0 || issues.some((i) => i?.severity === 'error' || i?.severity === 'fatal');
}

/** A searchset entry added by _include that is not a Medication (a Practitioner, …): no fact needs it. */
function isIncludedNonMedication(entry: unknown, resource: Resource): boolean {
  return (entry as { search?: { mode?: unknown } }).search?.mode === 'include' && resource.resourceType !== 'Medication';
}
