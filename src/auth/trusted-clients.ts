/**
 * Trusted CDS clients: which issuers may call this service, where their public keys come from,
 * which `jku` URLs they may name, and (optionally) which tenants they may speak for.
 *
 * Read once at start from the file named by TRUSTED_CLIENTS (YAML or JSON, a list of entries) and
 * validated with zod; every problem names the file and the entry path (e.g. `clients.yaml: [1].jwks_url: …`).
 * ALLOW_SANDBOX_ISSUER adds the public CDS Hooks Sandbox, whose private key is public: never in production.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatPath, issueText } from '../model/problems.js';
import { normaliseUrl, StrictJwksSchema } from './keys.js';
import type { KeySource, TrustedClient } from './client.js';
import sandboxJwks from './sandbox-jwks.json' with { type: 'json' };

export const SANDBOX_ISSUER = 'https://sandbox.cds-hooks.org';
export const SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';

export type { KeySource, TrustedClient } from './client.js';

/** Start-up refusal: bad trusted-clients file, or a configuration auth must not run with. */
export class AuthConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid authentication configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AuthConfigError';
  }
}

const HttpUrl = z
  .string()
  .refine((s) => normaliseUrl(s) !== undefined, { message: 'must be an absolute http(s) URL' });

const EntrySchema = z
  .object({
    iss: z.string().min(1, 'iss must be a non-empty string'),
    jwks_url: HttpUrl.optional(),
    jwks_file: z.string().min(1).optional(),
    jwks: StrictJwksSchema.optional(),
    jku_allow: z.array(HttpUrl).optional(),
    tenants: z.array(z.string().min(1)).min(1, 'tenants, when present, must list at least one tenant').optional(),
  })
  .strict();

type Entry = z.infer<typeof EntrySchema>;

export interface LoadOptions {
  /** Path of the trusted-clients file; none means "no file" (the sandbox profile may still apply). */
  file?: string;
  allowSandboxIssuer: boolean;
  production: boolean;
}

/** Every trusted client: the file's entries, plus the sandbox profile when allowed. Throws AuthConfigError. */
export async function loadTrustedClients(options: LoadOptions): Promise<TrustedClient[]> {
  if (options.allowSandboxIssuer && options.production) {
    throw new AuthConfigError(['ALLOW_SANDBOX_ISSUER: the sandbox signing key is public; refused when NODE_ENV=production']);
  }
  const clients = options.file ? await readClientsFile(options.file, options.production) : [];
  if (options.allowSandboxIssuer) {
    if (clients.some((c) => c.iss === SANDBOX_ISSUER)) {
      throw new AuthConfigError([`${options.file}: lists ${SANDBOX_ISSUER} while ALLOW_SANDBOX_ISSUER=true; keep only one`]);
    }
    clients.push(sandboxClient());
  }
  return clients;
}

/** The public CDS Hooks Sandbox: bundled keys, its `jku` accepted as a label and never fetched. */
export function sandboxClient(): TrustedClient {
  return {
    iss: SANDBOX_ISSUER,
    keys: { kind: 'local', jwks: StrictJwksSchema.parse(sandboxJwks), origin: 'bundled sandbox-jwks.json' },
    jkuAllow: [SANDBOX_JKU],
  };
}

async function readClientsFile(file: string, production: boolean): Promise<TrustedClient[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AuthConfigError([`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new AuthConfigError([`${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'} (${(error as Error).message})`]);
  }
  if (!Array.isArray(raw)) throw new AuthConfigError([`${file}: must hold a list of trusted clients`]);

  const problems: string[] = [];
  const clients: TrustedClient[] = [];
  const seen = new Set<string>();
  for (const [index, item] of raw.entries()) {
    const parsed = EntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(located(file, [index, ...issue.path], issue.message));
      continue;
    }
    const entry = parsed.data;
    const report = (field: string | undefined, message: string) =>
      problems.push(located(file, field ? [index, field] : [index], message));
    if (seen.has(entry.iss)) report('iss', `duplicate issuer "${entry.iss}"`);
    seen.add(entry.iss);
    if (production && entry.iss === SANDBOX_ISSUER) report('iss', 'the sandbox signing key is public; refused when NODE_ENV=production');
    checkEntry(entry, production, report);
    const keys = await keySource(entry, path.dirname(path.resolve(file)), report);
    if (keys) {
      clients.push({
        iss: entry.iss,
        keys,
        jkuAllow: (entry.jku_allow ?? []).map((u) => normaliseUrl(u) ?? u),
        ...(entry.tenants ? { tenants: entry.tenants } : {}),
      });
    }
  }
  if (problems.length) throw new AuthConfigError(problems);
  return clients;
}

/** Rules zod cannot express per field: one key source, https in production. */
function checkEntry(entry: Entry, production: boolean, report: (field: string | undefined, message: string) => void): void {
  const sources = (['jwks_url', 'jwks_file', 'jwks'] as const).filter((k) => entry[k] !== undefined);
  if (sources.length !== 1) {
    report(undefined, `exactly one of jwks_url, jwks_file, jwks is required (found ${sources.length ? sources.join(', ') : 'none'})`);
  }
  if (production) {
    if (entry.jwks_url && !entry.jwks_url.startsWith('https://')) report('jwks_url', 'must use https when NODE_ENV=production');
    entry.jku_allow?.forEach((u, i) => {
      if (!u.startsWith('https://')) report(`jku_allow[${i}]`, 'must use https when NODE_ENV=production');
    });
  }
}

async function keySource(
  entry: Entry,
  baseDir: string,
  report: (field: string | undefined, message: string) => void,
): Promise<KeySource | undefined> {
  if (entry.jwks_url) return { kind: 'remote', url: normaliseUrl(entry.jwks_url) ?? entry.jwks_url };
  if (entry.jwks) return { kind: 'local', jwks: entry.jwks, origin: 'inline' };
  if (!entry.jwks_file) return undefined;
  const jwksPath = path.resolve(baseDir, entry.jwks_file);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(jwksPath, 'utf8'));
  } catch (error) {
    report('jwks_file', `${jwksPath}: cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
  const parsed = StrictJwksSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report('jwks_file', `${jwksPath}: ${issueText(issue)}`);
    return undefined;
  }
  return { kind: 'local', jwks: parsed.data, origin: jwksPath };
}

function located(file: string, where: ReadonlyArray<PropertyKey>, message: string): string {
  const at = formatPath(where);
  return `${file}: ${at ? `${at}: ` : ''}${message}`;
}
