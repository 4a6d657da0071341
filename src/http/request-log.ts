/**
 * One structured log line per request: request id, route, service, hook, status, latency, card count.
 * Never headers, bodies, tokens or patient ids (patient-related lines carry only a keyed hash).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Longest path logged; the rest is cut (a path is attacker-chosen). */
const MAX_LOGGED_PATH = 300;

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    const log = logger.child({ reqId });
    res.locals.log = log;
    const started = performance.now();
    res.on('finish', () => {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      log.info(
        {
          method: req.method,
          path: loggablePath(req.path),
          status: res.statusCode,
          ms,
          ...(res.locals.serviceId ? { service: res.locals.serviceId } : {}),
          ...(res.locals.hook ? { hook: res.locals.hook } : {}),
          ...(res.locals.cardCount !== undefined ? { cards: res.locals.cardCount } : {}),
          ...(res.locals.patientHash ? { patient: res.locals.patientHash } : {}),
        },
        'request',
      );
    });
    next();
  };
}

/**
 * The request path as it may be logged: anything token-like (a JWT, `Bearer …`, URL credentials) is removed, in
 * each segment as sent and percent-decoded (so `eyJ…%2E…` is caught too), and the result is length-capped.
 * The query string is never logged (req.path has none).
 */
export function loggablePath(path: string): string {
  const clean = path
    .split('/')
    .map((segment) => {
      const scrubbed = scrubSecrets(segment);
      if (scrubbed !== segment) return scrubbed;
      const decoded = safeDecode(segment);
      return decoded !== undefined && scrubSecrets(decoded) !== decoded ? '[redacted]' : segment;
    })
    .join('/');
  return clean.length > MAX_LOGGED_PATH ? `${clean.slice(0, MAX_LOGGED_PATH)}…` : clean;
}

function safeDecode(segment: string): string | undefined {
  if (!segment.includes('%')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
