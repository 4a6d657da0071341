/**
 * Whether and how a hook call may reach its FHIR server. A bearer token is only ever sent to a `fhirServer`
 * that matches the operator's allow-list (FHIR_SERVER_ALLOWLIST), compared as parsed URLs (scheme, host, port,
 * then path prefix on a segment boundary), never as raw string prefixes; a path with an encoded slash, a backslash
 * or a dot segment is refused outright (src/data/url-safety.ts).
 */
import type { Config } from '../config/index.js';
import type { HookRequest } from '../hooks/request.js';
import { unsafePathReason } from './url-safety.js';

export interface FhirAccess {
  baseUrl: string;
  /** Bearer token for this request only; never logged, never stored. */
  token?: string;
}

export type AccessDecision = { ok: true; access: FhirAccess } | { ok: false; reason: 'no-fhir-server' | 'not-allow-listed' | 'no-authorization' };

export function isAllowedFhirServer(fhirServer: string, allowlist: readonly string[]): boolean {
  // Checked on the string as sent: the URL parser resolves dot segments and keeps %2f, the FHIR server may decode it.
  if (unsafePathReason(fhirServer)) return false;
  let target: URL;
  try {
    target = new URL(fhirServer);
  } catch {
    return false;
  }
  if (target.username || target.password) return false;
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  const targetPath = trimSlash(target.pathname);
  return allowlist.some((entry) => {
    const allowed = new URL(entry);
    if (allowed.protocol !== target.protocol || allowed.host !== target.host) return false;
    const prefix = trimSlash(allowed.pathname);
    return prefix === '' || targetPath === prefix || targetPath.startsWith(`${prefix}/`);
  });
}

export function decideFhirAccess(request: Pick<HookRequest, 'fhirServer' | 'fhirAuthorization'>, config: Config): AccessDecision {
  if (!request.fhirServer) return { ok: false, reason: 'no-fhir-server' };
  if (!isAllowedFhirServer(request.fhirServer, config.fhirServerAllowlist)) return { ok: false, reason: 'not-allow-listed' };
  const baseUrl = request.fhirServer.replace(/\/+$/, '');
  if (request.fhirAuthorization) return { ok: true, access: { baseUrl, token: request.fhirAuthorization.access_token } };
  if (config.fhirUnauthenticatedFetch) return { ok: true, access: { baseUrl } };
  return { ok: false, reason: 'no-authorization' };
}

function trimSlash(p: string): string {
  return p.replace(/\/+$/, '');
}
