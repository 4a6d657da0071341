/**
 * CDS Hooks routes: discovery (§1, https://cds-hooks.hl7.org/2.0/#discovery) and service invocation
 * (§2, https://cds-hooks.hl7.org/2.0/#calling-a-cds-service). The only module in the pipeline that knows Express.
 */
import { Router, type RequestHandler } from 'express';
import type { Engine } from '../engine/index.js';
import { documentOf } from './body.js';
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
    const client = res.locals.client as ClientIdentity | undefined; // set by the auth middleware (absent with AUTH_MODE=off)
    const { evaluation: result } = await engine.call(String(req.params.id), documentOf(res), {
      onEndpoint: (id) => {
        res.locals.serviceId = id;
      },
      logger: (service, request) => {
        res.locals.hook = request.hook;
        return (res.locals.log as Logger).child({ service: service.id, hook: request.hook, hookInstance: request.hookInstance });
      },
      ...(client ? { client } : {}),
    });
    res.locals.patientHash = result.patientHash;
    res.locals.cardCount = result.cards.length;
    res.set('Content-Type', 'application/json; charset=utf-8');
    res.send(result.body);
  });

  return router;
}
