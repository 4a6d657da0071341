/**
 * Key sets are read with a byte cap (issue 12 §6): a chunked JWKS with no Content-Length used to be read whole
 * (`response.text()`, 160 MiB read in full) before its size was checked. Now the body is streamed and cancelled
 * as soon as it passes the cap (64 KiB), whether the key URL is a jwks_url or an allow-listed jku.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/index.js';
import { testConfig } from '../../src/config/index.js';
import { BodyTooLargeError, readCappedBytes, readCappedText } from '../../src/net/read-capped.js';
import { captureLogs, createAuthTestApp, generateTestKey, signToken, validClaims, writeTrustedClients, type TestKey } from '../helpers/jwt.js';

const CHUNK = 16 * 1024;
const CAP = 64 * 1024;

/** A lazily generated body of `total` bytes; counts what was pulled and whether it was cancelled. */
function countingBody(total: number, byte = 0x20) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled >= total) return controller.close();
        const n = Math.min(CHUNK, total - state.pulled);
        state.pulled += n;
        controller.enqueue(new Uint8Array(n).fill(byte));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

describe('readCappedBytes', () => {
  it('stops reading a chunked body as soon as it passes the cap, and cancels it', async () => {
    const { stream, state } = countingBody(160 * 1024 * 1024);
    await expect(readCappedBytes(new Response(stream), CAP)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(state.pulled).toBeLessThanOrEqual(CAP + CHUNK);
    expect(state.cancelled).toBe(true);
  });

  it('refuses a declared Content-Length over the cap without reading', async () => {
    const { stream, state } = countingBody(CAP * 2);
    const response = new Response(stream, { headers: { 'content-length': String(CAP * 2) } });
    await expect(readCappedBytes(response, CAP)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(state.pulled).toBe(0);
  });

  it('returns a body at the cap, whole', async () => {
    const { stream } = countingBody(CAP, 0x61);
    const text = await readCappedText(new Response(stream), CAP);
    expect(text).toBe('a'.repeat(CAP));
  });
});

describe('remote key sets are capped while streaming', () => {
  const BASE = 'https://cds.example.org';
  const ISS = 'https://ehr.example.org';
  const SERVICE = '/cds-services/ldn-patient-view';
  const NOW = Date.UTC(2031, 5, 1, 8, 0, 0);
  let key: TestKey;
  beforeAll(async () => {
    key = await generateTestKey('ES384', 'k-1');
  });

  it('an allow-listed jku answering an endless chunked body: read stops past 64 KiB, the token is refused', async () => {
    const { stream, state } = countingBody(160 * 1024 * 1024);
    const jku = 'https://keys.ehr.test/jwks.json';
    const file = await writeTrustedClients([{ iss: ISS, jwks_url: 'https://keys.ehr.test/main.json', jku_allow: [jku] }]);
    const logs = captureLogs();
    const fetched: string[] = [];
    const fakeFetch = (async (url: string | URL | Request) => {
      fetched.push(String(url));
      return new Response(stream, { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const auth = await createAuth(testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: BASE }), { logger: logs.logger, now: () => NOW, fetch: fakeFetch });
    const token = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW }), { jku });
    const res = await request(createAuthTestApp(auth)).post(SERVICE).set('Authorization', `Bearer ${token}`).send({});
    expect(res.status).toBe(401);
    expect(fetched).toEqual([jku]);
    expect(logs.refusalReasons()).toEqual(['jwks-unavailable']);
    expect(state.pulled).toBeLessThanOrEqual(CAP + CHUNK);
    expect(state.cancelled).toBe(true);
    expect(logs.text()).toContain('larger than 65536 bytes');
    await auth.close();
  });

  describe('over real HTTP (global fetch, loopback key server)', () => {
    let server: http.Server;
    let written = 0;
    let closed: Promise<void>;
    beforeAll(async () => {
      let markClosed: () => void = () => {};
      closed = new Promise((r) => (markClosed = r));
      server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no Content-Length
        const chunk = Buffer.alloc(CHUNK, 0x20);
        const pump = () => {
          while (written < 160 * 1024 * 1024) {
            written += CHUNK;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', markClosed);
        pump();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('the connection is dropped long before the 160 MiB body is sent', async () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const file = await writeTrustedClients([{ iss: ISS, jwks_url: url }]);
      const logs = captureLogs();
      const auth = await createAuth(testConfig({ AUTH_MODE: 'required', TRUSTED_CLIENTS: file, PUBLIC_BASE_URL: BASE }), { logger: logs.logger, now: () => NOW });
      const token = await signToken(key, validClaims({ iss: ISS, aud: BASE + SERVICE, nowMs: NOW }));
      const res = await request(createAuthTestApp(auth)).post(SERVICE).set('Authorization', `Bearer ${token}`).send({});
      expect(res.status).toBe(401);
      expect(logs.refusalReasons()).toEqual(['jwks-unavailable']);
      await closed;
      // What the server managed to write before the client hung up: the cap plus socket buffers, not 160 MiB.
      expect(written).toBeLessThan(16 * 1024 * 1024);
      await auth.close();
    });
  });
});

