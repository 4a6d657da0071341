/**
 * Evidence pages (issue 7): GET /evidence and GET /evidence/{ruleId}, server-rendered HTML. Every rule of the
 * knowledge pack has a page listing each cited source with design, size, finding, strength and links; a card's
 * source.url from a real hook call is its rule's page; unknown rules are a 404 page; all text is escaped; helmet's
 * headers and a strict CSP are on every page; and no page says that LDN cures MS or replaces a disease-modifying
 * therapy.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type AppHandle } from '../../src/app.js';
import { PROJECT_ROOT, testConfig } from '../../src/config/index.js';
import { evidenceUrls, type EvidenceEntry } from '../../src/knowledge/evidence.js';
import { loadKnowledge, type Knowledge } from '../../src/engine/knowledge.js';
import { escapeHtml, html, raw, safeHref } from '../../src/web/evidence/html.js';
import { parseRationale } from '../../src/rules/rationale.js';
import { EVIDENCE_PAGE_LABEL } from '../../src/cards/render.js';

const BASE = 'https://cds.example.org/ldn';
const FIXTURE = path.join(PROJECT_ROOT, 'fixtures/requests/order-select-ldn-oxycodone.json');
const config = (env: NodeJS.ProcessEnv = {}) => testConfig({ PLAYGROUND: 'off', PUBLIC_BASE_URL: BASE, ...env });

let h: AppHandle;
let knowledge: Knowledge;
beforeAll(async () => {
  h = await createApp(config());
  knowledge = h.engine.knowledge;
});
afterAll(() => h.close());

const get = (url: string) => request(h.app).get(url);
const entryOf = (id: string): EvidenceEntry => {
  const entry = knowledge.evidence?.get(id);
  if (!entry) throw new Error(`no evidence entry ${id}`);
  return entry;
};
/** Text as it must appear in the page: escaped. */
const shown = (text: string): string => escapeHtml(text);
const ruleIds = () => [...knowledge.rules.keys()];

/** Heading levels in document order: h1 first, exactly one, and no level skipped on the way down. */
function expectHeadingOutline(page: string): void {
  const levels = [...page.matchAll(/<h([1-6])[\s>]/g)].map((m) => Number(m[1]));
  expect(levels[0]).toBe(1);
  expect(levels.filter((l) => l === 1)).toHaveLength(1);
  levels.forEach((level, i) => {
    if (i > 0) expect(level, `h${level} after h${levels[i - 1]}`).toBeLessThanOrEqual(levels[i - 1]! + 1);
  });
}

