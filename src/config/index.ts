/**
 * One validated configuration object, read once from the environment and passed in.
 * The variable names are a public contract (README "Configuration"); tests build their own with `testConfig()`.
 */
import { z } from 'zod';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { issueText } from '../model/problems.js';
import { int, StorageEnv, storageOptionsFrom, type StorageOptions } from './storage.js';

/** The folder holding package.json, whether running from src/ (tsx, vitest) or dist/src/ (compiled). */
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
  return dir;
}

const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535, 3000),
  HOST: z.string().default('0.0.0.0'),
  /** Public base URL(s) the service is reached at (comma-separated). The first builds links; all are accepted as JWT `aud` bases. */
  PUBLIC_BASE_URL: list,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated browser origins allowed by CORS, or `*`. Default `*` in development, none in production. */
  CORS_ORIGINS: z.string().optional(),
  /** One deadline (ms) for all FHIR fetches of a hook call. */
  REQUEST_DEADLINE_MS: int(50, 60_000, 2000),
  /** Largest accepted JSON body (bytes, or a size such as `5mb`). */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size in bytes or with a unit, such as 500kb or 5mb')
    .default('5mb'),
  /** Largest nesting depth accepted in a JSON body. */
  BODY_MAX_DEPTH: int(8, 1000, 64),
  /** Comma-separated URL prefixes a request's `fhirServer` must start with before any call is made to it. */
  FHIR_SERVER_ALLOWLIST: list,
  /** Fetch from an allow-listed `fhirServer` without a token when the client sent no `fhirAuthorization` (the CDS Hooks Sandbox does this). */
  FHIR_UNAUTHENTICATED_FETCH: bool,
  /** Most search pages followed per prefetch key (first page included). */
  FHIR_MAX_PAGES: int(1, 100, 10),
  /** Largest body read from one FHIR response (bytes); past it the read is aborted and the data counts as unobtainable. */
  FHIR_MAX_RESPONSE_BYTES: int(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
  /** Largest total of FHIR response bodies read for one hook call (bytes). */
  FHIR_MAX_CALL_BYTES: int(1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  /** Most FHIR resources (prefetched, fetched and draft) one hook call may bring to evaluation; past it the call is answered 412. */
  CHART_MAX_RESOURCES: int(1, 1_000_000, 5000),
  AUTH_MODE: z.enum(['required', 'off']).default('required'),
  /** Path to a YAML or JSON list of trusted CDS clients. */
  TRUSTED_CLIENTS: z.string().optional(),
  /** Trust the public CDS Hooks Sandbox issuer (its private key is public: testing only, refused in production). */
  ALLOW_SANDBOX_ISSUER: bool,
  /** Longest accepted JWT lifetime (exp - iat), seconds. */
  JWT_MAX_LIFETIME_S: int(1, 3600, 3600),
  /** Clock skew tolerated on exp/iat, seconds. */
  JWT_CLOCK_SKEW_S: int(0, 300, 30),
  /** Status answered when the shared replay cache is unreachable (fail closed either way). */
  REPLAY_CACHE_FAILURE_STATUS: z.enum(['401', '503']).default('503').transform(Number),
  DATABASE_URL: z.string().optional(),
  SQLITE_PATH: z.string().default('data/ldn-cds.sqlite'),
  REDIS_URL: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
  /** Key for the keyed hash that replaces raw patient ids in logs and storage. */
  PATIENT_ID_HASH_KEY: z.string().optional(),
  /** Folder holding services/, rules/, valuesets/ and evidence.yaml. */
  CDS_SERVICES_DIR: z.string().optional(),
  /**
   * The card playground at / (it signs its own CDS client JWTs): on by default in development (tokens for loopback
   * clients only), off in production; `on` enables it for any host, `off` disables it.
   */
  PLAYGROUND: z.enum(['on', 'off']).optional(),
  /** Serve GET /metrics on this port instead of the public one (an internal listener on HOST). */
  METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  /** Bearer token required on GET /metrics (wherever it is served). */
  METRICS_TOKEN: z.union([z.literal(''), z.string().min(16, 'must be at least 16 characters')]).optional(),
  /** Longest time to receive a request's headers (ms); a client that never finishes them is disconnected (408). */
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000, 10_000),
  /** Longest time to receive a whole request, headers and body (ms); must be >= HTTP_HEADERS_TIMEOUT_MS. */
  HTTP_REQUEST_TIMEOUT_MS: int(100, 600_000, 30_000),
  /** How long an idle keep-alive connection is kept open (ms); above the idle timeout of a proxy in front. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000, 65_000),
}).merge(StorageEnv);

/** Every environment variable the service reads (the public contract documented in the README). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(Env.shape);

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  publicBaseUrls: string[];
  /**
   * Base URLs accepted in a client JWT's `aud`: every PUBLIC_BASE_URL, and in development (only) the other
   * loopback spellings (localhost, 127.0.0.1, [::1]) of a loopback base, same scheme and port.
   */
  audienceBaseUrls: string[];
  logLevel: string;
  corsOrigins: string[] | '*';
  requestDeadlineMs: number;
  bodyLimit: string;
  bodyMaxDepth: number;
  fhirServerAllowlist: string[];
  fhirUnauthenticatedFetch: boolean;
  fhirMaxPages: number;
  fhirMaxResponseBytes: number;
  fhirMaxCallBytes: number;
  chartMaxResources: number;
  authMode: 'required' | 'off';
  trustedClientsFile?: string;
  allowSandboxIssuer: boolean;
  jwtMaxLifetimeS: number;
  jwtClockSkewS: number;
  replayCacheFailureStatus: number;
  databaseUrl?: string;
  sqlitePath: string;
  redisUrl?: string;
  adminToken?: string;
  patientIdHashKey: string;
  cdsServicesDir: string;
  /** Storage tuning: suppression, select→sign coordination, audit queue, database timeouts (docs/storage.md). */
  storage: StorageOptions;
  /** Serve the card playground at / with its own signing key trusted for its issuer only. */
  playground: boolean;
  /**
   * Playground tokens for any host (PLAYGROUND=on set explicitly). Otherwise (the development default) only clients
   * on this machine (loopback) get one, so a development instance on a network is not open to anyone.
   */
  playgroundTokensForAnyHost: boolean;
  metrics: MetricsConfig;
  httpTimeouts: HttpTimeouts;
}

