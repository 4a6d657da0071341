/**
 * A bounded, seeded fuzz of request lines and headers (issue 12 §9) against the real HTTP server on loopback:
 * malformed percent-encodings, long and odd paths, odd methods, bad content types and encodings, bad
 * Authorization headers (mutations of the real sandbox tokens when ../shared is present). No answer may be a 5xx,
 * and every error answer with a body is a FHIR OperationOutcome (the evidence pages' HTML 404 aside), including
 * the ones Node's HTTP parser gives before express runs. Hook bodies are not fuzzed here (tests of the body have their own).
 * Deterministic: the seed is fixed; a failure prints the raw request to replay it.
 */
import net from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppHandle } from '../../src/app.js';
import { createHttpServer, listen } from '../../src/http/listen.js';
import { memoryLogger, testApp } from '../helpers/app.js';
import { hasShared, loadCaptures } from '../helpers/shared.js';
import { prng } from '../helpers/prng.js';

const SEED = 0x1d2c3b;
const CASES = 400;


const ROUTES = [
  '/cds-services', '/cds-services/ldn-order-check', '/cds-services/ldn-patient-view', '/cds-services/ldn-order-check/feedback',
  '/evidence', '/evidence/ldn-with-opioid', '/metrics', '/healthz', '/readyz', '/admin/analytics', '/openapi.json', '/',
  '/playground/app.js', '/playground/config', '/playground/scenarios', '/playground/token', '/no/such/route',
];
const METHODS = ['GET', 'GET', 'POST', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'FOO', 'get', 'M-SEARCH', 'GET /x', 'CONNECT'];
const SEGMENTS = ['%ZZ', '%', '%E0%A4%A', '%00', '%2e%2e%2f', '..', '.', '', '%C0%AF', '%FF%FE', '\u00e9\u00ff', 'a;b=c', '%252F', '~', '*', '(x)', "'", '"'];
const QUERIES = ['', '?', '?a=%ZZ', '?from=%ZZ&to=%', '?from=2026-11-01&from=x', '?a[b]=1&a[]=2', '?__proto__[x]=1', '?access_token=eyJ.x.y', `?${'q'.repeat(3000)}`, '?x=%00#frag'];
const CONTENT_TYPES = [undefined, 'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/json; charset=', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=', ';;;', '*/*', 'application/fhir+json', 'application/json;;charset=latin1', ''];
const ENCODINGS = [undefined, undefined, 'gzip', 'br', 'deflate', 'identity', 'bogus', 'gzip, gzip'];
const BODIES = ['', '{}', 'null', '[]', '{', '\u0000', '{"hook":1}'];

function authorizations(tokens: string[]): Array<(r: () => number) => string | undefined> {
  const sample = (r: () => number) => tokens[Math.floor(r() * tokens.length)] ?? 'eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2ln';
  const mutate = (t: string, r: () => number) => {
    const i = Math.floor(r() * t.length);
    const choices = [() => t.slice(0, i), () => t.slice(0, i) + '.' + t.slice(i), () => t.slice(0, i) + '%' + t.slice(i + 1), () => t.replace(/\./g, '..'), () => `${t}.${t}`, () => t.split('.').reverse().join('.')];
    return choices[Math.floor(r() * choices.length)]!();
  };
  return [
    () => undefined,
    () => '',
    () => 'Bearer',
    () => 'Bearer ',
    () => 'Basic dXNlcjpwYXNz',
    () => 'Bearer a.b.c',
    () => 'Bearer ..',
    () => `Bearer ${'A'.repeat(9000)}`,
    (r) => `Bearer ${sample(r)}`,
    (r) => `bearer    ${mutate(sample(r), r)}`,
    (r) => `Bearer ${mutate(sample(r), r)}`,
    (r) => `Bearer ${sample(r)} extra`,
    (r) => `Bearer ${Buffer.from(sample(r)).toString('base64')}`,
    () => 'Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.',
  ];
}

interface Answer {
  status: number;
  headers: string;
  body: Buffer;
}

/** Send raw bytes on a fresh connection and read the whole answer (the request asks the server to close). */
function send(port: number, raw: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 10 s'));
    }, 10_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, split < 0 ? all.length : split).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
      let body: Buffer = split < 0 ? Buffer.alloc(0) : all.subarray(split + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(headers)) body = dechunk(body);
      resolve({ status, headers, body });
    });
    // write, not end: a half-closed client may lose a pending answer (Node closes), which is not the service's doing.
    socket.on('connect', () => socket.write(raw));
  });
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function buildCase(r: () => number, auths: ReturnType<typeof authorizations>): { method: string; raw: Buffer } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const method = pick(METHODS);
  let path = pick(ROUTES);
  const extra = Math.floor(r() * 3);
  for (let i = 0; i < extra; i++) path += `/${pick(SEGMENTS)}`;
  if (r() < 0.1) path += `/${'x'.repeat(Math.floor(r() * 20_000))}`;
  if (r() < 0.1) path = path.replace('/', pick(['//', '/./', '\\', '/%2F']));
  path += pick(QUERIES);
  const headers: string[] = ['Host: 127.0.0.1', 'Connection: close'];
  const auth = pick(auths)(r);
  if (auth !== undefined) headers.push(`Authorization: ${auth}`);
  const type = pick(CONTENT_TYPES);
  if (type !== undefined) headers.push(`Content-Type: ${type}`);
  const encoding = pick(ENCODINGS);
  if (encoding !== undefined) headers.push(`Content-Encoding: ${encoding}`);
  if (r() < 0.2) headers.push(`Origin: ${pick(['null', 'http://evil.example', 'http://127.0.0.1:8080', '*', ''])}`);
  if (r() < 0.2) headers.push(`X-Request-Id: ${pick(['ok-1', '../../etc', 'x'.repeat(500), '', '\u00ff'])}`);
  if (r() < 0.1) headers.push(`Accept: ${pick(['*/*', 'text/html', 'application/fhir+json;q=0', ''])}`);
  if (r() < 0.05) headers.push('Transfer-Encoding: chunked');
  if (r() < 0.05) headers.push('Expect: 100-continue');
  const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? pick(BODIES) : '';
  if (body || r() < 0.5) headers.push(`Content-Length: ${r() < 0.05 ? 'abc' : Buffer.byteLength(body)}`);
  return { method, raw: Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]) };
}

