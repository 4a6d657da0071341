/**
 * CDS Hooks 2.0 card shapes (spec §5) and the drafts rules produce before rendering.
 * Rendering (src/cards/render.ts) adds uuids, source, links and removes empty optionals.
 */
import type { Resource } from 'fhir/r4.js';

/** CDS Hooks 2.0 §Card: summary is "<140 characters" — the one limit (card text, rendering, schema, OpenAPI). */
export const SUMMARY_MAX_LENGTH = 139;

export type Indicator = 'info' | 'warning' | 'critical';

export const INDICATOR_RANK: Record<Indicator, number> = { info: 0, warning: 1, critical: 2 };

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
}

export interface Action {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: Resource;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid: string;
  isRecommended?: boolean;
  actions?: Action[];
}

export interface Source {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: Indicator;
  source: Source;
  suggestions?: Suggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: Link[];
}

export interface CdsResponse {
  cards: Card[];
  systemActions?: Action[];
  /** `{"ldn-cds.suppressed": n}` when suppression held cards back (src/engine/index.ts). */
  extension?: Record<string, unknown>;
}

export interface SuggestionDraft {
  label: string;
  isRecommended?: boolean;
  actions: Action[];
}

/** What a rule returns. */
export interface CardDraft {
  ruleId: string;
  ruleVersion: string;
  concern: string;
  indicator: Indicator;
  /** < 140 characters; names the drugs. */
  summary: string;
  /** GitHub-flavoured Markdown, short sections: why, what to do, evidence and its strength. */
  detail?: string;
  /** Evidence catalogue ids (cds-services/evidence.yaml); rendered as links. */
  evidence: string[];
  suggestions?: SuggestionDraft[];
  overrideReasons?: Coding[];
  /** References of the resources the card is about (e.g. the draft order and the interacting statement), for audit and suppression. */
  subjects: string[];
}
