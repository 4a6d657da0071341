/**
 * CDS Hooks feedback endpoint (§6, https://cds-hooks.hl7.org/2.0/#feedback):
 * POST /cds-services/{id}/feedback with `{"feedback": [...]}`. Answers `{}` (200) only after the batch is
 * committed; 400 with an OperationOutcome listing every problem by JSON path; 404 for an unknown service;
 * 503 (transient) when the database cannot be written, so the client retries; resending is harmless.
 * Feedback counts only within the sending client's scope (JWT issuer and tenant): on a card shown to another
 * client it is stored without effect (no suppression, no analytics), answered 200 like any unknown card, so the
 * answer never tells a client that a uuid exists at another one. Real clients are met where they are: the CDS Hooks Sandbox sends `overrideReason.reason` without `display`.
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { StorageUnavailableError, type FeedbackItem, type Storage } from '../storage/index.js';
import { parseDateTime } from '../storage/rfc3339.js';
import { feedbackClient, type ClientIdentity } from '../storage/scope.js';
import { invalidAt, notFound, outcome, OutcomeError, serviceUnavailable, zodIssues, type IssueInput } from '../model/outcomes.js';

export interface FeedbackRouteDeps {
  storage: Storage;
  auth: RequestHandler;
  body: RequestHandler[];
  serviceExists(id: string): boolean;
}

/** Seconds a client is asked to wait before resending after a 503. */
const RETRY_AFTER_S = 5;

const OutcomeTimestamp = z.string().transform((s, ctx) => {
  const instant = parseDateTime(s);
  if (!instant) ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 date-time, e.g. 1985-04-12T23:20:50.52Z' });
  return instant ?? z.NEVER;
});

const ReasonCoding = z.object({
  code: z.string().min(1),
  system: z.string().min(1).optional(),
  display: z.string().optional(),
});

const OverrideReason = z
  .object({ reason: ReasonCoding.optional(), userComment: z.string().optional() })
  .refine((r) => r.reason !== undefined || r.userComment !== undefined, 'needs a coded reason, a userComment, or both');

const FeedbackEntry = z.object({
  card: z.string().min(1).max(256),
  outcome: z.enum(['accepted', 'overridden']),
  acceptedSuggestions: z.array(z.object({ id: z.string().min(1).max(256) })).optional(),
  overrideReason: OverrideReason.optional(),
  outcomeTimestamp: OutcomeTimestamp,
});

const FeedbackBody = z.object({ feedback: z.array(FeedbackEntry).min(1, 'must hold at least one feedback item') });

/** Validate a feedback request body; throws an OutcomeError (400) listing every problem with its JSON path. */
export function parseFeedbackBody(body: unknown): FeedbackItem[] {
  const parsed = FeedbackBody.safeParse(body);
  const issues: IssueInput[] = parsed.success ? [] : zodIssues(parsed.error);
  issues.push(...acceptedWithoutSuggestions(body));
  if (issues.length || !parsed.success) throw new OutcomeError(outcome(400, issues));
  return parsed.data.feedback.map((f) => ({
    card: f.card,
    outcome: f.outcome,
    acceptedSuggestions: (f.acceptedSuggestions ?? []).map((s) => s.id),
    ...(f.overrideReason ? { overrideReason: f.overrideReason } : {}),
    outcomeTimestamp: f.outcomeTimestamp,
  }));
}

/**
 * "acceptedSuggestions: Required for accepted outcomes" — checked on the raw body, apart from the schema, so it
 * is reported together with every other problem of the same item.
 */
function acceptedWithoutSuggestions(body: unknown): IssueInput[] {
  const items = (body as { feedback?: unknown } | null)?.feedback;
  if (!Array.isArray(items)) return [];
  return items.flatMap((item: unknown, i) => {
    const f = item as { outcome?: unknown; acceptedSuggestions?: unknown } | null;
    const missing = f?.acceptedSuggestions === undefined || (Array.isArray(f.acceptedSuggestions) && f.acceptedSuggestions.length === 0);
    return f?.outcome === 'accepted' && missing ? [invalidAt(['feedback', i, 'acceptedSuggestions'], 'required (at least one suggestion id) when outcome is "accepted"')] : [];
  });
}

export function feedbackRouter(deps: FeedbackRouteDeps): Router {
  const router = Router();
  router.post('/cds-services/:id/feedback', deps.auth, ...deps.body, async (req, res) => {
    const id = String(req.params.id);
    if (!deps.serviceExists(id)) throw new OutcomeError(notFound(`No CDS service "${id}"`));
    res.locals.serviceId = id;
    const items = parseFeedbackBody(req.body);
    try {
      // Scoped to the verified client (absent with AUTH_MODE=off): feedback on another client's card has no effect.
      await deps.storage.feedback.save(id, items, new Date(), feedbackClient(res.locals.client as ClientIdentity | undefined));
    } catch (err) {
      if (!(err instanceof StorageUnavailableError)) throw err;
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      throw new OutcomeError(serviceUnavailable('Feedback could not be stored right now; resend it later (resending is safe)'));
    }
    res.status(200).json({});
  });
  return router;
}
