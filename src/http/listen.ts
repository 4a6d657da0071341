/**
 * The HTTP server around the app: Node's timeouts set from the configuration (slow clients are disconnected),
 * malformed requests Node rejects before express answered with an OperationOutcome, and a listen that fails
 * loudly (port in use, address not available) instead of being reported as "listening".
 *
 * Node >= 18 measures `headersTimeout` and `requestTimeout` from the first byte of each request, so an idle
 * keep-alive connection does not count against them: `keepAliveTimeout` may exceed `headersTimeout`
 * (tests/http/server-timeouts.test.ts checks this). Node itself requires headersTimeout <= requestTimeout.
 */
import http, { type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpTimeouts } from '../config/index.js';
import { outcome, type Outcome } from '../model/outcomes.js';

/** A server with the configured timeouts; timeouts are enforced by a sweep at most every second. */
export function createHttpServer(app: RequestListener, timeouts: HttpTimeouts): Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // Node's default sweep is every 30 s, which would let a 10 s headers timeout run to 40 s.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
    },
    app,
  );
  server.on('clientError', answerClientError);
  // CONNECT never reaches express (Node would drop the connection unanswered): a 405, like any unknown method.
  server.on('connect', (_req, socket: Duplex) => writeOutcome(socket, outcome(405, [{ code: 'not-supported', text: 'CONNECT is not supported' }])));
  return server;
}

/** Node's answer to a request it could not parse or that timed out, as an OperationOutcome (never a 5xx). */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { bytesWritten?: number }).bytesWritten) {
    socket.destroy();
    return;
  }
  writeOutcome(socket, clientErrorOutcome(error.code));
}

/** Write an OperationOutcome answer straight on the socket and close it. */
function writeOutcome(socket: Duplex, { status, body }: Outcome): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`,
  );
}

function clientErrorOutcome(code: string | undefined): Outcome {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return outcome(408, [{ code: 'timeout', text: 'Request not received in time (HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS)' }]);
  if (code === 'HPE_HEADER_OVERFLOW') return outcome(431, [{ code: 'too-long', text: 'Request headers are too large' }]);
  return outcome(400, [{ code: 'structure', text: 'Malformed HTTP request' }]);
}

/** Listen, resolving with the bound port; rejects with a one-line message naming the variables on failure. */
export function listen(server: Server, port: number, host: string, names: { port: string; host: string } = { port: 'PORT', host: 'HOST' }): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.code === 'EADDRNOTAVAIL' ? 'the address is not available on this machine' : error.code === 'EACCES' ? 'permission denied' : (error.code ?? error.message);
      reject(new ListenError(`Cannot listen on ${host}:${port} (${names.port}=${port}, ${names.host}=${host}): ${why}`));
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}
