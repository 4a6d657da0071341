/**
 * A real scale-out on loopback: service replicas as child processes (tsx, production config) sharing one
 * PostgreSQL schema (DATABASE_URL) and Redis (REDIS_URL), behind Debian's nginx with a generated configuration in a
 * temp dir (pid, logs and temp paths there; nothing under /etc or /var). A trusted test client signs every call.
 * Used by tests/scale/replicas.test.ts and tests/scale/measure.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/config/index.js';

export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const ISS = 'ldn-cds-scale-test-client';
export const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;

/** What the suite needs and lacks on this machine (empty: it can run). */
export function missingPrerequisites(): string[] {
  return [
    ...(existsSync(NGINX) ? [] : [`nginx (${NGINX})`]),
    ...(process.env.DATABASE_URL ? [] : ['DATABASE_URL']),
    ...(process.env.REDIS_URL ? [] : ['REDIS_URL']),
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL URL whose connections use `schema` (search_path). */
function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const end = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached within ${limitMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

export interface Replica {
  name: string;
  port: number;
  url: string;
  process: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  /** nginx in front of the replicas: also every replica's PUBLIC_BASE_URL (the JWT audience base). */
  url: string;
  replicas: Replica[];
  syncIntervalS: number;
  /** A fresh single-use client JWT for `path` (e.g. /cds-services/ldn-order-select). */
  token(path: string): Promise<string>;
  /** Start one more replica with these variables overriding the cluster's (not behind nginx). */
  startExtra(name: string, env: Record<string, string>): Promise<Replica>;
  nginxLog(): string;
  close(): Promise<void>;
}

export async function startCluster(options: { replicas: number; syncIntervalS: number; logLevel?: string }): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldn-scale-'));
  const schema = `ldn_scale_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`create schema ${schema}`);

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'scale-test-1';
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }));
  writeFileSync(path.join(dir, 'trusted-clients.yaml'), `- iss: ${ISS}\n  jwks_file: jwks.json\n`);

  const nginxPort = await freePort();
  const url = `http://127.0.0.1:${nginxPort}`;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: url,
    LOG_LEVEL: options.logLevel ?? 'warn',
    AUTH_MODE: 'required',
    TRUSTED_CLIENTS: path.join(dir, 'trusted-clients.yaml'),
    DATABASE_URL: withSchema(process.env.DATABASE_URL!, schema),
    REDIS_URL: process.env.REDIS_URL!,
    PATIENT_ID_HASH_KEY: 'scale-test-hash-key-of-at-least-32-chars',
    ADMIN_TOKEN,
    STORAGE_SYNC_INTERVAL_S: String(options.syncIntervalS),
    // The suite counts cards (one per hook call), not showings: no re-fire window folds them together.
    ANALYTICS_REPEAT_WINDOW_S: '0',
  };

  const all: Replica[] = [];
  async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'server.ts')], {
      cwd: PROJECT_ROOT,
      // Each replica its own audit spill file (docs/storage.md: replicas on one host must not share one).
      env: { ...baseEnv, AUDIT_SPILL_FILE: path.join(dir, `${name}-audit-spill.ndjson`), ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const replica: Replica = {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      process: child,
      output: () => out,
      async kill(signal = 'SIGKILL') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
    all.push(replica);
    await until(`${name} /healthz`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${out}`);
      return (await fetch(`${replica.url}/healthz`)).ok ? true : undefined;
    });
    return replica;
  }

  const replicas: Replica[] = [];
  for (let i = 0; i < options.replicas; i++) replicas.push(await startReplica(`replica-${String.fromCharCode(97 + i)}`, {}));
  for (const r of replicas) await until(`${r.name} /readyz`, async () => ((await fetch(`${r.url}/readyz`)).ok ? true : undefined));

  // nginx: round robin; a replica that refuses connections is skipped (and the request retried on the other).
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 5m;
  upstream ldn_cds {
${replicas.map((r) => `    server 127.0.0.1:${r.port} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://ldn_cds;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }
  }
}
`,
  );
  const nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let nginxOut = '';
  nginx.stderr!.on('data', (c: Buffer) => (nginxOut += c.toString()));
  const nginxExited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()));
  await until('nginx', async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxOut}`);
    return (await fetch(`${url}/healthz`)).ok ? true : undefined;
  }, 10_000);

  return {
    url,
    replicas,
    syncIntervalS: options.syncIntervalS,
    token: (p) => sign(privateKey, kid, `${url}${p}`),
    startExtra: (name, env) => startReplica(name, env),
    nginxLog: () => {
      const file = path.join(dir, 'error.log');
      return `${nginxOut}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
    },
    async close() {
      nginx.kill('SIGTERM');
      await nginxExited;
      await Promise.all(all.map((r) => r.kill('SIGTERM')));
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sign(key: CryptoKey, kid: string, aud: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
    .setIssuer(ISS)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(key);
}

/** The fixture order-select request (complete prefetch) for a given patient id and a fresh hookInstance. */
export function orderSelect(patientId = 'ldn-demo-1'): Record<string, unknown> {
  const text = readFileSync(path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json'), 'utf8');
  const body = JSON.parse(text.replaceAll('ldn-demo-1', patientId)) as Record<string, unknown>;
  return { ...body, hookInstance: randomUUID() };
}
