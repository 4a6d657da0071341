/**
 * Card drafts → spec-exact CDS Hooks cards: a uuid on every card and suggestion, the knowledge base as source,
 * evidence as links, selectionBehavior when there are suggestions, no empty optionals, most urgent first.
 */
import { timeOrderedUuid } from './uuid.js';
import type { Card, CardDraft, Coding, Link, Suggestion } from '../model/cards.js';
import { INDICATOR_RANK, SUMMARY_MAX_LENGTH as MAX_SUMMARY } from '../model/cards.js';

/** Label of the link to the rule's evidence page (why the card fired, every source and its strength). */
export const EVIDENCE_PAGE_LABEL = 'Why this card: rule, evidence and strength';

export interface RenderDeps {
  /** e.g. "LDN CDS knowledge base 1.0.0" */
  sourceLabel: string;
  /** Evidence catalogue lookup: ids → absolute links (study DOIs/PubMed, labels). */
  evidenceLinks(ids: readonly string[]): Link[];
  /** Where a rule's evidence page lives (absolute URL), when the service publishes one. */
  evidencePageUrl?(ruleId: string): string | undefined;
  /** What a card is about (source.topic), by its rule's concern (cds-services/card-topics.yaml). */
  topic?(concern: string): Coding | undefined;
  uuid?: () => string;
}

export interface RenderedCard {
  card: Card;
  draft: CardDraft;
}

export function renderCards(drafts: readonly CardDraft[], deps: RenderDeps): RenderedCard[] {
  const uuid = deps.uuid ?? timeOrderedUuid;
  return drafts
    .map((draft, order) => ({ draft, order }))
    .sort((a, b) => INDICATOR_RANK[b.draft.indicator] - INDICATOR_RANK[a.draft.indicator] || a.order - b.order)
    .map(({ draft }) => ({ draft, card: renderCard(draft, deps, uuid) }));
}

function renderCard(draft: CardDraft, deps: RenderDeps, uuid: () => string): Card {
  const suggestions: Suggestion[] = (draft.suggestions ?? [])
    .filter((s) => s.actions.length > 0)
    .map((s) => ({ label: s.label, uuid: uuid(), ...(s.isRecommended !== undefined ? { isRecommended: s.isRecommended } : {}), actions: s.actions }));
  const sourceUrl = deps.evidencePageUrl?.(draft.ruleId);
  // The rule's evidence page is also the first link: clients (the CDS Hooks Sandbox among them) draw source.url
  // without opening it, and links are what a clinician can click.
  const links = [...(sourceUrl ? [{ label: EVIDENCE_PAGE_LABEL, url: sourceUrl, type: 'absolute' as const }] : []), ...deps.evidenceLinks(draft.evidence)];
  const card: Card = {
    uuid: uuid(),
    summary: clampSummary(draft.summary),
    indicator: draft.indicator,
    source: { label: deps.sourceLabel, ...(sourceUrl ? { url: sourceUrl } : {}) },
  };
  const topic = deps.topic?.(draft.concern);
  if (topic) card.source.topic = { ...topic };
  if (draft.detail?.trim()) card.detail = draft.detail.trim();
  if (suggestions.length) {
    card.suggestions = suggestions;
    card.selectionBehavior = 'at-most-one';
  }
  if (draft.overrideReasons?.length) card.overrideReasons = draft.overrideReasons.map((c) => ({ ...c }));
  if (links.length) card.links = links;
  return card;
}

/** Defensive: rule templates already keep summaries short; never send one of 140+ characters. */
export function clampSummary(summary: string): string {
  const s = summary.replace(/\s+/g, ' ').trim();
  if (s.length <= MAX_SUMMARY) return s;
  const cut = s.slice(0, MAX_SUMMARY - 1);
  const atWord = cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_SUMMARY - 30));
  return `${atWord.trimEnd()}…`;
}
