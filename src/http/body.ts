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

/**
 * True when `value` nests deeper than `maxDepth`. Recursion is bounded by `maxDepth` itself (it stops one level
 * past it), so a hostile body cannot blow the stack.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth <= 0) return true;
  if (Array.isArray(value)) {
    for (const child of value) if (typeof child === 'object' && child !== null && exceedsDepth(child, maxDepth - 1)) return true;
    return false;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && exceedsDepth(child, maxDepth - 1)) return true;
  }
  return false;
}
