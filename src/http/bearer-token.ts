/**
 * A static bearer-token guard (ADMIN_TOKEN, METRICS_TOKEN): `Authorization: Bearer <token>`, compared in constant
 * time (digests make the comparison length-independent). Anything else is a 401 OperationOutcome.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { outcome, OutcomeError } from '../model/outcomes.js';

export function bearerToken(token: string, realm: string, refusal: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const presented = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    next(new OutcomeError(outcome(401, [{ code: 'login', text: refusal }])));
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
