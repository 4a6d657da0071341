/**
 * JSON bodies only: 415 for anything else, 413 over the size limit (express.json), 400 when not JSON
 * (error handler) or nested deeper than the depth limit.
 */
import express, { type RequestHandler } from 'express';
import { badRequest, OutcomeError, unsupportedMediaType } from './outcomes.js';

export function jsonBody(limit: string, maxDepth: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is(['application/json', 'application/*+json'])) {
      next(new OutcomeError(unsupportedMediaType('Content-Type must be application/json')));
      return;
    }
    next();
  };
  const parse = express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] });
  const depth: RequestHandler = (req, _res, next) => {
    if (exceedsDepth(req.body, maxDepth)) next(new OutcomeError(badRequest(`Request body is nested deeper than ${maxDepth} levels`)));
    else next();
  };
  return [requireJson, parse, depth];
}

/** Iterative, so a hostile body cannot blow the stack. */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
}
