import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, PROJECT_ROOT, loadConfig } from '../../src/config.js';

describe('configuration from the environment', () => {
  test('has safe development defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.authMode).toBe('required');
    expect(c.fhirServerAllowlist).toEqual([]);
    expect(c.requestDeadlineMs).toBe(2000);
    expect(c.bodyLimit).toBe('5mb');
    expect(c.publicBaseUrls).toEqual(['http://localhost:3000']);
    expect(c.corsOrigins).toBe('*');
  });

  test('names the variable in the error for an invalid value', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
    expect(() => loadConfig({ AUTH_MODE: 'maybe' })).toThrow(/AUTH_MODE/);
    expect(() => loadConfig({ FHIR_SERVER_ALLOWLIST: 'ftp://x' })).toThrow(/FHIR_SERVER_ALLOWLIST/);
  });

  test('names bad storage variables together with the other problems', () => {
    try {
      loadConfig({ PORT: 'abc', SUPPRESSION: 'maybe', AUDIT_QUEUE_MAX_BYTES: '0' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^PORT: /m);
      expect(problems).toMatch(/^SUPPRESSION: /m);
      expect(problems).toMatch(/^AUDIT_QUEUE_MAX_BYTES: /m);
    }
  });

  test('storage options come from the same configuration', () => {
    const c = loadConfig({ SUPPRESSION: 'off', ORDER_SIGN_DEDUP_WINDOW_MIN: '60' });
    expect(c.storage).toMatchObject({ suppression: false, orderSignDedup: true, orderSignDedupWindowMin: 60 });
  });

  test('production refuses every unsafe setting, listing all problems at once', () => {
    try {
      loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off', ALLOW_SANDBOX_ISSUER: 'true' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/AUTH_MODE/);
      expect(problems).toMatch(/ALLOW_SANDBOX_ISSUER/);
      expect(problems).toMatch(/PATIENT_ID_HASH_KEY/);
      expect(problems).toMatch(/PUBLIC_BASE_URL/);
    }
  });

  test('production closes CORS unless origins are configured', () => {
    const c = loadConfig({ NODE_ENV: 'production', PATIENT_ID_HASH_KEY: 'k', PUBLIC_BASE_URL: 'https://cds.example.org' });
    expect(c.corsOrigins).toEqual([]);
  });

  test('accepts several public base URLs and trims trailing slashes', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://a.example.org/, http://localhost:3000' }).publicBaseUrls).toEqual(['https://a.example.org', 'http://localhost:3000']);
  });

  test('the README configuration table documents every variable the service reads', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const name of CONFIG_VARIABLES) expect(readme, name).toContain(`| \`${name}\` |`);
  });
});
