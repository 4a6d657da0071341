/**
 * docker-compose.yml is for users (no Docker engine here): check it parses, agrees with the config schema, names
 * only files that exist (or that a documented command produces into a git-ignored place), pins its images, and
 * that the first signed call the README describes works against the configuration compose gives the service.
 */
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, PROJECT_ROOT, loadConfig } from '../../src/config/index.js';
import { DEFAULT_JWKS_FILE, DEFAULT_KEY_FILE } from '../../src/mint-token.js';
import { testApp } from '../helpers/app.js';
import { gitIgnored } from '../helpers/git.js';

interface Service {
  image?: string;
  build?: string;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  command?: string[];
}
const composeText = readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const service = compose.services['ldn-cds']!;
const env = service.environment!;
const read = (rel: string) => readFileSync(path.join(PROJECT_ROOT, rel), 'utf8');

/** Files a documented command creates: they must be git-ignored (never committed) and named in the README. */
const PRODUCED = new Map([
  [DEFAULT_JWKS_FILE, 'npx ldn-cds mint-token --init'],
  [DEFAULT_KEY_FILE, 'npx ldn-cds mint-token --init'],
]);


/** A host path compose names: exists in the repository, or is produced by a documented command and git-ignored. */
function expectProvided(rel: string): void {
  const clean = path.normalize(rel).replace(/^\.\//, '');
  if (PRODUCED.has(clean)) {
    expect(gitIgnored(clean), `${clean} must be git-ignored`).toBe(true);
    expect(read('README.md'), `README documents how ${clean} is made`).toContain(PRODUCED.get(clean));
    return;
  }
  expect(existsSync(path.join(PROJECT_ROOT, clean)), `${clean} exists in the repository`).toBe(true);
  expect(gitIgnored(clean), `${clean} is committed, not ignored`).toBe(false);
}

/** Bind mounts as [hostPath, containerPath]. */
function binds(s: Service): Array<[string, string]> {
  return (s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':') as [string, string]);
}

/** Maps a path inside the ldn-cds container back to the repository through its bind mounts. */
function hostPathOf(containerPath: string): string {
  for (const [host, inside] of binds(service)) {
    if (containerPath.startsWith(`${inside}/`)) return path.join(host, containerPath.slice(inside.length + 1));
  }
  throw new Error(`${containerPath} is not under a bind mount of ldn-cds`);
}