/** Relative links of a page (stylesheet, rule pages, catalogue anchors). */
function relativeLinks(page: string): string[] {
  return [...page.matchAll(/(?:href)="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).filter((href) => !/^https?:/.test(href) && !href.startsWith('#'));
}

describe('the knowledge pack has a page for every rule', () => {
  test('the pack has a page for every rule file, each with a title and a When/Then rationale from its file', () => {
    const files = readdirSync(path.join(PROJECT_ROOT, 'cds-services', 'rules')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(ruleIds().sort()).toEqual(files.sort());
    for (const rule of knowledge.rules.values()) {
      expect(rule.meta, rule.id).toBeDefined();
      expect(rule.meta!.title, rule.id).not.toBe(rule.id);
      expect(rule.meta!.rationale?.when.text || rule.meta!.rationale?.when.items.length, rule.id).toBeTruthy();
      expect(rule.meta!.rationale?.then.text, rule.id).toBeTruthy();
      expect(rule.meta!.file).toBe(`rules/${rule.id}.yaml`);
    }
  });

  test.each(['ldn-with-opioid', 'opioid-with-naltrexone', 'ldn-opioid-washout', 'ldn-with-interferon-beta', 'ldn-ms-spasticity-dose', 'ldn-ms-spasticity-evidence', 'ldn-dosing-guidance', 'naltrexone-duplicate-order'])(
    '%s: title, version, hooks, indicator, rationale, parameters and each cited source in full',
    async (id) => {
      const rule = knowledge.rules.get(id)!;
      const meta = rule.meta!;
      const res = await get(`/evidence/${id}`).expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const page = res.text;
      expect(page).toContain(`<h1>${shown(meta.title)}</h1>`);
      expect(page).toContain(`<dd>${rule.version}</dd>`);
      expect(page).toContain(`<dd>${rule.hooks.join(', ')}</dd>`);
      expect(page).toContain(`<span class="badge ${meta.indicator}">${meta.indicator}</span>`);
      expect(page).toMatch(/<h3>When<\/h3>[\s\S]*<h3>Then<\/h3>/);
      for (const item of meta.rationale!.when.items) expect(page).toContain(`<li>${shown(item)}</li>`);
      for (const [name, value] of Object.entries(meta.parameters)) {
        expect(page).toMatch(new RegExp(`<td>${String(value)}[^<]*</td><td><code>${name}</code></td>`));
      }
      expect(meta.evidence.length).toBeGreaterThan(0);
      for (const citation of meta.evidence) {
        const entry = entryOf(citation.id);
        const article = page.slice(page.indexOf(`id="ev-${entry.id}"`));
        const block = article.slice(0, article.indexOf('</article>'));
        expect(block, entry.id).toContain(`<h3 id="ev-${entry.id}-title">${shown(entry.label)}</h3>`);
        expect(block).toContain(`<dt>Design</dt><dd>${shown(entry.design)}</dd>`);
        expect(block).toContain(entry.size ? `<dt>Size</dt><dd>${shown(entry.size)}</dd>` : 'Not recorded');
        expect(block).toContain(shown(entry.finding));
        expect(block).toContain(`<dt>Strength of evidence</dt><dd>${entry.strengthOfEvidence}</dd>`);
        if (entry.strengthOfEvidence === 'product label') expect(block).toContain(`<dt>Label text</dt><dd><blockquote>${shown(entry.finding)}</blockquote>`);
        // Provenance notes ("terminology.md §6.2", seed file names) stay in evidence.yaml: never shown to clinicians.
        if (entry.verification.note) expect(block).not.toContain(shown(entry.verification.note));
        expect(block).not.toContain('Taken from');
        if (citation.says) expect(block).toContain(`<dt>What this rule relies on</dt><dd>${shown(citation.says)}</dd>`);
        const urls = evidenceUrls(entry);
        for (const u of urls) expect(block).toContain(`href="${shown(u.url)}"`);
        if (urls.length === 0) expect(block).toContain('No address is recorded for this source.');
      }
      for (const reason of meta.overrideReasons) {
        expect(page).toContain(`<code>${reason.code}</code>; HL7 category: ${shown(knowledge.overrideReasons.get(reason.code)!.category!.display!)})`);
      }
    },
  );

  test('the parameters read in plain words: the 14-day expert washout and the 3 mg/day cap', async () => {
    expect((await get('/evidence/ldn-opioid-washout-expert')).text).toContain('<tr><td>Washout</td><td>14 days</td><td><code>washoutDays</code></td></tr>');
    expect((await get('/evidence/ldn-ms-spasticity-dose')).text).toContain('<tr><td>Max daily dose</td><td>3 mg/day</td><td><code>maxDailyDoseMg</code></td></tr>');
  });

  test('a note naming another rule links to its page', async () => {
    const page = (await get('/evidence/ldn-ms-spasticity-dose')).text;
    expect(page).toContain('<a href="ldn-ms-spasticity-evidence">ldn-ms-spasticity-evidence</a>');
  });

  test('GET /evidence: the knowledge base, every rule with a one-line rationale, and the whole catalogue', async () => {
    const res = await get('/evidence').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const page = res.text;
    expect(page).toContain(`${knowledge.name} ${knowledge.version}`);
    for (const rule of knowledge.rules.values()) {
      expect(page).toContain(`<a href="evidence/${rule.id}">${shown(rule.meta!.title)}</a>`);
    }
    expect(page).toContain('<strong>When</strong> LDN is ordered and at least one of these holds: the daily dose is above the low-dose range (0.5–4.5 mg/day); ');
    const entries = knowledge.evidence!.all();
    expect(entries.length).toBeGreaterThan(10);
    for (const entry of entries) {
      expect(page).toContain(`<article class="entry" id="ev-${entry.id}"`);
      expect(page).toContain(shown(entry.finding));
      expect(page).toContain(`<dd>${entry.strengthOfEvidence}</dd>`);
    }
    // Cited by: Gironi 2008 is cited by both spasticity rules.
    const gironi = page.slice(page.indexOf('id="ev-gironi-2008"'));
    expect(gironi.slice(0, gironi.indexOf('</article>'))).toMatch(/Cited by[\s\S]*evidence\/ldn-ms-spasticity-dose[\s\S]*evidence\/ldn-ms-spasticity-evidence/);
  });

  test('every relative link on the pages resolves (stylesheet, rule pages, catalogue anchors)', async () => {
    for (const from of ['/evidence', '/evidence/ldn-with-opioid']) {
      const page = (await get(from)).text;
      const links = relativeLinks(page);
      expect(links.length).toBeGreaterThan(3);
      for (const href of links) {
        const target = new URL(href, `http://service${from}`);
        const res = await get(target.pathname);
        expect(res.status, `${href} from ${from}`).toBe(200);
        if (target.hash) expect(res.text, `${href} from ${from}`).toContain(`id="${target.hash.slice(1)}"`);
      }
    }
  });

  test('/evidence/ and /evidence/{id}/ redirect to the address without the slash (relative, for path prefixes)', async () => {
    const index = await get('/evidence/').expect(308);
    expect(index.headers.location).toBe('../evidence');
    const rule = await get('/evidence/ldn-with-opioid/').expect(308);
    expect(rule.headers.location).toBe('../ldn-with-opioid');
  });
});

describe('a card links its rule page', () => {
  test('each card of a real hook call has source.url <PUBLIC_BASE_URL>/evidence/<ruleId>, and that page answers 200', async () => {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const res = await request(h.app).post('/cds-services/ldn-order-select').send(body).expect(200);
    const cards = res.body.cards as { summary: string; source: { label: string; url?: string }; links?: { label: string; url: string; type: string }[] }[];
    expect(cards.length).toBeGreaterThan(1);
    const seen = new Set<string>();
    for (const card of cards) {
      expect(card.source.url, card.summary).toMatch(new RegExp(`^${BASE.replace(/[.]/g, '\\.')}/evidence/[a-z0-9-]+$`));
      // Clients draw source.url but may not open it (the sandbox does not): the page is the card's first link too.
      expect(card.links?.[0], card.summary).toEqual({ label: EVIDENCE_PAGE_LABEL, url: card.source.url, type: 'absolute' });
      const ruleId = card.source.url!.slice(`${BASE}/evidence/`.length);
      seen.add(ruleId);
      const page = await get(`/evidence/${ruleId}`).expect(200);
      expect(page.text).toContain(`<h1>${shown(knowledge.rules.get(ruleId)!.meta!.title)}</h1>`);
      expect(page.text).toContain(`<code>${ruleId}</code>`);
    }
    expect(seen).toContain('ldn-with-opioid');
  });
});

describe('unknown rules', () => {
  test.each(['no-such-rule', '__proto__', 'ldn-with-opioid.yaml'])('/evidence/%s is a 404 HTML page, not JSON', async (id) => {
    const res = await get(`/evidence/${encodeURIComponent(id)}`).expect(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toMatch(/^<!doctype html>/);
    expect(res.text).toContain('<h1>No such rule</h1>');
    expect(res.text).toContain(`<code>${shown(id)}</code>`);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  test('a hostile id is shown escaped', async () => {
    const res = await get('/evidence/%3Cscript%3Ealert(1)%3C%2Fscript%3E').expect(404);
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('escaping', () => {
  test('html`` escapes every interpolated string, keeps Html as is, and joins lists', () => {
    const name = `<b onclick="x">Tom & 'Jerry'</b>`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;b onclick=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;">&lt;b onclick=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.value).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
    expect(html`${raw('<br>')}`.value).toBe('<br>');
  });

  test('safeHref lets only http(s) and relative addresses through', () => {
    expect(safeHref('https://doi.org/10.1002/ana.22006')).toBe('https://doi.org/10.1002/ana.22006');
    expect(safeHref('evidence/ldn-with-opioid')).toBe('evidence/ldn-with-opioid');
    expect(safeHref('javascript:alert(1)')).toBe('#');
    expect(safeHref(' JaVaScRiPt:alert(1)')).toBe('#');
    expect(safeHref('data:text/html,<script>')).toBe('#');
    expect(safeHref('//evil.example')).toBe('#');
  });

  test('markup in a knowledge pack (evidence finding, rule title) is rendered as text', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ldn-evidence-'));
    try {
      cpSync(path.join(PROJECT_ROOT, 'cds-services'), dir, { recursive: true });
      const evidenceFile = path.join(dir, 'evidence.yaml');
      const evidence = readFileSync(evidenceFile, 'utf8');
      expect(evidence).toContain('Safe and tolerated; significant reduction of spasticity');
      writeFileSync(evidenceFile, evidence.replace('Safe and tolerated;', 'Safe <script>alert(1)</script> and "tolerated" <img src=x onerror=alert(2)>;'));
      const ruleFile = path.join(dir, 'rules/ldn-ms-spasticity-evidence.yaml');
      writeFileSync(ruleFile, readFileSync(ruleFile, 'utf8').replace(/^title: .*$/m, 'title: "LDN <i>spasticity</i> & \'more\'"'));
      const pack = loadKnowledge(dir);
      const hostile = await createApp(config(), { knowledge: pack });
      try {
        for (const url of ['/evidence', '/evidence/ldn-ms-spasticity-evidence', '/evidence/ldn-ms-spasticity-dose']) {
          const page = (await request(hostile.app).get(url).expect(200)).text;
          expect(page, url).not.toContain('<script');
          expect(page, url).not.toContain('<img');
          expect(page, url).toContain('Safe &lt;script&gt;alert(1)&lt;/script&gt; and &quot;tolerated&quot; &lt;img src=x onerror=alert(2)&gt;;');
        }
        const page = (await request(hostile.app).get('/evidence/ldn-ms-spasticity-evidence')).text;
        expect(page).toContain('<h1>LDN &lt;i&gt;spasticity&lt;/i&gt; &amp; &#39;more&#39;</h1>');
        expect(page).not.toContain('<i>spasticity');
      } finally {
        await hostile.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('security headers and accessible markup', () => {
  const pages = () => ['/evidence', ...ruleIds().map((id) => `/evidence/${id}`), '/evidence/no-such-rule'];

  test('helmet headers with a strict CSP on every page: no script at all, styles from the stylesheet only', async () => {
    for (const url of pages()) {
      const res = await get(url);
      const csp = res.headers['content-security-policy'] ?? '';
      const directives = new Map(csp.split(';').map((d: string) => { const [name, ...values] = d.trim().split(/\s+/); return [name!, values.join(' ')]; }));
      expect(directives.get('default-src'), url).toBe("'self'");
      expect(directives.get('script-src'), url).toBe("'none'");
      expect(directives.get('style-src'), url).toBe("'self'");
      expect(directives.get('object-src'), url).toBe("'none'");
      expect(directives.get('frame-ancestors'), url).toBe("'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['strict-transport-security'], url).toMatch(/max-age=\d+/);
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      // Nothing the CSP would block: no script, no inline style.
      expect(res.text, url).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    }
  });

  test('the stylesheet is served as a file under the same policy', async () => {
    const res = await get('/evidence/evidence.css').expect(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.text).toContain('.badge.critical');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  test('the JSON API does not get the HTML headers', async () => {
    const res = await get('/healthz').expect(200);
    expect(res.headers['content-security-policy']).toBeUndefined();
  });

  test('pages declare their language, a viewport, landmarks and a heading outline', async () => {
    for (const url of pages()) {
      const page = (await get(url)).text;
      expect(page, url).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(page, url).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(page, url).toMatch(/<title>[^<]+<\/title>/);
      expect(page, url).toContain('<header>');
      expect(page, url).toContain('<nav aria-label=');
      expect(page, url).toContain('<main id="main">');
      expect(page, url).toContain('<footer>');
      expect(page, url).toContain('<a class="skip" href="#main">');
      expectHeadingOutline(page);
    }
  });
});

describe('what the pages say about LDN', () => {
  test('no page says LDN cures MS or replaces a disease-modifying therapy', async () => {
    for (const url of ['/evidence', ...ruleIds().map((id) => `/evidence/${id}`)]) {
      const text = (await get(url)).text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').toLowerCase();
      expect(text, url).not.toMatch(/\bcur(e|es|ed|ing|ative)\b/);
      expect(text, url).not.toMatch(/\b(replaces?|replacing|instead of|substitute for|alternative to) (a |an |the |your )?(disease-modifying|dmt)/);
      expect(text, url).not.toMatch(/\bldn (is|as) a disease-modifying/);
    }
  });

  test('each rule about LDN states that LDN is off-label and not a disease-modifying therapy, with the clinical disclaimer', async () => {
    for (const rule of knowledge.rules.values()) {
      // opioid-with-samidorphan is about an opioid and olanzapine/samidorphan: no LDN in it.
      const aboutLdn = rule.id !== 'opioid-with-samidorphan';
      expect(rule.meta!.concernsLdn, rule.id).toBe(aboutLdn);
      const text = (await get(`/evidence/${rule.id}`)).text.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
      if (aboutLdn) {
        expect(text, rule.id).toContain('Low-dose naltrexone (LDN) is off-label.');
        expect(text, rule.id).toContain('it is not a disease-modifying therapy');
      }
      expect(text, rule.id).toContain('Clinical disclaimer. ldn-cds supports, and does not replace, clinical judgement.');
    }
  });
});

describe('the When/Then header of a rule file', () => {
  test('is read into when, then (with list items) and notes', () => {
    const text = [
      '# When  LDN is ordered and at least one of these holds:',
      '#       - the daily dose is above',
      '#         the low-dose range;',
      '#       - the sig is not at bedtime',
      '# Then  ONE info card',
      '#       listing the points that apply',
      '# (Above 3 mg/day: other-rule, warning.)',
      'id: x',
      '# not part of the header',
    ].join('\n');
    expect(parseRationale(text)).toEqual({
      when: { text: 'LDN is ordered and at least one of these holds:', items: ['the daily dose is above the low-dose range;', 'the sig is not at bedtime'] },
      then: { text: 'ONE info card listing the points that apply', items: [] },
      notes: ['Above 3 mg/day: other-rule, warning.'],
    });
  });

  test('without When and Then there is no rationale', () => {
    expect(parseRationale('# A minimal valid rule\nid: x\n')).toBeUndefined();
    expect(parseRationale('# When something\nid: x\n')).toBeUndefined();
    expect(parseRationale('id: x\n# When a\n# Then b\n')).toBeUndefined();
  });
});
