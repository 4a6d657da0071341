/**
 * Admin endpoints, behind their own token (ADMIN_TOKEN, `Authorization: Bearer …`, compared in constant time),
 * separate from CDS client JWTs. Without ADMIN_TOKEN nothing is mounted: every /admin path is a 404.
 *   GET /admin/analytics?from=&to=&issuer=&tenant=  per rule and version (optionally of one client): cards shown, accepted, overridden (by reason), acceptance rate.
 */
import { Router } from 'express';
import { clientOf, parseReportRange, type ReportRange } from '../storage/analytics.js';
import { StorageUnavailableError, type Storage } from '../storage/index.js';
import { badRequest, OutcomeError, serviceUnavailable } from '../model/outcomes.js';
import { bearerToken } from './bearer-token.js';

export interface AdminRouteDeps {
  storage: Storage;
  adminToken?: string;
}

export function adminRouter(deps: AdminRouteDeps): Router {
  const router = Router();
  if (!deps.adminToken) return router;
  const requireAdmin = bearerToken(deps.adminToken, 'ldn-cds-admin', 'A valid admin token is required');

  router.get('/admin/analytics', requireAdmin, async (req, res) => {
    const range = { ...rangeFromQuery(req.query.from, req.query.to), ...clientFromQuery(req.query.issuer, req.query.tenant) };
    let rules;
    try {
      rules = await deps.storage.analytics(range);
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw new OutcomeError(serviceUnavailable('Analytics are unavailable: the database cannot be reached'));
      throw err;
    }
    res.json({ from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null, ...clientOf(range), rules });
  });
  return router;
}

/** The optional client filter: `issuer` (and `tenant`, which needs it), each given once. */
function clientFromQuery(issuer: unknown, tenant: unknown): Pick<ReportRange, 'issuer' | 'tenant'> {
  for (const [name, value] of [['issuer', issuer], ['tenant', tenant]] as const) {
    if (value !== undefined && typeof value !== 'string') throw new OutcomeError(badRequest(`"${name}" must be given once`, [name]));
  }
  if (tenant !== undefined && !issuer) throw new OutcomeError(badRequest('"tenant" needs "issuer"', ['tenant']));
  return { ...(issuer ? { issuer: issuer as string } : {}), ...(tenant !== undefined ? { tenant: tenant as string } : {}) };
}

function rangeFromQuery(from: unknown, to: unknown): ReportRange {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && typeof value !== 'string') throw new OutcomeError(badRequest(`"${name}" must be given once`, [name]));
  }
  try {
    return parseReportRange((from as string | undefined) || undefined, (to as string | undefined) || undefined);
  } catch (err) {
    if (err instanceof RangeError) throw new OutcomeError(badRequest(err.message));
    throw err;
  }
}
