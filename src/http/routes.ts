/**
 * CDS Hooks routes: discovery (§1, https://cds-hooks.hl7.org/2.0/#discovery) and service invocation
 * (§2, https://cds-hooks.hl7.org/2.0/#calling-a-cds-service). The only module in the pipeline that knows Express.
 */
import { Router, type RequestHandler } from 'express';
import type { Engine } from '../engine/index.js';
import { parseHookDocument } from '../hooks/request.js';
import { documentOf } from './body.js';
import { notFound, OutcomeError } from '../model/outcomes.js';
import type { Logger } from '../observability/logger.js';
import type { ClientIdentity } from '../storage/scope.js';

export interface RouteDeps {
  engine: Engine;
  auth: RequestHandler;
  /** jsonDocument(): the body as bytes and scan; the route parses it (src/hooks/request.ts). */
  body: RequestHandler[];
}

export function cdsRoutes(deps: RouteDeps): Router {
  const router = Router();
  const { engine } = deps;

  router.get('/cds-services', deps.auth, (_req, res) => {
    res.json({ services: engine.knowledge.services.discovery() });
  });

  router.post('/cds-services/:id', deps.auth, ...deps.body, async (req, res) => {
    const id = String(req.params.id);
    const endpoint = engine.knowledge.services.endpoint(id);
    if (!endpoint) throw new OutcomeError(notFound(`No CDS service "${id}"`));
    res.locals.serviceId = endpoint.id;
    const doc = documentOf(res);
    const { request, bodyDigest } = parseHookDocument(doc, endpoint.hooks, endpoint.id);
    // One service per hook; a former id (several hooks under one id) is answered by the service for this hook.
    const service = endpoint.forHook(request.hook)!;
    res.locals.hook = request.hook;
    const log = (res.locals.log as Logger).child({ service: service.id, hook: request.hook, hookInstance: request.hookInstance });
    const body = bodyDigest ? { digest: bodyDigest, bytes: doc.bytes.length } : undefined;
    const client = res.locals.client as ClientIdentity | undefined; // set by the auth middleware (absent with AUTH_MODE=off)
    const result = await engine.evaluate(service, request, { logger: log, ...(body ? { body } : {}), ...(client ? { client } : {}) });
    res.locals.patientHash = result.patientHash;
    res.locals.cardCount = result.cards.length;
    res.set('Content-Type', 'application/json; charset=utf-8');
    res.send(result.body);
  });

  return router;
}
