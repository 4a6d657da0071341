/**
 * A minimal FHIR R4 REST client for one hook call: reads and paged searches against the call's
 * allow-listed fhirServer, all under the call's deadline (an AbortSignal). It never follows redirects
 * (the token must not travel to another host) and follows `next` links only on the fhirServer's own origin
 * and base path.
 */
import type { Bundle, Resource } from 'fhir/r4.js';
import type { FhirAccess } from './fhir-access.js';

export type FetchFailure = 'deadline' | 'network' | 'http-status' | 'not-fhir' | 'redirect' | 'next-link-off-origin' | 'too-many-pages';

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

  async function getJson(url: string, kind: 'read' | 'search' | 'page'): Promise<{ status: number; json: unknown }> {
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
      let json: unknown;
      try {
        json = await res.json();
      } catch {
        if (opts.signal.aborted) throw new FhirFetchError('deadline', `FHIR request did not finish before the deadline`);
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
    return new URL(relative.replace(/^\/+/, ''), base).toString();
  }

  /** next links must stay on the fhirServer's origin and under its base path. */
  function checkedNext(bundle: Bundle): string | undefined {
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return undefined;
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
    if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw new FhirFetchError('not-fhir', 'search Bundle.entry is not an array');
    const resources: Resource[] = [];
    for (const e of bundle.entry ?? []) {
      const r = e?.resource;
      if (!isResource(r)) continue;
      // Warnings/information in searchset outcomes are normal; an error outcome means the search failed.
      if (r.resourceType === 'OperationOutcome') {
        if (hasErrorIssue(r)) throw new FhirFetchError('not-fhir', 'search Bundle holds an error OperationOutcome');
        continue;
      }
      resources.push(r);
    }
    return { bundle, resources };
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

export function isResource(x: unknown): x is Resource {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && typeof (x as { resourceType?: unknown }).resourceType === 'string';
}

export function hasErrorIssue(r: Resource): boolean {
  const issues = (r as { issue?: { severity?: string }[] }).issue;
  return !Array.isArray(issues) || issues.length === 0 || issues.some((i) => i?.severity === 'error' || i?.severity === 'fatal');
}
