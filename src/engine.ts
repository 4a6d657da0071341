/**
 * The one-way pipeline, transport-free: validated hook request → chart (prefetch ∪ fetch) → facts → rules → cards.
 * Used by the HTTP route and the CLI alike.
 */
import type { MedicationRequest } from 'fhir/r4.js';
import type { Config } from './config.js';
import type { PatientFacts } from './clinical/facts.js';
import type { CdsResponse } from './cards/types.js';
import { renderCards, type RenderedCard } from './cards/render.js';
import { gatherChart, type GatherReport } from './data/gather.js';
import type { HookRequest } from './hooks/request.js';
import type { Knowledge } from './knowledge/load.js';
import type { ServiceDefinition } from './knowledge/services.js';
import type { Logger } from './observability/logger.js';
import type { RuleContext } from './rules/contract.js';
import type { Storage } from './storage/index.js';
import { drugKey, orderKeys } from './cards/identity.js';
import { patientHash } from './observability/logger.js';
import { runRules, type RuleRunObserver } from './rules/run.js';
import { EvaluationMemo, memoKey } from './rules/memo.js';

/** Default memo budget: about 32 MB of serialised charts (a realistic chart is ~30 KB). */
export const DEFAULT_MEMO_CHARS = 32 * 1024 * 1024;

export interface EngineDeps {
  config: Config;
  logger: Logger;
  fetch?: typeof fetch;
  /** Clock for date arithmetic in facts (tests pin it). */
  now?: () => Date;
  observer?: EngineObserver;
  /** Memo budget in characters of serialised charts; 0 turns memoisation off. */
  memoChars?: number;
  /** Suppression and the card audit log; absent for the CLI (nothing is stored, nothing suppressed). */
  storage?: Pick<Storage, 'audit' | 'suppression'>;
}

/** Hooks for metrics: every method optional, all synchronous and cheap. */
export interface EngineObserver extends RuleRunObserver {
  fhirRequest?(info: { ms: number; ok: boolean; kind: string }): void;
  memo?(hit: boolean): void;
  evaluated?(service: ServiceDefinition, evaluation: Evaluation): void;
}

export interface Evaluation {
  response: CdsResponse;
  rendered: RenderedCard[];
  facts: PatientFacts;
  report: GatherReport;
}

export interface EvaluateOptions {
  /** Logger for this call (default: the engine's). */
  logger?: Logger;
  /** The keyed hash of the call's patient id, when the caller has already computed it (default: computed here). */
  patientHash?: string;
}

export interface Engine {
  readonly knowledge: Knowledge;
  evaluate(service: ServiceDefinition, request: HookRequest, options?: EvaluateOptions): Promise<Evaluation>;
}

export function createEngine(knowledge: Knowledge, deps: EngineDeps): Engine {
  const now = deps.now ?? (() => new Date());
  const publicBase = deps.config.publicBaseUrls[0];
  const memo = new EvaluationMemo(deps.memoChars ?? DEFAULT_MEMO_CHARS);
  return {
    knowledge,
    async evaluate(service, request, options = {}) {
      const logger = options.logger ?? deps.logger;
      const { chart, report } = await gatherChart(service, request, {
        config: deps.config,
        logger,
        fetch: deps.fetch,
        onFhirRequest: deps.observer?.fhirRequest,
      });
      const today = now();
      const key = memo.maxWeight > 0 ? memoKey(service.id, chart, today.toISOString().slice(0, 10)) : undefined;
      let evaluated = key ? memo.get(key) : undefined;
      deps.observer?.memo?.(evaluated !== undefined);
      if (!evaluated) {
        const facts = knowledge.extractFacts(chart, today);
        const drafts = new Map<string, MedicationRequest>();
        for (const r of chart.draftOrders) if (r.resourceType === 'MedicationRequest' && r.id) drafts.set(`MedicationRequest/${r.id}`, r as MedicationRequest);
        const context: RuleContext = { draftOrder: (ref) => drafts.get(ref) };
        const ruleDrafts = runRules(knowledge.rulesFor(service), facts, context, logger, deps.observer);
        evaluated = { facts, drafts: ruleDrafts, drugKeys: ruleDrafts.map((d) => drugKey(d, facts)) };
        if (key) memo.set(key, evaluated);
      }
      const { facts, drafts: cardDrafts, drugKeys } = evaluated;
      const storage = deps.storage;
      const patient = options.patientHash ?? patientHash(deps.config.patientIdHashKey, request.context.patientId);
      const candidates = cardDrafts.map((draft, i) => ({
        draft,
        drugKey: drugKeys[i]!,
        orderKeys: orderKeys(draft, facts, deps.config.patientIdHashKey, request.context.patientId),
      }));
      const shown = storage ? storage.suppression.filter(candidates, { serviceId: service.id, hook: request.hook, patientHash: patient, now: today }) : candidates;
      const rendered = renderCards(shown.map((c) => c.draft), {
        sourceLabel: `${knowledge.name} ${knowledge.version}`,
        evidenceLinks: (ids) => knowledge.evidenceLinks(ids),
        evidencePageUrl: knowledge.hasEvidencePages && publicBase ? (ruleId) => `${publicBase}/evidence/${encodeURIComponent(ruleId)}` : undefined,
      });
      if (storage && rendered.length) {
        const identity = new Map(shown.map((c) => [c.draft, c]));
        storage.audit.recordCards(
          rendered.map(({ card, draft }) => ({
            cardUuid: card.uuid,
            suggestionUuids: (card.suggestions ?? []).map((sg) => sg.uuid),
            serviceId: service.id,
            ruleId: draft.ruleId,
            ruleVersion: draft.ruleVersion,
            concern: draft.concern,
            hook: request.hook,
            hookInstance: request.hookInstance,
            indicator: card.indicator,
            patientHash: patient,
            drugKey: identity.get(draft)!.drugKey,
            orderKeys: identity.get(draft)!.orderKeys,
            shownAt: today,
          })),
        );
      }
      const evaluation = { response: { cards: rendered.map((r) => r.card) }, rendered, facts, report };
      deps.observer?.evaluated?.(service, evaluation);
      return evaluation;
    },
  };
}
