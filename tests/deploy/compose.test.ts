/** docker-compose.yml is for users (no Docker engine here): check it parses and agrees with the config schema. */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, PROJECT_ROOT, loadConfig } from '../../src/config.js';

const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { ports?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
};

describe('docker-compose.yml', () => {
  test('runs the service with HAPI FHIR, PostgreSQL and Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hapi', 'hapi-loader', 'ldn-cds', 'postgres', 'redis']);
    expect(compose.services['ldn-cds']!.ports).toContain('3000:3000');
    expect(compose.services.hapi!.ports).toContain('8080:8080');
  });

  test('sets only variables the service knows, and they validate as a production config', () => {
    const env = compose.services['ldn-cds']!.environment!;
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES, name).toContain(name);
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[^}]+\}/g, 'a-value-from-the-environment-32-chars-or-more')]));
    const config = loadConfig(resolved);
    expect(config.env).toBe('production');
    expect(config.authMode).toBe('required');
  });

  test('wires the service to the other containers by name', () => {
    const env = compose.services['ldn-cds']!.environment!;
    expect(env.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.FHIR_SERVER_ALLOWLIST).toContain('http://hapi:8080/fhir');
    expect(Object.keys(compose.services['ldn-cds']!.depends_on ?? {})).toEqual(expect.arrayContaining(['postgres', 'redis']));
  });
});

describe('the HAPI loader', () => {
  test('loads a transaction Bundle that exists and holds only PUTs of synthetic patients', () => {
    const loader = compose.services['hapi-loader'] as unknown as { command: string[]; volumes: string[] };
    expect(loader.volumes).toContain('./fixtures/patients:/fixtures:ro');
    const file = /--data @\/fixtures\/(\S+)/.exec(loader.command.join(' '))![1]!;
    const bundle = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures', 'patients', file), 'utf8'));
    expect(bundle.type).toBe('transaction');
    for (const e of bundle.entry) expect(e.request).toEqual({ method: 'PUT', url: `${e.resource.resourceType}/${e.resource.id}` });
    expect(bundle.entry.filter((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient')).toHaveLength(2);
  });
});
