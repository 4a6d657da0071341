/**
 * The evidence pages, server-rendered: GET /evidence (every rule and the whole evidence catalogue) and
 * GET /evidence/{ruleId} (one rule: its rationale, parameters and every study it cites). Each card's
 * `source.url` is its rule's page. All text comes from the knowledge pack (rule files, evidence.yaml) and is
 * escaped by `html`; links are relative, so the pages work behind a path prefix.
 */
import { EVIDENCE_STRENGTHS, evidenceUrls, type EvidenceCatalogue, type EvidenceEntry } from '../../knowledge/evidence.js';
import type { OverrideReasonCatalogue } from '../../knowledge/override-reasons.js';
import type { Rule, RuleMeta, RationaleSection } from '../../rules/contract.js';
import { html, raw, safeHref, type Html } from './html.js';

/** What the pages need from the knowledge pack. */
export interface EvidenceSite {
  name: string;
  version: string;
  rules: ReadonlyMap<string, Rule>;
  evidence?: EvidenceCatalogue;
  /** The override-reason catalogue, for each reason's HL7 suggested category. */
  overrideReasons?: OverrideReasonCatalogue;
}

/** Relative addresses, as seen from the page being rendered. */
interface Paths {
  css: string;
  index: string;
  rule(id: string): string;
  entry(id: string): string;
}

/** From GET /evidence. */
const FROM_INDEX: Paths = {
  css: 'evidence/evidence.css',
  index: 'evidence',
  rule: (id) => `evidence/${encodeURIComponent(id)}`,
  entry: (id) => `#${entryAnchor(id)}`,
};

/** From GET /evidence/{ruleId}. */
const FROM_RULE: Paths = {
  css: 'evidence.css',
  index: '../evidence',
  rule: (id) => encodeURIComponent(id),
  entry: (id) => `../evidence#${entryAnchor(id)}`,
};

const entryAnchor = (id: string): string => `ev-${id}`;

const INDICATOR_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** Said on every page: the service's own disclaimer (README). */
const DISCLAIMER = html`<p><strong>Clinical disclaimer.</strong> ldn-cds supports, and does not replace, clinical
judgement. Cards and these pages summarise the cited sources; read the sources and the product label before
prescribing.</p>`;

/** Said wherever a rule concerns LDN (README, knowledge.yaml, rule cards). */
const OFF_LABEL = html`<aside class="notice" aria-label="About low-dose naltrexone">
<p><strong>Low-dose naltrexone (LDN) is off-label.</strong> LDN is naltrexone used off-label at low dose
(0.5–4.5 mg nightly, usually compounded). For multiple sclerosis it is off-label and it is
<strong>not a disease-modifying therapy</strong>. The evidence for it comes from small pilot trials and
observational studies.</p>
</aside>`;

const VERIFICATION_WORDS: Record<EvidenceEntry['verification']['status'], string> = {
  verified: 'Verified: confirmed in a page read recorded in the project\'s research notes',
  'as-cited-in-seed': 'As cited in a seed article only; not confirmed elsewhere',
  unverified: 'Not verified',
};

/** Rules in the order a prescriber cares about: most urgent card first, then by title. */
function sortedRules(site: EvidenceSite): Rule[] {
  return [...site.rules.values()].sort(
    (a, b) => INDICATOR_ORDER[metaOf(a).indicator] - INDICATOR_ORDER[metaOf(b).indicator] || metaOf(a).title.localeCompare(metaOf(b).title),
  );
}

/** A rule's meta, or a minimal stand-in for hand-built rules that have none. */
function metaOf(rule: Rule): RuleMeta {
  return (
    rule.meta ?? { title: rule.id, indicator: 'info', evidence: [], parameters: {}, overrideReasons: [], file: '', concernsLdn: false }
  );
}

