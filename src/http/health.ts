/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: knowledge loaded, dependencies reachable).
 * Readiness lists each check so operators see which dependency is down, and warns loudly when auth is off.
 */
import { Router } from 'express';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail: string }>;
}

export function healthRoutes(checks: ReadinessCheck[], warnings: () => string[]): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (e) {
          return { name: c.name, ok: false, detail: `check failed: ${(e as Error).name}` };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    const warn = warnings();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks: results, ...(warn.length ? { warnings: warn } : {}) });
  });
  return router;
}
