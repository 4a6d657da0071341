/**
 * Server timeouts (issue 12 §13) on a real server on loopback, with small configured timeouts: a slow-loris client
 * that never finishes its headers, and one that trickles a body, are answered 408 (an OperationOutcome) and
 * disconnected; an idle keep-alive connection longer than the headers timeout still serves its next request
 * (Node measures the headers timeout per request, so keep-alive may exceed it); requests Node cannot parse are
 * OperationOutcomes too. Bounds are generous: only "closed well before the default 300 s" is asserted.
 */
import net from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppHandle } from '../../src/app.js';
import { createHttpServer, listen } from '../../src/http/listen.js';
import { testApp } from '../helpers/app.js';

const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '600', HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000' };
/** Far below Node's defaults (60 s headers, 300 s request) and far above the configured timeouts. */
const GENEROUS_MS = 15_000;

interface Exchange {
  received: string;
  closedAfterMs: number;
}

/** Open a connection, run `drive` on it, and collect everything received until the server closes it. */
function exchange(port: number, drive: (socket: net.Socket) => void): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${GENEROUS_MS} ms; received: ${received}`));
    }, GENEROUS_MS);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => drive(socket));
  });
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('HTTP server timeouts', () => {
  let h: AppHandle;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await testApp(TIMEOUTS);
    server = createHttpServer(h.app, h.config.httpTimeouts);
    port = await listen(server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await h.close();
  });

  test('the server carries the configured timeouts, in the order Node requires', () => {
    expect(server.headersTimeout).toBe(300);
    expect(server.requestTimeout).toBe(600);
    expect(server.keepAliveTimeout).toBe(5000);
    expect(server.headersTimeout).toBeLessThanOrEqual(server.requestTimeout);
  });

  test('a slow-loris client that never finishes its headers gets a 408 OperationOutcome and is disconnected', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const result = await exchange(port, (socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50);
    });
    clearInterval(trickle);
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(result.received)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
  });

  test('a body trickled slower than the request timeout is cut off with a 408', async () => {
    let trickle: NodeJS.Timeout | undefined;
    const result = await exchange(port, (socket) => {
      socket.write('POST /cds-services/ldn-order-check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
      trickle = setInterval(() => socket.writable && socket.write(' '), 50);
    });
    clearInterval(trickle);
    expect(result.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('an idle keep-alive connection outlives the headers timeout and serves its next request', async () => {
    const result = await exchange(port, (socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      // Idle for three headers timeouts (and several timeout sweeps), then a second request on the same connection.
      setTimeout(() => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 900);
    });
    expect(result.received.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(result.received).not.toMatch(/ 408 /);
  });

  test.each([
    ['a request line Node cannot parse', 'GET /healthz NOT-HTTP\r\n\r\n', 400],
    ['a header with no colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n', 400],
    ['CONNECT (never routed to express)', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', 405],
    ['headers over the size limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s is answered with an OperationOutcome (%i)', async (_name, raw, status) => {
    const result = await exchange(port, (socket) => socket.write(raw));
    expect(result.received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(bodyOf(result.received)).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});

describe('listen', () => {
  test('a port in use is an error naming PORT and HOST, never "listening"', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const taken = (holder.address() as AddressInfo).port;
    const h = await testApp();
    const server = createHttpServer(h.app, h.config.httpTimeouts);
    await expect(listen(server, taken, '127.0.0.1')).rejects.toThrow(`Cannot listen on 127.0.0.1:${taken} (PORT=${taken}, HOST=127.0.0.1): the address is already in use`);
    expect(server.listening).toBe(false);
    await new Promise((r) => holder.close(r));
    await h.close();
  });
});
