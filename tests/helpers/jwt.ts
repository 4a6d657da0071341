/**
 * Test helpers for client-JWT authentication: key pairs, token minting (including deliberately broken
 * tokens), trusted-client files, a log capture, and a tiny express app that mounts the auth middleware
 * on the three CDS Hooks routes.
 */
import { expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import express, { type Express } from 'express';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { AuthService } from '../../src/auth/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

export type SigningAlg = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

export interface TestKey {
  alg: SigningAlg;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK with kid, alg and use. */
  publicJwk: JWK;
}

/** A fresh key pair; the public half is exportable as a JWK for trusted-client files and nock JWKS replies. */
export async function generateTestKey(alg: SigningAlg, kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

export function jwksOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

/** The five required CDS Hooks claims, valid at `nowMs` for `lifetimeS`. */
export function validClaims(options: { iss: string; aud: string | string[]; nowMs: number; lifetimeS?: number }): Record<string, unknown> {
  const iat = Math.floor(options.nowMs / 1000);
  return { iss: options.iss, aud: options.aud, iat, exp: iat + (options.lifetimeS ?? 300), jti: randomUUID() };
}

/** Sign `claims` with `key`; the header defaults to `{ alg, typ: 'JWT', kid }` and `header` overrides it (undefined removes). */
export async function signToken(key: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const protectedHeader = dropUndefined({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header });
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(protectedHeader as { alg: string })
    .sign(key.privateKey);
}

/** An HMAC-signed token (the "public key as HMAC secret" confusion attack). */
export async function hmacToken(secret: Uint8Array, claims: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(secret);
}

/** An unsecured token (`alg: none`, empty signature) built by hand. */
export function unsecuredToken(claims: Record<string, unknown>, header: Record<string, unknown>): string {
  return `${base64urlJson({ alg: 'none', typ: 'JWT', ...header })}.${base64urlJson(claims)}.`;
}

/** `claims` without the named ones. */
export function without(claims: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !names.includes(name)));
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** Write a trusted-clients file (JSON, or YAML text as given) into a fresh temp folder; returns its path. */
export async function writeTrustedClients(entries: unknown[] | string, name = 'trusted-clients.json'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ldn-cds-auth-'));
  const file = path.join(dir, name);
  await writeFile(file, typeof entries === 'string' ? entries : JSON.stringify(entries, null, 2));
  return file;
}

export interface LogCapture {
  logger: Logger;
  /** Everything written so far, raw. */
  text(): string;
  /** Parsed log lines. */
  lines(): Array<Record<string, unknown>>;
  /** The `reason` of every "request refused" line. */
  refusalReasons(): string[];
}

/** A real pino logger (same redaction as production) writing into memory. */
export function captureLogs(level = 'debug'): LogCapture {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(level, sink);
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    logger,
    text,
    lines,
    refusalReasons: () => lines().filter((l) => typeof l.reason === 'string').map((l) => l.reason as string),
  };
}

/**
 * The three CDS Hooks routes behind `auth.middleware`, each answering 200 `{ ok: true, client }`, plus OPTIONS on
 * each (also behind the middleware, which must let it through) answering 204.
 */
export function createAuthTestApp(auth: AuthService): Express {
  const app = express();
  const answer: express.RequestHandler = (_req, res) => {
    res.json({ ok: true, client: res.locals.client ?? null });
  };
  const routes = ['/cds-services', '/cds-services/:id', '/cds-services/:id/feedback'];
  app.options(routes, auth.middleware, (_req, res) => {
    res.sendStatus(204);
  });
  app.get('/cds-services', auth.middleware, answer);
  app.post('/cds-services/:id', auth.middleware, answer);
  app.post('/cds-services/:id/feedback', auth.middleware, answer);
  return app;
}

/** The body every refusal must carry: generic, no reason; diagnostics name the class of check and the docs (src/auth/refusal.ts). */
export function unauthorizedBody(code: 'login' | 'transient' = 'login') {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text: 'Unauthorized' }, diagnostics: expect.stringContaining('docs/security.md') }] };
}
