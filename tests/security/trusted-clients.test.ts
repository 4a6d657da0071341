/**
 * Start-up rules: the trusted-clients file is validated (errors name the file and entry path), the sandbox
 * profile is refused in production, production refuses to start with no trusted client, and AUTH_MODE=off
 * is loud about itself.
 */
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuthConfigError, createAuth } from '../../src/auth/index.js';
import { loadTrustedClients, SANDBOX_ISSUER, SANDBOX_JKU } from '../../src/auth/trusted-clients.js';
import { loadConfig, PROJECT_ROOT, testConfig, type Config } from '../../src/config/index.js';
import { captureLogs, createAuthTestApp, writeTrustedClients } from '../helpers/jwt.js';
import { createSigner } from '../../src/playground/signer.js';
import { createApp } from '../../src/app.js';

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures/trusted-clients');
const fixture = (name: string) => path.join(FIXTURES, name);

function productionConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    PATIENT_ID_HASH_KEY: 'test-only-hash-key-of-at-least-32-characters',
    PUBLIC_BASE_URL: 'https://cds.example.org',
    ...overrides,
  });
}

/** The problems of the AuthConfigError thrown by `action`. */
async function problemsOf(action: () => Promise<unknown>): Promise<string[]> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthConfigError);
  return (error as AuthConfigError).problems;
}