/** Where GET /metrics is served and who may read it (docs/security.md "Metrics"). */
export interface MetricsConfig {
  /** A separate listener for /metrics (then it is not on the public port). */
  port?: number;
  /** Bearer token required on /metrics. */
  token?: string;
  /** /metrics on the public port: with METRICS_PORT unset, and in production only with METRICS_TOKEN. */
  onPublicPort: boolean;
  /**
   * Detailed auth-refusal reasons (`unknown-issuer`, `unknown-kid`, …) are exposed only to a token holder or on
   * the internal port; an open /metrics shows coarse classes, which do not tell which issuers or kids are trusted.
   */
  detailedReasons: boolean;
}

/** Node http.Server timeouts (ms). */
export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

/** Shortest PATIENT_ID_HASH_KEY accepted in production: a short key makes the keyed patient hashes guessable. */
export const MIN_HASH_KEY_LENGTH = 32;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One problem is one line (what an operator sees in a crash-looping container's log); several are a list.
    super(problems.length === 1 ? `Invalid configuration: ${problems[0]}` : `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map(issueText));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];

  const publicBaseUrls = (e.PUBLIC_BASE_URL.length ? e.PUBLIC_BASE_URL : [`http://localhost:${e.PORT}`]).map((u) => u.replace(/\/+$/, ''));
  for (const u of publicBaseUrls) if (!isHttpUrl(u)) problems.push(`PUBLIC_BASE_URL: "${u}" is not an http(s) URL`);
  for (const u of publicBaseUrls) if (isHttpUrl(u) && hasQueryOrFragment(u)) problems.push(`PUBLIC_BASE_URL: "${u}" must not have a query or fragment`);
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(`HTTP_HEADERS_TIMEOUT_MS: ${e.HTTP_HEADERS_TIMEOUT_MS} must not exceed HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_REQUEST_TIMEOUT_MS})`);
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    problems.push(`METRICS_PORT: must differ from PORT (${e.PORT}); unset it to serve /metrics on the public port`);
  }
  for (const u of e.FHIR_SERVER_ALLOWLIST) if (!isHttpUrl(u)) problems.push(`FHIR_SERVER_ALLOWLIST: "${u}" is not an http(s) URL`);

  const corsRaw = e.CORS_ORIGINS ?? (production ? '' : '*');
  const corsOrigins: string[] | '*' = corsRaw.trim() === '*' ? '*' : corsRaw.split(',').map((x) => x.trim()).filter(Boolean);

  if (production) {
    if (e.AUTH_MODE === 'off') problems.push('AUTH_MODE: "off" is refused when NODE_ENV=production');
    if (e.ALLOW_SANDBOX_ISSUER) problems.push('ALLOW_SANDBOX_ISSUER: the sandbox key is public; refused when NODE_ENV=production');
    if (!e.PATIENT_ID_HASH_KEY) problems.push('PATIENT_ID_HASH_KEY: required when NODE_ENV=production');
    else if (e.PATIENT_ID_HASH_KEY.length < MIN_HASH_KEY_LENGTH) {
      problems.push(`PATIENT_ID_HASH_KEY: must be at least ${MIN_HASH_KEY_LENGTH} characters when NODE_ENV=production (e.g. openssl rand -base64 48)`);
    }
    if (e.PUBLIC_BASE_URL.length === 0) problems.push('PUBLIC_BASE_URL: required when NODE_ENV=production');
    if (e.PLAYGROUND === 'on') problems.push('PLAYGROUND: "on" is refused when NODE_ENV=production (the playground signs trusted client JWTs for anyone who reaches it)');
  }
  if (problems.length) throw new ConfigError(problems);
  const normalisedBases = publicBaseUrls.map(normaliseBaseUrl);

  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrls,
    audienceBaseUrls: e.NODE_ENV === 'development' ? withLoopbackAliases(normalisedBases) : unique(normalisedBases),
    logLevel: e.LOG_LEVEL,
    corsOrigins,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    bodyLimit: e.BODY_LIMIT,
    bodyMaxDepth: e.BODY_MAX_DEPTH,
    fhirServerAllowlist: e.FHIR_SERVER_ALLOWLIST,
    fhirUnauthenticatedFetch: e.FHIR_UNAUTHENTICATED_FETCH,
    fhirMaxPages: e.FHIR_MAX_PAGES,
    fhirMaxResponseBytes: e.FHIR_MAX_RESPONSE_BYTES,
    fhirMaxCallBytes: e.FHIR_MAX_CALL_BYTES,
    chartMaxResources: e.CHART_MAX_RESOURCES,
    authMode: e.AUTH_MODE,
    trustedClientsFile: e.TRUSTED_CLIENTS,
    allowSandboxIssuer: e.ALLOW_SANDBOX_ISSUER,
    jwtMaxLifetimeS: e.JWT_MAX_LIFETIME_S,
    jwtClockSkewS: e.JWT_CLOCK_SKEW_S,
    replayCacheFailureStatus: e.REPLAY_CACHE_FAILURE_STATUS,
    databaseUrl: e.DATABASE_URL || undefined,
    sqlitePath: e.SQLITE_PATH,
    redisUrl: e.REDIS_URL || undefined,
    adminToken: e.ADMIN_TOKEN || undefined,
    // Development default: a fixed, documented key so hashes are stable across restarts. Production must set its own.
    patientIdHashKey: e.PATIENT_ID_HASH_KEY ?? 'ldn-cds-development-only-key',
    cdsServicesDir: path.resolve(e.CDS_SERVICES_DIR ?? path.join(PROJECT_ROOT, 'cds-services')),
    storage: storageOptionsFrom(e),
    playground: e.PLAYGROUND ? e.PLAYGROUND === 'on' : !production,
    playgroundTokensForAnyHost: e.PLAYGROUND === 'on',
    metrics: metricsConfig(e.METRICS_PORT, e.METRICS_TOKEN || undefined, production),
    httpTimeouts: { headersMs: e.HTTP_HEADERS_TIMEOUT_MS, requestMs: e.HTTP_REQUEST_TIMEOUT_MS, keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS },
  });
}

