/**
 * One error handler: every failure answers with an OperationOutcome. Stacks go to the log, never to the client.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { KnowledgeError } from '../model/problems.js';
import { badRequest, internalError, notFound, OutcomeError, outcome, tooLarge, zodIssues, type Outcome } from '../model/outcomes.js';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';
import { loggablePath } from './request-log.js';

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const o = toOutcome(err);
    if (o.status >= 500) {
      const e = err as Error;
      (res.locals.log as Logger | undefined ?? logger).error({ err: { name: e?.name, message: scrubSecrets(String(e?.message ?? err)), stack: e?.stack ? scrubSecrets(e.stack) : undefined } }, 'unhandled error');
    }
    res.status(o.status).json(o.body);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new OutcomeError(notFound(`No route for ${req.method} ${loggablePath(req.path)}`)));
};

function toOutcome(err: unknown): Outcome {
  if (err instanceof OutcomeError) return err.outcome;
  if (err instanceof ZodError) return outcome(400, zodIssues(err));
  if (err instanceof KnowledgeError) return internalError();
  const type = (err as { type?: string })?.type;
  if (type === 'entity.parse.failed') return badRequest('Request body is not valid JSON');
  if (type === 'entity.too.large') return tooLarge('Request body is larger than the configured limit (BODY_LIMIT)');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return outcome(415, [{ code: 'not-supported', text: 'Unsupported body encoding' }]);
  if (type === 'request.aborted') return badRequest('Request aborted');
  // Any other client error raised by express, the router or body reading keeps its 4xx status: a malformed
  // percent-encoding in the path (the router's URIError, status 400), a gzip body that does not inflate, ...
  const status = clientErrorStatus(err);
  if (status !== undefined) return outcome(status, [{ code: status === 403 ? 'forbidden' : 'invalid', text: clientErrorText(err, status, type) }]);
  return internalError();
}

/** The 4xx status an error carries (`status` or `statusCode`, as http-errors and the router set them). */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500 ? value : undefined;
}

/** A fixed text per kind: the error's own message may echo request bytes, so it is never sent back. */
function clientErrorText(err: unknown, status: number, type: string | undefined): string {
  if (err instanceof URIError) return 'Malformed percent-encoding in the request URL';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return 'Request body could not be read (bad Content-Encoding?)';
  if (type !== undefined) return `Request body could not be read (${type})`;
  return `Request refused: ${STATUS_CODES[status] ?? `HTTP ${status}`}`;
}
