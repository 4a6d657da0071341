/**
 * GET /openapi.json: the OpenAPI 3.1 description of every public endpoint (src/http/openapi-document.ts),
 * with the configured public base URL as its server. Built once; no authentication.
 */
import { Router } from 'express';
import { buildOpenApiDocument } from './openapi-document.js';

export interface OpenApiRouteDeps {
  /** The first PUBLIC_BASE_URL: the document's server URL. */
  publicBaseUrl: string;
}

export function openapiRouter(deps: OpenApiRouteDeps): Router {
  const body = JSON.stringify(buildOpenApiDocument(deps.publicBaseUrl));
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json; charset=utf-8').send(body);
  });
  return router;
}
