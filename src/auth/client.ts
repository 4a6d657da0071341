/** A trusted CDS client and where its keys come from: its own file so keys.ts and trusted-clients.ts need not import each other. */
import type { JSONWebKeySet } from 'jose';

/** Where a client's verification keys come from. */
export type KeySource =
  | { kind: 'local'; jwks: JSONWebKeySet; origin: string }
  | { kind: 'remote'; url: string };

export interface TrustedClient {
  iss: string;
  keys: KeySource;
  /** Normalised `jku` URLs this client may name in a token header. */
  jkuAllow: readonly string[];
  /** When present, a token must carry a `tenant` claim from this list. */
  tenants?: readonly string[];
}
