/**
 * Evidence pages (HTML): GET /evidence lists every rule and the whole evidence catalogue; GET /evidence/{ruleId}
 * is one rule's page, and every card's `source.url`. An unknown rule is a 404 page (HTML, not JSON).
 * The pages are rendered once, at start-up (the knowledge pack does not change while running), and carry
 * helmet's security headers with a strict Content-Security-Policy: no script at all, styles from
 * /evidence/evidence.css only.
 */
import { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Knowledge } from '../engine/knowledge.js';
import { renderIndexPage, renderNotFoundPage, renderRulePage, type EvidenceSite } from '../web/evidence/pages.js';
import { EVIDENCE_CSS } from '../web/evidence/style.js';

export interface EvidenceRouteDeps {
  knowledge: Knowledge;
}

/** The Content-Security-Policy of every evidence page. */
const EVIDENCE_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'"],
  objectSrc: ["'none'"],
  scriptSrc: ["'none'"],
  styleSrc: ["'self'"],
};

/** helmet for the HTML routes only (the JSON API keeps its own headers). */
function htmlSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: EVIDENCE_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * `/evidence/` and `/evidence/x/` redirect to the address without the slash, so the pages' relative links
 * (stylesheet, rule pages) resolve. The redirect is relative, so it also works behind a path prefix.
 */
const noTrailingSlash: RequestHandler = (req, res, next) => {
  if (req.path.length > 1 && req.path.endsWith('/')) {
    const last = req.path.split('/').filter(Boolean).pop() ?? 'evidence';
    res.redirect(308, `../${last}`);
    return;
  }
  next();
};

export function evidenceRouter(deps: EvidenceRouteDeps): Router {
  const { knowledge } = deps;
  const site: EvidenceSite = { name: knowledge.name, version: knowledge.version, rules: knowledge.rules, evidence: knowledge.evidence, overrideReasons: knowledge.overrideReasons };
  const index = renderIndexPage(site);
  const rulePages = new Map([...knowledge.rules.values()].map((rule) => [rule.id, renderRulePage(site, rule)]));
  const security = htmlSecurityHeaders();
  const router = Router();

  router.get('/evidence/evidence.css', security, (_req, res) => {
    res.type('text/css; charset=utf-8').send(EVIDENCE_CSS);
  });
  router.get('/evidence', security, noTrailingSlash, (_req, res) => {
    res.type('html').send(index);
  });
  router.get('/evidence/:ruleId', security, noTrailingSlash, (req, res) => {
    const id = String(req.params.ruleId);
    const page = rulePages.get(id);
    if (page === undefined) {
      res.status(404).type('html').send(renderNotFoundPage(site, id));
      return;
    }
    res.type('html').send(page);
  });
  return router;
}
