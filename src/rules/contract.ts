/**
 * The rule evaluation contract: rules read PatientFacts and return card drafts.
 * HTTP code never sees a rule's insides; a rule never sees HTTP.
 */
import type { MedicationRequest } from 'fhir/r4.js';
import type { PatientFacts } from '../model/facts.js';
import type { HookName } from '../model/hooks.js';
import type { CardDraft, Coding } from '../model/cards.js';

/** Read-only access to raw request data a rule may need to build suggestions (e.g. an `update` action needs the whole draft). */
export interface RuleContext {
  /** The draft order with this relative reference ("MedicationRequest/request-123"), as the client sent it. Callers must not mutate it. */
  draftOrder(ref: string): MedicationRequest | undefined;
}

export interface Rule {
  id: string;
  /** Semantic version of the rule's logic and text; recorded with every card for analytics. */
  version: string;
  /** Cards that share a concern are de-duplicated: only the most urgent one is shown per call. */
  concern: string;
  hooks: readonly HookName[];
  /** What the rule is for, in words (its evidence page); filled by the rule compiler, absent on hand-written rules. */
  meta?: RuleMeta;
  /** Pure and synchronous: no I/O, no clock (use facts.now). Return null when the rule does not apply. */
  evaluate(facts: PatientFacts, context: RuleContext): CardDraft | null;
}

/** One part of a rule's rationale: a sentence, optionally followed by a list ("… at least one of these holds:"). */
export interface RationaleSection {
  text: string;
  items: readonly string[];
}

/** The When/Then header comment of a rule file, in the author's words. */
export interface RuleRationale {
  when: RationaleSection;
  then: RationaleSection;
  /** Lines in parentheses after When/Then, e.g. which rule covers the other dose range. */
  notes: readonly string[];
}

/** A cited evidence entry, and what the rule takes from it when that is narrower than the entry's finding. */
export interface RuleCitation {
  id: string;
  says?: string;
}

/** Describes a rule for people (the evidence pages); never used to evaluate it. */
export interface RuleMeta {
  /** The rule file's `title`, or its id when it has none. */
  title: string;
  /** The rule file's When/Then header comment; absent when the file has none. */
  rationale?: RuleRationale;
  indicator: 'info' | 'warning' | 'critical';
  /** Cited evidence ids in the card's order (entries of evidence.yaml). */
  evidence: readonly RuleCitation[];
  /** The rule's parameters as written, e.g. { washoutDays: 14 }. */
  parameters: Readonly<Record<string, number | string | boolean>>;
  /** Override reasons the card offers (system, code, display). */
  overrideReasons: readonly Coding[];
  /** The rule file, relative to the knowledge folder: "rules/ldn-with-opioid.yaml". */
  file: string;
  /** The rule's `evidenceReviewed` note: why a card citing only weak evidence is still warranted (src/knowledge/evidence-review.ts). */
  evidenceReviewed?: string;
  /** True when the rule is about naltrexone / LDN, so its page states that LDN is off-label and not a disease-modifying therapy. */
  concernsLdn: boolean;
}
