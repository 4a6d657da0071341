/**
 * JSON bodies only: 415 for anything else (or a charset other than UTF-8), 413 over the size limit, 400 when
 * nested deeper than the depth limit or not JSON. The bytes are read by express.raw (size limit, gzip/deflate),
 * scanned once (src/model/json-scan.ts) and kept as a JsonDocument in `res.locals.json`; `jsonBody` also parses
 * it into `req.body`, `jsonDocument` leaves the parsing to the route (hook calls defer their prefetch).
 */
import express, { type RequestHandler, type Response } from 'express';
import { JsonDocument } from '../model/json-document.js';
import { scanJson } from '../model/json-scan.js';
import { badRequest, OutcomeError, unsupportedMediaType } from '../model/outcomes.js';

const JSON_TYPES = ['application/json', 'application/*+json'];
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/** The body as a JsonDocument, not yet parsed. */
export function jsonDocument(limit: string, maxDepth: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is(JSON_TYPES)) {
      next(new OutcomeError(unsupportedMediaType('Content-Type must be application/json')));
      return;
    }
    const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      next(new OutcomeError(unsupportedMediaType(`Unsupported charset "${charset}": JSON must be UTF-8`)));
      return;
    }
    next();
  };
  const read = express.raw({ limit, type: JSON_TYPES });
  const scan: RequestHandler = (req, res, next) => {
    let bytes: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3); // UTF-8 byte-order mark
    const { tooDeep, members } = scanJson(bytes, maxDepth);
    if (tooDeep) {
      next(new OutcomeError(badRequest(`Request body is nested deeper than ${maxDepth} levels`)));
      return;
    }
    req.body = undefined;
    res.locals.json = new JsonDocument(bytes, members);
    next();
  };
  return [requireJson, read, scan];
}

/** The body parsed into `req.body` (400 when it is not JSON). */
export function jsonBody(limit: string, maxDepth: number): RequestHandler[] {
  const parse: RequestHandler = (req, res, next) => {
    req.body = documentOf(res).value();
    next();
  };
  return [...jsonDocument(limit, maxDepth), parse];
}

/** The JsonDocument a jsonDocument() chain left for the route. */
export function documentOf(res: Response): JsonDocument {
  const doc: unknown = res.locals.json;
  if (!(doc instanceof JsonDocument)) throw new Error('jsonDocument() middleware must run before this route');
  return doc;
}
