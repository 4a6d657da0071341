/**
 * One structured log line per request: request id, route, service, hook, status, latency, card count.
 * Never headers, bodies, tokens or patient ids (patient-related lines carry only a keyed hash).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../observability/logger.js';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

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
          path: req.path,
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
