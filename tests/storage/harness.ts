/**
 * A small Express app around a Storage, wired the way the service wires it: the feedback and admin routers,
 * a readiness route, the service's error handler, and a stand-in hook route that does what the engine does
 * with storage (filter drafts through suppression, return cards, record them in the audit log).
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { CardDraft, Indicator } from '../../src/cards/types.js';
import { adminRouter } from '../../src/http/admin.js';
import { errorHandler, notFoundHandler } from '../../src/http/errors.js';
import { feedbackRouter } from '../../src/http/feedback.js';
import type { AuditEntry, Storage } from '../../src/storage/index.js';
import { silentLogger } from './backends.js';

export const SERVICE = 'ldn-order-check';
/** Service ids the app knows: ours and the three the CDS Hooks Sandbox captures were made with. */
export const SERVICES = new Set([SERVICE, 'ldn-patient-view', 'ldn-order-select', 'ldn-order-sign']);
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

const passThroughAuth: RequestHandler = (_req, _res, next) => next();

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
  app.post('/cds-services/:id', express.json(), hookStandIn(storage));
  app.use(feedbackRouter({ storage, auth: passThroughAuth, body: [express.json({ limit: '5mb' })], serviceExists: (id) => SERVICES.has(id) }));
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
  now?: string;
  drafts: Array<{ ruleId: string; indicator: Indicator; drugKey: string; orderKeys?: string[] }>;
}

function hookStandIn(storage: Storage): RequestHandler {
  return (req, res) => {
    const body = req.body as StandInHookBody;
    const serviceId = String(req.params.id);
    const now = body.now ? new Date(body.now) : new Date();
    const candidates = body.drafts.map((d) => ({ draft: draft(d.ruleId, d.indicator), drugKey: d.drugKey, orderKeys: d.orderKeys ?? [] }));
    const kept = storage.suppression.filter(candidates, { serviceId, hook: body.hook, patientHash: body.patientHash, now });
    const shown = kept.map((c) => ({ c, card: { uuid: randomUUID(), summary: c.draft.summary, indicator: c.draft.indicator, source: { label: 'test' } } }));
    storage.audit.recordCards(
      shown.map(({ c, card }) =>
        auditEntry({ cardUuid: card.uuid, serviceId, ruleId: c.draft.ruleId, hook: body.hook, hookInstance: body.hookInstance ?? randomUUID(), indicator: card.indicator, patientHash: body.patientHash, drugKey: c.drugKey, orderKeys: c.orderKeys, shownAt: now }),
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
