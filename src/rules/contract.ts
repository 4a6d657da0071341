/**
 * The rule evaluation contract: rules read PatientFacts and return card drafts.
 * HTTP code never sees a rule's insides; a rule never sees HTTP.
 */
import type { MedicationRequest } from 'fhir/r4.js';
import type { HookName, PatientFacts } from '../clinical/facts.js';
import type { CardDraft } from '../cards/types.js';

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
  /** Pure and synchronous: no I/O, no clock (use facts.now). Return null when the rule does not apply. */
  evaluate(facts: PatientFacts, context: RuleContext): CardDraft | null;
}
