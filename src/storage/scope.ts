/**
 * The client scope of a card: which CDS client (JWT issuer and tenant) was shown it, against which FHIR server.
 * Suppression, order-select → order-sign de-duplication, feedback and analytics all work within one scope, so
 * an override by one EHR never holds back a card at another EHR whose patient happens to have the same id.
 * Stored as plain columns: an issuer and a tenant are configuration, not PHI, and the FHIR server is reduced to
 * its origin and path (no credentials, query or fragment).
 */

/** The issuer recorded when AUTH_MODE=off (no verified JWT): every unauthenticated caller shares this scope. */
export const UNAUTHENTICATED_ISSUER = 'urn:ldn-cds:auth-off';

export interface ClientScope {
  /** The verified JWT `iss`, or UNAUTHENTICATED_ISSUER. */
  issuer: string;
  /** The verified JWT `tenant`; '' when the client sends none. */
  tenant: string;
  /** fhirServer as origin + path without a trailing slash; '' when the call named none (prefetch only). */
  fhirServer: string;
}

/** The verified client as the auth layer leaves it on `res.locals.client` (absent with AUTH_MODE=off). */
export interface ClientIdentity {
  iss: string;
  tenant?: string;
}

/** The scope of a call: its verified client (if any) and its fhirServer (if any). */
export function clientScope(client: ClientIdentity | undefined, fhirServer?: string): ClientScope {
  return { issuer: client?.iss ?? UNAUTHENTICATED_ISSUER, tenant: client?.tenant ?? '', fhirServer: fhirServerForm(fhirServer) };
}

/** The feedback scope: the client only (feedback carries no fhirServer; the card's audit row supplies it). */
export function feedbackClient(client: ClientIdentity | undefined): Pick<ClientScope, 'issuer' | 'tenant'> {
  return { issuer: client?.iss ?? UNAUTHENTICATED_ISSUER, tenant: client?.tenant ?? '' };
}

/** origin + path, no trailing slash; a string that is not a URL is kept as given (hook validation rejects those). */
export function fhirServerForm(fhirServer: string | undefined): string {
  if (!fhirServer) return '';
  try {
    const u = new URL(fhirServer);
    return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
  } catch {
    return fhirServer.replace(/[?#].*$/s, '').replace(/\/+$/, '');
  }
}

/** One string per scope, for in-memory keys (NUL never occurs in these strings' meaningful content). */
export const scopeKey = (s: ClientScope): string => `${s.issuer}\u0000${s.tenant}\u0000${s.fhirServer}`;
