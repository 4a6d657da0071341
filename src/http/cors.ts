/**
 * CORS for browser-based CDS clients (the CDS Hooks Sandbox, the playground). Runs first, so headers are present
 * on every answer, errors included; preflights are answered here without authentication.
 */
import type { RequestHandler } from 'express';

export function cors(origins: string[] | '*'): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origins === '*') res.setHeader('Access-Control-Allow-Origin', '*');
    else if (origin && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.append('Vary', 'Origin');
    }
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, X-Request-Id');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
