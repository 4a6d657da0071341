/**
 * The README's first signed call, with the configuration docker-compose.yml gives the service: `mint-token --init`
 * writes a key pair, config/trusted-clients.compose.yaml trusts its public half, a minted token calls the service,
 * which fetches the patient from (a stand-in for) the HAPI server loaded with fixtures/patients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { createApp, type AppHandle } from '../../src/app.js';
import { main } from '../../src/cli.js';
import { PROJECT_ROOT, loadConfig } from '../../src/config/index.js';
import { memoryLogger } from '../helpers/app.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ldn-first-call-'));
const keyFile = path.join(dir, 'secrets', 'key.json');
const jwksFile = path.join(dir, 'config', 'clients', 'test-client.jwks.json');
const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { environment: Record<string, string> }>;
};
const firstCall = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'deploy/compose/first-call.order-select.json'), 'utf8'));
const bundle = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'fixtures/patients/ldn-demo-patients.json'), 'utf8')) as {
  entry: Array<{ resource: { resourceType: string; id: string; subject?: { reference: string } } }>;
};
const URL = 'http://localhost:3000/cds-services/ldn-order-select';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A FHIR server holding the transaction Bundle compose loads into HAPI (read by id, search by patient). */
const hapi: typeof fetch = async (input) => {
  const url = new globalThis.URL(String(input instanceof Request ? input.url : input));
  expect(url.origin + url.pathname).toMatch(/^http:\/\/hapi:8080\/fhir\//);
  const [type, id] = url.pathname.replace('/fhir/', '').split('/');
  const resources = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/fhir+json' } });
  if (id) return resources.find((r) => r.id === id) ? json(resources.find((r) => r.id === id)) : json({ resourceType: 'OperationOutcome' }, 404);
  const patient = url.searchParams.get('patient');
  const matches = resources.filter((r) => r.subject?.reference === `Patient/${patient}`);
  return json({ resourceType: 'Bundle', type: 'searchset', total: matches.length, entry: matches.map((resource) => ({ resource })) });
};

let handle: AppHandle;
beforeAll(async () => {
  const init = await cli('mint-token', '--init', '--key', keyFile, '--jwks', jwksFile);
  expect(init.code).toBe(0);
  // The compose trusted-clients file, unchanged, next to the JWKS mint-token wrote (as in config/ on the host).
  cpSync(path.join(PROJECT_ROOT, 'config/trusted-clients.compose.yaml'), path.join(dir, 'config', 'trusted-clients.compose.yaml'));
  const env = Object.fromEntries(Object.entries(compose.services['ldn-cds']!.environment).map(([k, v]) => [k, String(v).replace(/\$\{[^}]+\}/g, 'test-secret-of-at-least-32-characters')]));
  delete env.DATABASE_URL; // no PostgreSQL/Redis here: in-memory SQLite and replay cache stand in
  delete env.REDIS_URL;
  const config = loadConfig({ ...env, TRUSTED_CLIENTS: path.join(dir, 'config', 'trusted-clients.compose.yaml'), SQLITE_PATH: ':memory:', LOG_LEVEL: 'silent' });
  handle = await createApp(config, { fetch: hapi, logger: memoryLogger('silent').logger });
});
afterAll(() => handle?.close());

describe('ldn-cds mint-token and the compose trust configuration', () => {
  test('--init writes a private key only its owner can read and a public JWKS without private parts', () => {
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  test('a minted token makes the first call: the service fetches ldn-demo-2 from HAPI and answers its cards', async () => {
    const { code, out } = await cli('mint-token', '--aud', URL, '--key', keyFile);
    expect(code).toBe(0);
    const res = await request(handle.app).post('/cds-services/ldn-order-select').set('Authorization', `Bearer ${out}`).send(firstCall);
    expect(res.status).toBe(200);
    expect(res.body.cards.map((c: { summary: string }) => c.summary).join('\n')).toMatch(/spasticity/i);
  });

  test('the same token a second time is refused, and a token for another URL is refused', async () => {
    const { out } = await cli('mint-token', '--aud', URL, '--key', keyFile);
    const call = () => request(handle.app).post('/cds-services/ldn-order-select').set('Authorization', `Bearer ${out}`).send(firstCall);
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(401);
    const other = await cli('mint-token', '--aud', 'http://localhost:3000/cds-services/ldn-patient-view', '--key', keyFile);
    const res = await request(handle.app).post('/cds-services/ldn-order-select').set('Authorization', `Bearer ${other.out}`).send(firstCall);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('refuses bad arguments with a clear message and never overwrites an existing key', async () => {
    expect(await cli('mint-token')).toMatchObject({ code: 2, err: expect.stringMatching(/--aud is required/) });
    expect(await cli('mint-token', '--aud', 'http://localhost:3000/admin', '--key', keyFile)).toMatchObject({ code: 2, err: expect.stringMatching(/not a CDS Hooks URL/) });
    expect(await cli('mint-token', '--aud', URL, '--lifetime', '99999', '--key', keyFile)).toMatchObject({ code: 2, err: expect.stringMatching(/--lifetime/) });
    const before = readFileSync(keyFile, 'utf8');
    expect((await cli('mint-token', '--init', '--key', keyFile, '--jwks', jwksFile)).code).toBe(0);
    expect(readFileSync(keyFile, 'utf8')).toBe(before);
    expect(await cli('mint-token', '--aud', URL, '--key', jwksFile)).toMatchObject({ code: 1, err: expect.stringMatching(/not a key file/) });
  });
});