/** A config for tests: development defaults, silent logs, auth off, an in-memory SQLite database, unless overridden. */
export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_MODE: 'off', SQLITE_PATH: ':memory:', ...overrides });
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function hasQueryOrFragment(s: string): boolean {
  const u = new URL(s);
  return u.search !== '' || u.hash !== '' || s.includes('?') || s.includes('#');
}

/**
 * A base URL as WHATWG parsing spells it (scheme and host lower-cased, default port dropped), without a trailing
 * slash: `HTTP://LocalHost:80/` and `http://localhost` are the same base.
 */
export function normaliseBaseUrl(base: string): string {
  const u = new URL(base);
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Each loopback base also under the other loopback spellings (development only: see Config.audienceBaseUrls). */
function withLoopbackAliases(bases: readonly string[]): string[] {
  const out: string[] = [];
  for (const base of bases) {
    out.push(base);
    const u = new URL(base);
    if (!LOOPBACK_HOSTS.includes(u.hostname)) continue;
    for (const host of LOOPBACK_HOSTS) {
      const alias = new URL(base);
      alias.hostname = host;
      out.push(normaliseBaseUrl(alias.href));
    }
  }
  return unique(out);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function metricsConfig(port: number | undefined, token: string | undefined, production: boolean): MetricsConfig {
  const onPublicPort = port === undefined && (token !== undefined || !production);
  return {
    ...(port !== undefined ? { port } : {}),
    ...(token !== undefined ? { token } : {}),
    onPublicPort,
    detailedReasons: token !== undefined || port !== undefined,
  };
}
