/**
 * One error handler: every failure answers with an OperationOutcome. Stacks go to the log, never to the client.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { KnowledgeError } from '../knowledge/errors.js';
import { badRequest, internalError, notFound, OutcomeError, outcome, tooLarge, zodIssues, type Outcome } from './outcomes.js';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';

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
  next(new OutcomeError(notFound(`No route for ${req.method} ${req.path}`)));
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
  // Any other client error from reading the body (e.g. a gzip body that does not inflate, 400): its own status.
  const status = (err as { status?: unknown; expose?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true) {
    return outcome(status, [{ code: 'invalid', text: 'Request body could not be read (bad Content-Encoding?)' }]);
  }
  return internalError();
}