describe('request line and header fuzz', () => {
  let h: AppHandle;
  let server: Server;
  let port: number;
  const logs = memoryLogger('error');
  beforeAll(async () => {
    h = await testApp({ AUTH_MODE: 'required', ALLOW_SANDBOX_ISSUER: 'true', ADMIN_TOKEN: 'admin-token-for-fuzz-0123', HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '2000' }, { logger: logs.logger });
    server = createHttpServer(h.app, h.config.httpTimeouts);
    port = await listen(server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await h.close();
  });

  test(`${CASES} seeded requests: no 5xx, every error body an OperationOutcome`, async () => {
    const tokens = hasShared ? loadCaptures().flatMap((c) => (c.headers.authorization ? [c.headers.authorization.replace(/^Bearer /, '')] : [])) : [];
    const r = prng(SEED);
    const auths = authorizations(tokens);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const { method, raw } = buildCase(r, auths);
      const answer = await send(port, raw);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const shown = JSON.stringify(raw.toString('latin1').slice(0, 300));
      if (answer.status === 0 || answer.status >= 500) problems.push(`#${i} ${answer.status}: ${shown}`);
      else if (answer.status >= 400 && method !== 'HEAD' && answer.body.length > 0) {
        let parsed: { resourceType?: unknown } | undefined;
        try {
          parsed = JSON.parse(answer.body.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        // The evidence pages are for people: an unknown rule is a 404 HTML page by design (src/http/evidence.ts).
        const htmlEvidencePage = /^\S+ \/evidence\//.test(raw.toString('latin1')) && /\r\ncontent-type: text\/html/i.test(answer.headers);
        if (parsed?.resourceType !== 'OperationOutcome' && !htmlEvidencePage) problems.push(`#${i} ${answer.status} not an OperationOutcome: ${shown} → ${answer.body.toString('utf8').slice(0, 120)}`);
      } else if (answer.status >= 400 && method !== 'HEAD') problems.push(`#${i} ${answer.status} with an empty body: ${shown}`);
    }
    expect(problems).toEqual([]);
    expect(logs.text()).not.toContain('unhandled error');
    // The fuzz reached express's answers and Node's parser errors alike.
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