function page(site: EvidenceSite, paths: Paths, title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${site.name}</title>
<link rel="stylesheet" href="${paths.css}">
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header>
<p>${site.name} ${site.version}</p>
<nav aria-label="Evidence pages"><a href="${paths.index}"${paths === FROM_INDEX ? raw(' aria-current="page"') : ''}>All rules and evidence</a></nav>
</header>
<main id="main">
${body}
</main>
<footer>
${DISCLAIMER}
<p class="muted">Knowledge base: ${site.name} ${site.version}.</p>
</footer>
</body>
</html>
`.value;
}

function badge(indicator: RuleMeta['indicator']): Html {
  return html`<span class="badge ${indicator}">${indicator}</span>`;
}

/** "a naltrexone product …" → "A naltrexone product …" (headers continue "When"; shown as a sentence). */
const sentence = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function section(text: RationaleSection): Html {
  return html`${text.text ? html`<p>${sentence(text.text)}</p>` : ''}${
    text.items.length ? html`<ul>${text.items.map((item) => html`<li>${item}</li>`)}</ul>` : ''
  }`;
}

/** The rationale on one line, for the list of rules. */
function oneLine(text: RationaleSection): string {
  const items = text.items.map((i) => i.replace(/[;.,]$/, '')).join('; ');
  return [text.text, items].filter(Boolean).join(' ');
}

/** Text with known rule ids turned into links to their pages. */
function withRuleLinks(text: string, site: EvidenceSite, paths: Paths): Html {
  const ids = [...site.rules.keys()].sort((a, b) => b.length - a.length).map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (ids.length === 0) return html`${text}`;
  const parts = text.split(new RegExp(`(?<![\\w-])(${ids.join('|')})(?![\\w-])`));
  return html`${parts.map((part, i) => (i % 2 === 1 ? html`<a href="${paths.rule(part)}">${part}</a>` : part))}`;
}

function parameterLabel(name: string): string {
  const words = name
    .replace(/([A-Z])/g, ' $1')
    .toLowerCase()
    .replace(/ (mg|days)$/, '')
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function parameterValue(name: string, value: number | string | boolean): string {
  if (typeof value !== 'number') return String(value);
  if (/DailyDoseMg$/.test(name)) return `${value} mg/day`;
  if (/Mg$/.test(name)) return `${value} mg`;
  if (/Days$/.test(name)) return `${value} days`;
  return String(value);
}

function links(entry: EvidenceEntry): Html {
  const urls = evidenceUrls(entry);
  if (urls.length === 0) return html`<p class="muted">No address is recorded for this source.</p>`;
  return html`<ul>${urls.map((u) => html`<li><a href="${safeHref(u.url)}" rel="noreferrer">${u.label}</a> <span class="muted">(${u.url})</span></li>`)}</ul>`;
}

interface EntryOptions {
  /** What the rule takes from this entry, when narrower than its finding. */
  says?: string;
  /** Rules citing the entry (catalogue view). */
  citedBy?: Rule[];
}

function evidenceEntry(entry: EvidenceEntry, site: EvidenceSite, paths: Paths, options: EntryOptions): Html {
  const isLabel = entry.strengthOfEvidence === 'product label';
  const anchor = entryAnchor(entry.id);
  return html`<article class="entry" id="${anchor}" aria-labelledby="${anchor}-title">
<h3 id="${anchor}-title">${entry.label}</h3>
<p>${entry.citation}</p>
<dl class="facts">
<dt>Strength of evidence</dt><dd>${entry.strengthOfEvidence}</dd>
<dt>Design</dt><dd>${entry.design}</dd>
<dt>Size</dt><dd>${entry.size ?? html`<span class="muted">Not recorded</span>`}</dd>
${isLabel ? html`<dt>Label text</dt><dd><blockquote>${entry.finding}</blockquote></dd>` : html`<dt>Finding</dt><dd>${entry.finding}</dd>`}
${options.says ? html`<dt>What this rule relies on</dt><dd>${options.says}</dd>` : ''}
<dt>Verification</dt><dd>${VERIFICATION_WORDS[entry.verification.status]}</dd>
${
  options.citedBy
    ? html`<dt>Cited by</dt><dd>${
        options.citedBy.length
          ? html`<ul>${options.citedBy.map((r) => html`<li><a href="${paths.rule(r.id)}">${metaOf(r).title}</a></li>`)}</ul>`
          : html`<span class="muted">No rule cites it yet</span>`
      }</dd>`
    : html`<dt>In the catalogue</dt><dd><a href="${paths.entry(entry.id)}">All details and the rules citing it</a></dd>`
}
</dl>
<h4>Links</h4>
${links(entry)}
</article>`;
}

/** GET /evidence: the knowledge base, every rule with a one-line rationale, and the whole evidence catalogue. */
export function renderIndexPage(site: EvidenceSite): string {
  const paths = FROM_INDEX;
  const rules = sortedRules(site);
  const entries = site.evidence?.all() ?? [];
  const body = html`<h1>Evidence behind the LDN cards</h1>
<p>Every card this service returns links here as its source. Each rule below has its own page with its
rationale, its parameters and every source it cites; the whole evidence catalogue follows.</p>
${rules.some((r) => metaOf(r).concernsLdn) ? OFF_LABEL : ''}
<section aria-labelledby="rules">
<h2 id="rules">Rules (${rules.length})</h2>
${rules.map((rule) => {
  const meta = metaOf(rule);
  return html`<article class="rule" aria-labelledby="rule-${rule.id}">
<h3 id="rule-${rule.id}"><a href="${paths.rule(rule.id)}">${meta.title}</a></h3>
<p>${badge(meta.indicator)} <span class="muted">version ${rule.version} · ${rule.hooks.join(', ')}</span></p>
${meta.rationale ? html`<p><strong>When</strong> ${oneLine(meta.rationale.when)}</p>` : ''}
${
  meta.evidence.length
    ? html`<p class="muted">Cites: ${meta.evidence.map((c, i) => {
        const entry = site.evidence?.get(c.id);
        return html`${i ? ', ' : ''}<a href="${paths.entry(c.id)}">${entry ? entry.label : c.id}</a>`;
      })}</p>`
    : ''
}
</article>`;
})}
</section>
<section aria-labelledby="catalogue">
<h2 id="catalogue">Evidence catalogue (${entries.length})</h2>
<p>Strength of evidence is stated in plain words, one of: ${EVIDENCE_STRENGTHS.map((s, i) => html`${i ? ', ' : ''}<em>${s}</em>`)}.
Identifiers (DOI, PubMed, PubMed Central) are listed only where they were confirmed or cited in the
project's sources; each entry says which.</p>
${entries.map((entry) =>
  evidenceEntry(entry, site, paths, {
    citedBy: rules.filter((r) => metaOf(r).evidence.some((c) => c.id === entry.id)),
  }),
)}
</section>`;
  return page(site, paths, 'Evidence', body);
}

/** GET /evidence/{ruleId}: one rule, everything it is based on. */
export function renderRulePage(site: EvidenceSite, rule: Rule): string {
  const paths = FROM_RULE;
  const meta = metaOf(rule);
  const parameters = Object.entries(meta.parameters);
  const body = html`<h1>${meta.title}</h1>
<dl class="facts">
<dt>Card</dt><dd>${badge(meta.indicator)}</dd>
<dt>Rule</dt><dd><code>${rule.id}</code>${meta.file ? html` <span class="muted">(${meta.file})</span>` : ''}</dd>
<dt>Version</dt><dd>${rule.version}</dd>
<dt>Hooks</dt><dd>${rule.hooks.join(', ')}</dd>
</dl>
${meta.concernsLdn ? OFF_LABEL : ''}
<section aria-labelledby="rationale">
<h2 id="rationale">When it applies and what the card does</h2>
${
  meta.rationale
    ? html`<h3>When</h3>
${section(meta.rationale.when)}
<h3>Then</h3>
${section(meta.rationale.then)}
${meta.rationale.notes.map((note) => html`<p class="muted">${withRuleLinks(note, site, paths)}</p>`)}`
    : html`<p class="muted">The rule file has no When/Then description.</p>`
}
</section>
${
  parameters.length
    ? html`<section aria-labelledby="parameters">
<h2 id="parameters">Parameters</h2>
<table>
<thead><tr><th scope="col">Parameter</th><th scope="col">Value</th><th scope="col">Name in the rule file</th></tr></thead>
<tbody>${parameters.map(([name, value]) => html`<tr><td>${parameterLabel(name)}</td><td>${parameterValue(name, value)}</td><td><code>${name}</code></td></tr>`)}</tbody>
</table>
</section>`
    : ''
}
<section aria-labelledby="evidence">
<h2 id="evidence">Evidence cited (${meta.evidence.length})</h2>
${meta.evidenceReviewed ? html`<p class="evidence-reviewed"><strong>Evidence reviewed.</strong> ${meta.evidenceReviewed}</p>` : ''}
${meta.evidence.map((citation) => {
  const entry = site.evidence?.get(citation.id);
  if (!entry) return html`<p class="muted">Evidence entry <code>${citation.id}</code> is not in the catalogue.</p>`;
  return evidenceEntry(entry, site, paths, { says: citation.says });
})}
</section>
${
  meta.overrideReasons.length
    ? html`<section aria-labelledby="override">
<h2 id="override">Override reasons offered</h2>
<ul>${meta.overrideReasons.map((r) => {
  const category = site.overrideReasons?.get(r.code)?.category;
  return html`<li>${r.display ?? r.code} <span class="muted">(<code>${r.code}</code>${category ? html`; HL7 category: ${category.display}` : ''})</span></li>`;
})}</ul>
</section>`
    : ''
}`;
  return page(site, paths, meta.title, body);
}

/** An unknown rule id: a page, not JSON, with a way back. */
export function renderNotFoundPage(site: EvidenceSite, ruleId: string): string {
  const shown = ruleId.length > 100 ? `${ruleId.slice(0, 100)}…` : ruleId;
  const body = html`<h1>No such rule</h1>
<p>There is no rule <code>${shown}</code> in ${site.name} ${site.version}.</p>
<p><a href="${FROM_RULE.index}">See every rule and its evidence</a>.</p>`;
  return page(site, FROM_RULE, 'Rule not found', body);
}
