import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, MIN_HASH_KEY_LENGTH, PROJECT_ROOT, loadConfig } from '../../src/config/index.js';

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
    const c = loadConfig({ NODE_ENV: 'production', PATIENT_ID_HASH_KEY: 'k'.repeat(32), PUBLIC_BASE_URL: 'https://cds.example.org' });
    expect(c.corsOrigins).toEqual([]);
  });

  test('BODY_LIMIT must be a size: a word is named as the problem, not left for the body parser to crash on', () => {
    expect(() => loadConfig({ BODY_LIMIT: 'lots' })).toThrow(/^Invalid configuration: BODY_LIMIT: must be a size/);
    for (const ok of ['5mb', '500kb', '1024', '1.5MB', '10 kb']) expect(loadConfig({ BODY_LIMIT: ok }).bodyLimit).toBe(ok);
    for (const bad of ['', 'mb', '-1mb', '5 parsecs']) expect(() => loadConfig({ BODY_LIMIT: bad }), bad).toThrow(/BODY_LIMIT/);
  });

  test('PATIENT_ID_HASH_KEY in production must be long enough to keep patient hashes unguessable', () => {
    const production = { NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://cds.example.org' };
    expect(() => loadConfig({ ...production, PATIENT_ID_HASH_KEY: 'x' })).toThrow(/^Invalid configuration: PATIENT_ID_HASH_KEY: must be at least 32 characters/);
    expect(() => loadConfig({ ...production, PATIENT_ID_HASH_KEY: 'k'.repeat(MIN_HASH_KEY_LENGTH - 1) })).toThrow(/PATIENT_ID_HASH_KEY/);
    expect(loadConfig({ ...production, PATIENT_ID_HASH_KEY: 'k'.repeat(MIN_HASH_KEY_LENGTH) }).patientIdHashKey).toHaveLength(32);
    // Development keeps accepting a short key (its default is a fixed, documented one anyway).
    expect(loadConfig({ PATIENT_ID_HASH_KEY: 'x' }).patientIdHashKey).toBe('x');
  });

  test('one problem is one line; several are listed one per line', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/^Invalid configuration: PORT: [^\n]+$/);
    expect(() => loadConfig({ PORT: 'abc', BODY_LIMIT: 'lots' })).toThrow(/^Invalid configuration:\n {2}- PORT: .+\n {2}- BODY_LIMIT: /);
  });

  test('accepts several public base URLs and trims trailing slashes', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://a.example.org/, http://localhost:3000' }).publicBaseUrls).toEqual(['https://a.example.org', 'http://localhost:3000']);
  });

  test('the README configuration table documents every variable the service reads', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const name of CONFIG_VARIABLES) expect(readme, name).toContain(`| \`${name}\` |`);
  });

  test('HTTP server timeouts: defaults, and the headers timeout may not exceed the request timeout (Node refuses it)', () => {
    expect(loadConfig({}).httpTimeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 65_000 });
    const c = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '200', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' });
    expect(c.httpTimeouts).toEqual({ headersMs: 200, requestMs: 200, keepAliveMs: 1000 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: 20000 must not exceed HTTP_REQUEST_TIMEOUT_MS \(10000\)/);
    for (const name of ['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_KEEP_ALIVE_TIMEOUT_MS']) {
      expect(() => loadConfig({ [name]: '0' })).toThrow(new RegExp(name)); // 0 would disable the timeout
      expect(() => loadConfig({ [name]: 'soon' })).toThrow(new RegExp(name));
    }
  });

  test('metrics: open on the public port in development, off there in production unless a token is set', () => {
    expect(loadConfig({}).metrics).toEqual({ onPublicPort: true, detailedReasons: false });
    const prod = { NODE_ENV: 'production', PATIENT_ID_HASH_KEY: 'k'.repeat(32), PUBLIC_BASE_URL: 'https://cds.example.org' };
    expect(loadConfig(prod).metrics).toEqual({ onPublicPort: false, detailedReasons: false });
    expect(loadConfig({ ...prod, METRICS_TOKEN: 'm'.repeat(16) }).metrics).toEqual({ token: 'm'.repeat(16), onPublicPort: true, detailedReasons: true });
    expect(loadConfig({ ...prod, METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, onPublicPort: false, detailedReasons: true });
    expect(loadConfig({ METRICS_PORT: '', METRICS_TOKEN: '' }).metrics).toEqual({ onPublicPort: true, detailedReasons: false });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(() => loadConfig({ PORT: '3000', METRICS_PORT: '3000' })).toThrow(/METRICS_PORT: must differ from PORT/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});

describe('numeric and switch variables: every bad value names its variable; a blank value takes the default', () => {
  test.each([
    ['REQUEST_DEADLINE_MS', '10'],
    ['BODY_MAX_DEPTH', '2'],
    ['FHIR_MAX_PAGES', '0'],
    ['FHIR_MAX_RESPONSE_BYTES', '12'],
    ['FHIR_MAX_CALL_BYTES', 'lots'],
    ['CHART_MAX_RESOURCES', '0'],
    ['JWT_MAX_LIFETIME_S', '7200'],
    ['JWT_CLOCK_SKEW_S', '-1'],
    ['SUPPRESSION_DEFAULT_DAYS', '0'],
    ['ORDER_SIGN_DEDUP_WINDOW_MIN', 'x'],
    ['ANALYTICS_REPEAT_WINDOW_S', '-5'],
    ['AUDIT_RETRY_MAX_MS', '0'],
    ['STORAGE_SYNC_INTERVAL_S', '0'],
    ['DATABASE_POOL_MAX', '0'],
    ['ORDER_SIGN_DEDUP', 'yes'],
    ['AUDIT_SPILL', 'maybe'],
    ['FEEDBACK_STORE_COMMENTS', 'true'],
  ])('%s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name}: `));
  });

  test('a blank numeric variable (VAR=) takes its default instead of 0', () => {
    const blank = loadConfig({ ANALYTICS_REPEAT_WINDOW_S: '', JWT_CLOCK_SKEW_S: ' ', SQLITE_BUSY_TIMEOUT_MS: '', CHART_MAX_RESOURCES: '' });
    const defaults = loadConfig({});
    expect(blank.storage.analyticsRepeatWindowS).toBe(defaults.storage.analyticsRepeatWindowS);
    expect(blank.storage.analyticsRepeatWindowS).toBeGreaterThan(0);
    expect(blank.jwtClockSkewS).toBe(defaults.jwtClockSkewS);
    expect(blank.chartMaxResources).toBe(defaults.chartMaxResources);
    expect(blank.storage.sqliteBusyTimeoutMs).toBe(defaults.storage.sqliteBusyTimeoutMs);
  });
});
