/**
 * A small Express app around a Storage, wired the way the service wires it: the feedback and admin routers,
 * a readiness route, the service's error handler, and a stand-in hook route that does what the engine does
 * with storage (filter drafts through suppression, return cards, record them in the audit log).
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { CardDraft, Indicator } from '../../src/model/cards.js';
import { adminRouter } from '../../src/http/admin.js';
import { errorHandler, notFoundHandler } from '../../src/http/errors.js';
import { feedbackRouter } from '../../src/http/feedback.js';
import type { AuditEntry, Storage } from '../../src/storage/index.js';
import { clientScope, type ClientIdentity, type ClientScope } from '../../src/storage/scope.js';
import { silentLogger } from './backends.js';

/** The scope of a call without a verified client or fhirServer (AUTH_MODE=off, prefetch only). */
export const UNSCOPED: ClientScope = clientScope(undefined);

export const SERVICE = 'ldn-order-check';
/** Service ids the app knows: ours and the three the CDS Hooks Sandbox captures were made with. */
export const SERVICES = new Set([SERVICE, 'ldn-patient-view', 'ldn-order-select', 'ldn-order-sign']);
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Test headers naming the verified client, as the auth middleware would leave it on res.locals.client. */
export const ISSUER_HEADER = 'x-test-issuer';
export const TENANT_HEADER = 'x-test-tenant';
/** Stands in for the JWT check: the client named by the test headers, none (AUTH_MODE=off) without them. */
const testAuth: RequestHandler = (req, res, next) => {
  const iss = req.get(ISSUER_HEADER);
  const tenant = req.get(TENANT_HEADER);
  if (iss) res.locals.client = { iss, jti: 'test-jti', ...(tenant ? { tenant } : {}) };
  next();
};

export function buildApp(storage: Storage, opts: { adminToken?: string } = {}): Express {
  const app = express();
  app.use((_req, res, next) => {
    res.locals.log = silentLogger;
    next();
  });
  app.get('/readyz', async (_req, res) => {
    const r = await storage.readiness();
    res.status(r.ok ? 200 : 503).json(r);
  });
  app.post('/cds-services/:id', testAuth, express.json(), hookStandIn(storage));
  app.use(feedbackRouter({ storage, auth: testAuth, body: [express.json({ limit: '5mb' })], serviceExists: (id) => SERVICES.has(id) }));
  app.use(adminRouter({ storage, adminToken: opts.adminToken }));
  app.use(notFoundHandler);
  app.use(errorHandler(silentLogger));
  return app;
}

/** Body of the stand-in hook route: the drafts "the rules produced" and the keys the engine computes. */
export interface StandInHookBody {
  hook: string;
  hookInstance?: string;
  patientHash: string;
  fhirServer?: string;
  now?: string;
  drafts: Array<{ ruleId: string; indicator: Indicator; drugKey: string; orderKeys?: string[] }>;
}

function hookStandIn(storage: Storage): RequestHandler {
  return (req, res) => {
    const body = req.body as StandInHookBody;
    const serviceId = String(req.params.id);
    const now = body.now ? new Date(body.now) : new Date();
    const candidates = body.drafts.map((d) => ({ draft: draft(d.ruleId, d.indicator), drugKey: d.drugKey, orderKeys: d.orderKeys ?? [] }));
    const scope = clientScope(res.locals.client as ClientIdentity | undefined, body.fhirServer);
    const kept = storage.suppression.filter(candidates, { serviceId, hook: body.hook, patientHash: body.patientHash, scope, now });
    const shown = kept.map((c) => ({ c, card: { uuid: randomUUID(), summary: c.draft.summary, indicator: c.draft.indicator, source: { label: 'test' } } }));
    storage.audit.recordCards(
      shown.map(({ c, card }) =>
        auditEntry({ cardUuid: card.uuid, serviceId, ruleId: c.draft.ruleId, hook: body.hook, hookInstance: body.hookInstance ?? randomUUID(), indicator: card.indicator, patientHash: body.patientHash, drugKey: c.drugKey, orderKeys: c.orderKeys, shownAt: now, scope }),
      ),
    );
    res.json({ cards: shown.map(({ card }) => card) });
  };
}

export function draft(ruleId: string, indicator: Indicator): CardDraft {
  return { ruleId, ruleVersion: '1.0.0', concern: ruleId, indicator, summary: `${ruleId} (${indicator})`, evidence: [], subjects: [] };
}

/** An audit entry with test defaults for what a test does not care about. */
export function auditEntry(e: Partial<AuditEntry> & Pick<AuditEntry, 'cardUuid'>): AuditEntry {
  return {
    suggestionUuids: [],
    serviceId: SERVICE,
    ruleId: 'ldn-opioid',
    ruleVersion: '1.0.0',
    concern: 'ldn-opioid',
    hook: 'order-select',
    hookInstance: randomUUID(),
    indicator: 'warning',
    patientHash: 'patient-a',
    drugKey: 'naltrexone+oxycodone',
    orderKeys: [],
    shownAt: new Date(),
    scope: UNSCOPED,
    ...e,
  };
}

/** One feedback item as a client sends it (JSON). */
export function feedbackJson(card: string, outcome: 'accepted' | 'overridden', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    card,
    outcome,
    outcomeTimestamp: '2031-03-03T10:00:00.000Z',
    ...(outcome === 'accepted' ? { acceptedSuggestions: [{ id: randomUUID() }] } : {}),
    ...extra,
  };
}