describe('trusted-clients file', () => {
  it('loads the YAML example: remote, file and inline key sources, jku allow-list, tenants', async () => {
    const clients = await loadTrustedClients({ file: fixture('example.yaml'), allowSandboxIssuer: false, production: true });
    expect(clients.map((c) => [c.iss, c.keys.kind])).toEqual([
      ['https://ehr.example.org', 'remote'],
      ['https://clinic.example.net', 'local'],
      ['https://regional-ehr.example.com/fhir-auth', 'local'],
    ]);
    expect(clients[0]?.jkuAllow).toEqual(['https://ehr.example.org/.well-known/jwks.json', 'https://keys.ehr.example.org/jwks.json']);
    expect(clients[0]?.tenants).toEqual(['hospital-north', 'hospital-south']);
    expect(clients[1]?.keys).toMatchObject({ kind: 'local', origin: fixture('example-clinic-jwks.json') });
  });

  it('loads the JSON example', async () => {
    const clients = await loadTrustedClients({ file: fixture('example.json'), allowSandboxIssuer: false, production: true });
    expect(clients).toHaveLength(1);
  });

  it('reports every broken entry with the file name and entry path', async () => {
    const file = fixture('invalid-entries.yaml');
    const problems = await problemsOf(() => loadTrustedClients({ file, allowSandboxIssuer: false, production: false }));
    const expected = [
      `${file}: [0]: exactly one of jwks_url, jwks_file, jwks is required (found jwks_url, jwks_file)`,
      `${file}: [1]: exactly one of jwks_url, jwks_file, jwks is required (found none)`,
      `${file}: [2]: Unrecognized key(s) in object: 'jwks_uri'`,
      `${file}: [3].jwks.keys[0].d: private key material ("d") must never be in a trusted-client key set`,
      `${file}: [4].jwks.keys[0].kty: kty must be "EC" or "RSA" (asymmetric keys only)`,
      `${file}: [5].jwks_url: must be an absolute http(s) URL`,
      `${file}: [6].iss: duplicate issuer "https://no-source.example.org"`,
      `${file}: [6]: exactly one of jwks_url, jwks_file, jwks is required (found none)`,
    ];
    expect(problems).toEqual(expected);
  });

  it('accepts http key URLs in development but refuses them in production', async () => {
    const file = fixture('http-jwks-url.yaml');
    await expect(loadTrustedClients({ file, allowSandboxIssuer: false, production: false })).resolves.toHaveLength(1);
    expect(await problemsOf(() => loadTrustedClients({ file, allowSandboxIssuer: false, production: true }))).toEqual([
      `${file}: [0].jwks_url: must use https when NODE_ENV=production`,
      `${file}: [0].jku_allow[0]: must use https when NODE_ENV=production`,
    ]);
  });

  it('refuses the sandbox issuer listed in the file when in production', async () => {
    const file = fixture('sandbox-issuer.yaml');
    expect(await problemsOf(() => loadTrustedClients({ file, allowSandboxIssuer: false, production: true }))).toEqual([
      `${file}: [0].iss: the sandbox signing key is public; refused when NODE_ENV=production`,
    ]);
  });

  it('names the file when it is missing, not a list, or not parseable', async () => {
    const missing = fixture('does-not-exist.yaml');
    expect(await problemsOf(() => loadTrustedClients({ file: missing, allowSandboxIssuer: false, production: false }))).toEqual([
      `${missing}: cannot be read (ENOENT)`,
    ]);
    const notList = await writeTrustedClients('iss: https://x.example.org\n', 'clients.yaml');
    expect(await problemsOf(() => loadTrustedClients({ file: notList, allowSandboxIssuer: false, production: false }))).toEqual([
      `${notList}: must hold a list of trusted clients`,
    ]);
    const badJson = await writeTrustedClients('[{"iss": ', 'clients.json');
    const [problem] = await problemsOf(() => loadTrustedClients({ file: badJson, allowSandboxIssuer: false, production: false }));
    expect(problem).toMatch(new RegExp(`^${badJson.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
  });

  it('resolves jwks_file relative to the trusted-clients file and validates it', async () => {
    const file = await writeTrustedClients([{ iss: 'https://x.example.org', jwks_file: 'missing-keys.json' }]);
    const [problem] = await problemsOf(() => loadTrustedClients({ file, allowSandboxIssuer: false, production: false }));
    expect(problem).toBe(`${file}: [0].jwks_file: ${path.join(path.dirname(file), 'missing-keys.json')}: cannot be read as JSON (ENOENT)`);
  });
});

describe('sandbox profile', () => {
  it('adds the sandbox issuer with bundled keys and its jku as a label', async () => {
    const [sandbox] = await loadTrustedClients({ allowSandboxIssuer: true, production: false });
    expect(sandbox?.iss).toBe(SANDBOX_ISSUER);
    expect(sandbox?.jkuAllow).toEqual([SANDBOX_JKU]);
    expect(sandbox?.keys).toMatchObject({ kind: 'local', origin: 'bundled sandbox-jwks.json' });
  });

  it('is refused in production even if config validation was bypassed', async () => {
    const config = { ...productionConfig({ TRUSTED_CLIENTS: fixture('example.yaml') }), allowSandboxIssuer: true };
    expect(await problemsOf(() => createAuth(config, { logger: captureLogs().logger }))).toEqual([
      'ALLOW_SANDBOX_ISSUER: the sandbox signing key is public; refused when NODE_ENV=production',
    ]);
  });

  it('refuses a file that also lists the sandbox issuer', async () => {
    const file = fixture('sandbox-issuer.yaml');
    const [problem] = await problemsOf(() => loadTrustedClients({ file, allowSandboxIssuer: true, production: false }));
    expect(problem).toContain('ALLOW_SANDBOX_ISSUER=true');
  });
});

describe('createAuth start-up', () => {
  it('refuses to start in production with AUTH_MODE=required and no trusted client', async () => {
    expect(await problemsOf(() => createAuth(productionConfig(), { logger: captureLogs().logger }))).toEqual([
      'AUTH_MODE=required but no trusted client is configured: set TRUSTED_CLIENTS to a file listing at least one client',
    ]);
  });

  it('starts in production with a valid file, and readiness reports the clients', async () => {
    const auth = await createAuth(productionConfig({ TRUSTED_CLIENTS: fixture('example.yaml') }), { logger: captureLogs().logger });
    expect(await auth.readiness()).toEqual({ ok: true, detail: expect.stringContaining('auth required, 3 trusted client(s)') });
    await auth.close();
  });

  it("never counts the playground's own client as a trusted client, and refuses it in production (issue 12 §4)", async () => {
    const signer = await createSigner({ publicBaseUrls: ['https://cds.example.org'], serviceIds: ['ldn-patient-view'] });
    expect(await problemsOf(() => createAuth(productionConfig(), { logger: captureLogs().logger, extraClients: [signer.client] }))).toEqual([
      'PLAYGROUND: its signing client is refused when NODE_ENV=production',
    ]);
    const withFile = productionConfig({ TRUSTED_CLIENTS: fixture('example.yaml') });
    await expect(createAuth(withFile, { logger: captureLogs().logger, extraClients: [signer.client] })).rejects.toBeInstanceOf(AuthConfigError);
  });

  it('refuses PLAYGROUND=on in production, in the configuration and in the app even if validation was bypassed', async () => {
    expect(() => productionConfig({ PLAYGROUND: 'on', TRUSTED_CLIENTS: fixture('example.yaml') })).toThrow(/^Invalid configuration: PLAYGROUND: "on" is refused when NODE_ENV=production/);
    const config = { ...productionConfig({ TRUSTED_CLIENTS: fixture('example.yaml'), SQLITE_PATH: ':memory:' }), playground: true, playgroundTokensForAnyHost: true };
    await expect(createApp(config, { logger: captureLogs().logger })).rejects.toThrow(/PLAYGROUND/);
  });

  it('refuses AUTH_MODE=off in production even if config validation was bypassed', async () => {
    const config = { ...productionConfig({ TRUSTED_CLIENTS: fixture('example.yaml') }), authMode: 'off' as const };
    await expect(createAuth(config, { logger: captureLogs().logger })).rejects.toBeInstanceOf(AuthConfigError);
  });

  it('with AUTH_MODE=off: warns loudly, passes every request, and says so in readiness', async () => {
    const logs = captureLogs();
    const auth = await createAuth(testConfig({ AUTH_MODE: 'off' }), { logger: logs.logger });
    expect(logs.lines().some((l) => l.level === 'warn' && String(l.msg).includes('NOT authenticated'))).toBe(true);
    const res = await request(createAuthTestApp(auth)).post('/cds-services/x').send({});
    expect(res.status).toBe(200);
    expect(await auth.readiness()).toEqual({ ok: true, detail: 'auth is OFF: requests are not authenticated' });
  });

  it('in development with no trusted client, warns and refuses every request', async () => {
    const logs = captureLogs();
    const auth = await createAuth(testConfig({ AUTH_MODE: 'required' }), { logger: logs.logger });
    expect(logs.lines().some((l) => l.level === 'warn' && String(l.msg).includes('every CDS Hooks request will be refused'))).toBe(true);
    expect((await request(createAuthTestApp(auth)).get('/cds-services').set('Authorization', 'Bearer a.b.c')).status).toBe(401);
    await auth.close();
  });
});