describe('docker-compose.yml', () => {
  test('runs the service with HAPI FHIR, the patient loader, PostgreSQL and Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hapi', 'hapi-loader', 'ldn-cds', 'postgres', 'redis']);
    expect(service.ports).toContain('3000:3000');
    expect(compose.services.hapi!.ports).toContain('8080:8080');
  });

  test('sets only variables the service knows, and they validate as a production config', () => {
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES, name).toContain(name);
    const config = loadConfig(resolvedEnv());
    expect(config.env).toBe('production');
    expect(config.authMode).toBe('required');
    expect(config.playground).toBe(false);
  });

  test('serves /metrics on METRICS_PORT only, published on the host loopback, never on the public port', async () => {
    const config = loadConfig(resolvedEnv());
    expect(config.metrics).toMatchObject({ port: 9464, onPublicPort: false });
    expect(service.ports).toContain(`127.0.0.1:${config.metrics.port}:${config.metrics.port}`);
    expect(service.ports!.filter((p) => p.endsWith(`:${config.metrics.port}`)).every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    const handle = await testApp({ METRICS_PORT: env.METRICS_PORT });
    try {
      expect((await request(handle.app).get('/metrics')).status).toBe(404);
      expect(handle.metricsApp).toBeDefined();
      const scraped = await request(handle.metricsApp!).get('/metrics');
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('ldn_cds_http_requests_total');
    } finally {
      await handle.close();
    }
  });

  test('wires the service to the other containers by name, and waits for them', () => {
    expect(env.DATABASE_URL).toMatch(/@postgres:5432\/ldn$/);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.FHIR_SERVER_ALLOWLIST).toBe('http://hapi:8080/fhir');
    expect(service.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      'hapi-loader': { condition: 'service_completed_successfully' },
    });
    expect(compose.services['hapi-loader']!.depends_on).toEqual({ hapi: { condition: 'service_healthy' } });
  });

  test('every service has a healthcheck except the one-shot loader', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'hapi-loader') continue;
      expect(s.healthcheck?.test.length, name).toBeGreaterThan(0);
    }
    expect(service.healthcheck!.test.join(' ')).toContain('/readyz');
  });

  test('pins every image to a version (no latest, no bare major)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    }
    for (const line of read('Dockerfile').split('\n').filter((l) => l.startsWith('FROM '))) {
      expect(line).toMatch(/^FROM node:\d+\.\d+\.\d+-bookworm(-slim)?( AS \w+)?$/);
    }
  });

  test('holds no secret inline: each is interpolated from .env, and .env.example documents exactly those', () => {
    const used = new Set([...composeText.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!));
    const example = read('.env.example');
    const documented = new Set([...example.matchAll(/^(\w+)=/gm)].map((m) => m[1]!));
    expect([...used].sort()).toEqual([...documented].sort());
    for (const name of ['POSTGRES_PASSWORD', 'PATIENT_ID_HASH_KEY']) {
      expect(used).toContain(name);
      expect(composeText).toMatch(new RegExp(`\\$\\{${name}:\\?`)); // required: compose refuses to start without it
    }
    expect(compose.services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD/);
    expect(gitIgnored('.env')).toBe(true);
    expect(gitIgnored('.env.example')).toBe(false);
  });

  test('keeps PostgreSQL data in a named volume', () => {
    expect(compose.services.postgres!.volumes).toContain('pgdata:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain('pgdata');
  });

  test('every file or folder it mounts exists in the repository', () => {
    for (const s of Object.values(compose.services)) for (const [host] of binds(s)) expectProvided(host);
  });

  test('the trusted-clients file it names exists, and every key file that file names is provided', () => {
    const clientsFile = hostPathOf(env.TRUSTED_CLIENTS!);
    expectProvided(clientsFile);
    const entries = parse(read(clientsFile)) as Array<{ iss: string; jwks_file?: string }>;
    expect(entries.map((e) => e.iss)).toContain('ldn-cds-local-test-client');
    for (const e of entries) if (e.jwks_file) expectProvided(path.join(path.dirname(clientsFile), e.jwks_file));
  });

  test('the private key is never sent to the image build nor mounted into the container', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toContain(path.dirname(DEFAULT_KEY_FILE));
    expect(ignored).toContain('.env');
    for (const [host] of binds(service)) expect(path.normalize(DEFAULT_KEY_FILE).startsWith(path.normalize(host).replace(/^\.\//, ''))).toBe(false);
  });

  test('the Dockerfile copies only paths that exist and are not docker-ignored', () => {
    const ignored = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    for (const m of read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) {
        expect(existsSync(path.join(PROJECT_ROOT, src)), src).toBe(true);
        expect(ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is docker-ignored`).toBe(false);
      }
    }
  });
});

describe('the HAPI loader', () => {
  test('loads a transaction Bundle that exists and holds only PUTs of synthetic patients', () => {
    const loader = compose.services['hapi-loader']!;
    expect(loader.volumes).toContain('./fixtures/patients:/fixtures:ro');
    const file = /--data @\/fixtures\/(\S+)/.exec(loader.command!.join(' '))![1]!;
    const bundle = JSON.parse(read(path.join('fixtures', 'patients', file)));
    expect(bundle.type).toBe('transaction');
    for (const e of bundle.entry) expect(e.request).toEqual({ method: 'PUT', url: `${e.resource.resourceType}/${e.resource.id}` });
    expect(bundle.entry.filter((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient')).toHaveLength(2);
  });
});

/** The compose environment with interpolations filled (secrets as test values), for loadConfig. */
export function resolvedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[^}]+\}/g, 'from-env-a-placeholder-of-32-chars-or-more')]));
}

test('the Dockerfile exists and builds as a non-root user', () => {
  expect(statSync(path.join(PROJECT_ROOT, 'Dockerfile')).isFile()).toBe(true);
  expect(read('Dockerfile')).toMatch(/^USER node$/m);
});
