/**
 * The real process: `src/server.ts` listens, and on SIGTERM stops accepting connections while in-flight
 * requests finish, then exits 0.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { orderSelect } from '../helpers/app.js';

/** A FHIR server that answers every search after `delayMs` with an empty searchset. */
function slowFhir(delayMs: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    }, delayMs);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startService(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)[^\n]*ldn-cds listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`service exited (${code}) before listening:\n${out}`)));
  });
}

function post(port: number, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path: '/cds-services/ldn-order-check', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('server process', () => {
  let fhir: http.Server;
  beforeAll(async () => {
    fhir = await slowFhir(800);
  });
  afterAll(() => new Promise<void>((r) => fhir.close(() => r())));

  test('refuses to start with a bad configuration, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, PORT: 'not-a-port' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/PORT/);
  });

  test('PLAYGROUND=on in production: a one-line start-up error naming the variable, exit 2', async () => {
    const env = { ...process.env, NODE_ENV: 'production', PLAYGROUND: 'on', PUBLIC_BASE_URL: 'https://cds.example.org', PATIENT_ID_HASH_KEY: 'k'.repeat(32), HOST: '127.0.0.1', PORT: '0' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: PLAYGROUND: "on" is refused when NODE_ENV=production/)]);
  });

  test('on SIGTERM, finishes the in-flight request, refuses new ones and exits 0', async () => {
    const fhirUrl = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
    const svc = await startService({ AUTH_MODE: 'off', FHIR_SERVER_ALLOWLIST: fhirUrl, FHIR_UNAUTHENTICATED_FETCH: 'true', REQUEST_DEADLINE_MS: '5000' });
    const body: Record<string, unknown> = { ...orderSelect(), fhirServer: fhirUrl };
    delete (body.prefetch as Record<string, unknown>).medications;
    const inFlight = post(svc.port, body);
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((r) => svc.child.on('exit', (code) => r(code)));
    svc.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toHaveProperty('cards');
    expect(await exited).toBe(0);
    await expect(post(svc.port, orderSelect())).rejects.toThrow();
    expect(svc.output()).toMatch(/draining in-flight requests/);
  });

  test('a port already in use is a one-line error naming PORT and HOST, and a non-zero exit (never "listening")', async () => {
    const holder = http.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as AddressInfo).port;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(taken), AUTH_MODE: 'off', SQLITE_PATH: ':memory:', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.on('exit', r));
    await new Promise((r) => holder.close(r));
    expect(code).toBe(1);
    expect(err.trim()).toBe(`Cannot listen on 127.0.0.1:${taken} (PORT=${taken}, HOST=127.0.0.1): the address is already in use`);
    expect(out).not.toMatch(/listening/);
  });

  test('METRICS_PORT serves /metrics on its own listener (behind METRICS_TOKEN), not on the public port', async () => {
    const token = 'metrics-token-for-tests';
    const svc = await startService({ AUTH_MODE: 'off', SQLITE_PATH: ':memory:', METRICS_PORT: '0', METRICS_TOKEN: token });
    try {
      const metricsPort = Number(/"metricsPort":(\d+)/.exec(svc.output())?.[1]);
      expect(metricsPort).toBeGreaterThan(0);
      expect(metricsPort).not.toBe(svc.port);
      const get = (port: number, path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          }).on('error', reject);
        });
      expect((await get(svc.port, '/metrics')).status).toBe(404);
      expect((await get(metricsPort, '/metrics')).status).toBe(401);
      const ok = await get(metricsPort, '/metrics', { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE ldn_cds_auth_failures_total counter');
      const other = await get(metricsPort, '/cds-services');
      expect(other.status).toBe(404);
      expect(JSON.parse(other.text).resourceType).toBe('OperationOutcome');
    } finally {
      svc.child.kill('SIGTERM');
      await new Promise((r) => svc.child.on('exit', r));
    }
  });
});
