/**
 * Run a service's rules over the facts. Each rule is isolated: a rule that throws is logged and counted,
 * and the others still answer. Cards that share a concern are de-duplicated (most urgent kept).
 */
import type { PatientFacts } from '../model/facts.js';
import type { CardDraft } from '../model/cards.js';
import { INDICATOR_RANK } from '../model/cards.js';
import type { Logger } from '../observability/logger.js';
import type { Rule, RuleContext } from './contract.js';
import { stageSpan } from '../observability/tracing.js';

export interface RuleRunObserver {
  ruleEvaluated?(ruleId: string, ms: number): void;
  ruleFailed?(ruleId: string): void;
}

export function runRules(rules: readonly Rule[], facts: PatientFacts, context: RuleContext, logger: Logger, observer: RuleRunObserver = {}): CardDraft[] {
  return stageSpan('rules', { 'ldn_cds.hook': facts.hook, 'ldn_cds.rules': rules.length }, (span) => {
    const drafts = run(rules, facts, context, logger, observer);
    span.setAttribute('ldn_cds.cards', drafts.length);
    return drafts;
  });
}

function run(rules: readonly Rule[], facts: PatientFacts, context: RuleContext, logger: Logger, observer: RuleRunObserver): CardDraft[] {
  const byConcern = new Map<string, CardDraft>();
  for (const rule of rules) {
    if (!rule.hooks.includes(facts.hook)) continue;
    const started = performance.now();
    let draft: CardDraft | null;
    try {
      draft = rule.evaluate(facts, context);
    } catch (err) {
      observer.ruleFailed?.(rule.id);
      logger.error({ ruleId: rule.id, ruleVersion: rule.version, err: errorSummary(err) }, 'rule failed; other rules still answer');
      continue;
    } finally {
      observer.ruleEvaluated?.(rule.id, performance.now() - started);
    }
    if (!draft) continue;
    const existing = byConcern.get(draft.concern);
    if (!existing || INDICATOR_RANK[draft.indicator] > INDICATOR_RANK[existing.indicator]) byConcern.set(draft.concern, draft);
  }
  return [...byConcern.values()];
}

/** Name and message only: a stack may quote patient data, and logs never hold that. */
function errorSummary(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, 300) };
  return { name: 'NonError', message: String(err).slice(0, 300) };
}
