/**
 * `ldn-cds mint-token`: a first signed call for an operator, without weakening auth.
 *
 * A local test CDS client: an ES384 key pair generated on first use. The private key is written to a git-ignored,
 * docker-ignored file (mode 0600, never mounted into the container); its public JWKS goes where the example
 * trusted-clients file (config/trusted-clients.compose.yaml) names it, so the service verifies this client exactly as
 * it verifies an EHR. The token is printed on stdout only: never logged, never stored.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { PROJECT_ROOT } from './config/index.js';

export const TEST_CLIENT_ISS = 'ldn-cds-local-test-client';
/** Defaults, relative to the project root: the key stays outside config/ (which compose mounts). */
export const DEFAULT_KEY_FILE = '.secrets/test-client.private.jwk.json';
export const DEFAULT_JWKS_FILE = 'config/clients/test-client.jwks.json';
const ALG = 'ES384';
const DEFAULT_LIFETIME_S = 300;

export const MINT_USAGE = `Usage: ldn-cds mint-token --aud URL [--tenant T] [--lifetime S] [--key FILE] [--jwks FILE] [--iss ISS]
       ldn-cds mint-token --init   (only create the test client key pair)

  --aud URL      the exact URL you will call, e.g. http://localhost:3000/cds-services/ldn-order-check
  --lifetime S   token lifetime in seconds (default ${DEFAULT_LIFETIME_S}; the service refuses more than JWT_MAX_LIFETIME_S)
  --key FILE     private key (default ${DEFAULT_KEY_FILE}; created with --jwks if missing)
  --jwks FILE    public JWKS written when the key is created (default ${DEFAULT_JWKS_FILE})
  --iss ISS      issuer (default ${TEST_CLIENT_ISS}, as in config/trusted-clients.compose.yaml)
Prints one single-use token (its jti is refused the second time). Restart the service after creating a key.`;

interface KeyFile {
  kid: string;
  alg: typeof ALG;
  jwk: JWK;
}

export async function mintTokenCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        aud: { type: 'string' },
        tenant: { type: 'string' },
        lifetime: { type: 'string' },
        key: { type: 'string' },
        jwks: { type: 'string' },
        iss: { type: 'string' },
        init: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${MINT_USAGE}`);
    return 2;
  }
  if (values.help) {
    err(MINT_USAGE);
    return 0;
  }
  if (!values.init && !values.aud) {
    err(`--aud is required (or --init)\n\n${MINT_USAGE}`);
    return 2;
  }
  if (values.aud !== undefined && !/^https?:\/\/[^/]+\/cds-services(\/|$)/.test(values.aud)) {
    err(`--aud: "${values.aud}" is not a CDS Hooks URL of the service (http(s)://host/cds-services/...)`);
    return 2;
  }
  const lifetime = values.lifetime === undefined ? DEFAULT_LIFETIME_S : Number(values.lifetime);
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600) {
    err(`--lifetime: "${values.lifetime}" must be a whole number of seconds from 1 to 3600`);
    return 2;
  }
  const keyFile = path.resolve(PROJECT_ROOT, values.key ?? DEFAULT_KEY_FILE);
  const jwksFile = path.resolve(PROJECT_ROOT, values.jwks ?? DEFAULT_JWKS_FILE);

  let key: KeyFile;
  if (existsSync(keyFile)) {
    try {
      key = readKeyFile(keyFile);
    } catch (e) {
      err(`${keyFile}: ${(e as Error).message}`);
      return 1;
    }
  } else {
    key = await createKeyPair(keyFile, jwksFile);
    err(`Created a test client key pair:\n  private key ${keyFile} (keep it; git- and docker-ignored)\n  public JWKS ${jwksFile}\n(Re)start the service so it trusts the new key.`);
  }
  if (values.init) return 0;

  const nowS = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(values.tenant ? { tenant: values.tenant } : {})
    .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: key.kid })
    .setIssuer(values.iss ?? TEST_CLIENT_ISS)
    .setAudience(values.aud!)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + lifetime)
    .setJti(randomUUID());
  out(await jwt.sign(await importJWK(key.jwk, ALG)));
  return 0;
}

async function createKeyPair(keyFile: string, jwksFile: string): Promise<KeyFile> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = `test-client-${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}`;
  const key: KeyFile = { kid, alg: ALG, jwk: await exportJWK(privateKey) };
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600);
  mkdirSync(path.dirname(jwksFile), { recursive: true });
  writeFileSync(jwksFile, `${JSON.stringify({ keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] }, null, 2)}\n`);
  return key;
}

function readKeyFile(file: string): KeyFile {
  let raw: Partial<KeyFile>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile>;
  } catch (e) {
    throw new Error(`not a key file written by mint-token (${(e as Error).message})`);
  }
  if (typeof raw.kid !== 'string' || raw.alg !== ALG || typeof raw.jwk?.d !== 'string') {
    throw new Error(`not a key file written by mint-token (needs kid, alg ${ALG} and a private jwk)`);
  }
  return raw as KeyFile;
}
