/**
 * The one-way pipeline, transport-free: hook call → validated hook request → chart (prefetch ∪ fetch) → facts →
 * rules → cards. The only place that composes the stages: `call(serviceId, document)` is used by the HTTP route,
 * the CLI (`evaluate`, one request or every case of a scenario file) and the scenario tests alike.
 */
import type { MedicationRequest } from 'fhir/r4.js';
import type { Config } from '../config/index.js';
import type { PatientFacts } from '../model/facts.js';
import type { CardDraft, CdsResponse } from '../model/cards.js';
import type { RenderDeps, RenderedCard } from '../cards/render.js';
import { AnswerTemplate } from '../cards/answer.js';
import { gatherChart, suppliedByRequest, type DropReason, type GatherReport } from '../data/gather.js';
import type { Chart } from '../model/chart.js';
import { parseHookDocument, parseHookRequest, type HookRequest } from '../hooks/request.js';
import { JsonDocument } from '../model/json-document.js';
import { notFound, OutcomeError } from '../model/outcomes.js';
import type { Knowledge } from './knowledge.js';
import type { ServiceDefinition } from '../knowledge/services.js';
import type { Logger } from '../observability/logger.js';
import type { RuleContext } from '../rules/contract.js';
import type { Storage } from '../storage/index.js';
import { clientScope, type ClientIdentity } from '../storage/scope.js';
import { drugKey, orderKeys } from './identity.js';
import { patientHash } from '../observability/logger.js';
import { runRules, type RuleRunObserver } from '../rules/run.js';
import { bodyMemoKey, EvaluationMemo, memoKey, type MemoEntry } from './memo.js';

/** Default memo budget: 32 M characters of serialised charts or bytes of hook bodies (a realistic one is ~30 KB). */
const DEFAULT_MEMO_CHARS = 32 * 1024 * 1024;

export interface EngineDeps {
  config: Config;
  logger: Logger;
  fetch?: typeof fetch;
  /** Clock for date arithmetic in facts (tests pin it). */
  now?: () => Date;
  observer?: EngineObserver;
  /** Memo budget in characters of serialised charts or bytes of bodies (see EvaluateOptions.body); 0 turns memoisation off. */
  memoChars?: number;
  /** Suppression and the card audit log; absent for the CLI (nothing is stored, nothing suppressed). */
  storage?: Pick<Storage, 'audit' | 'suppression'>;
}

/** Hooks for metrics: every method optional, all synchronous and cheap. */
export interface EngineObserver extends RuleRunObserver {
  fhirRequest?(info: { ms: number; ok: boolean; kind: string }): void;
  /** Resources kept from the facts: another patient's, or of a type the key's query does not return. */
  resourcesDropped?(reason: DropReason, count: number): void;
  memo?(hit: boolean): void;
  evaluated?(service: ServiceDefinition, evaluation: Evaluation): void;
}

export interface Evaluation {
  /** The response as sent: UTF-8 JSON (src/cards/answer.ts). */
  body: Buffer;
  /** The drafts of the cards returned, in answer order (cheap: no parsing). */
  cards: readonly CardDraft[];
  /** The response as objects: parsed from `body` on first read. */
  readonly response: CdsResponse;
  /** Each card returned with its draft: parsed from `body` on first read. */
  readonly rendered: RenderedCard[];
  facts: PatientFacts;
  report: GatherReport;
  /** Keyed hash of the call's patient id (for logs and storage; never the id itself). */
  patientHash: string;
  /** Cards the rules made but suppression held back (an acknowledging override, or shown at order-select). */
  suppressed: number;
}

/**
 * The response's `extension` member (CDS Hooks reserves `extension` for this and lets any object carry it) that says how many cards were held back, so a
 * client can tell "nothing to say" from "said before and acknowledged". Present only when the count is not 0.
 */
export const SUPPRESSED_EXTENSION = 'ldn-cds.suppressed';

/** `{"cards":[...]}` → `{"cards":[...],"extension":{"ldn-cds.suppressed":n}}`, on the bytes (the answer is a template). */
function withSuppressedCount(body: Buffer, count: number): Buffer {
  if (body[body.length - 1] !== 0x7d) throw new Error('a CDS Hooks response body must end with "}"');
  return Buffer.concat([body.subarray(0, body.length - 1), Buffer.from(`,"extension":{"${SUPPRESSED_EXTENSION}":${count}}}`)]);
}

export interface EvaluateOptions {
  /** Logger for this call (default: the engine's). */
  logger?: Logger;
  /**
   * The call's body as received, named by a digest that leaves out hookInstance and fhirAuthorization
   * (parseHookDocument). When the evaluation needed nothing beyond the body, it is remembered under this digest,
   * and a later call with the same digest is answered without gathering, or even parsing, its prefetch.
   */
  body?: { digest: string; bytes: number };
  /** The verified CDS client (absent with AUTH_MODE=off): suppression and the audit log are scoped by it. */
  client?: ClientIdentity;
}

export interface CallOptions extends Pick<EvaluateOptions, 'client'> {
  /** The call's logger, once its service and request are known (default: the engine's). */
  logger?: Logger | ((service: ServiceDefinition, request: HookRequest) => Logger);
  /** Told the endpoint's id as soon as it is found (before the body is validated): the route logs it. */
  onEndpoint?(endpointId: string): void;
}

export interface Call {
  /** The service that answered: the endpoint's own, or for a former id the one serving the request's hook. */
  service: ServiceDefinition;
  request: HookRequest;
  evaluation: Evaluation;
}

export interface Engine {
  readonly knowledge: Knowledge;
  /**
   * A hook call, end to end: find the endpoint `serviceId` (a service id or a former id), validate `document`
   * (a body as received, or a parsed JSON value) against the hooks it serves, evaluate with the service for the
   * request's hook. Throws OutcomeError: 404 for an unknown id, 400 for an invalid request (src/hooks/request.ts).
   */
  call(serviceId: string, document: JsonDocument | unknown, options?: CallOptions): Promise<Call>;
  evaluate(service: ServiceDefinition, request: HookRequest, options?: EvaluateOptions): Promise<Evaluation>;
}

export function createEngine(knowledge: Knowledge, deps: EngineDeps): Engine {
  const now = deps.now ?? (() => new Date());
  const publicBase = deps.config.publicBaseUrls[0];
  const memo = new EvaluationMemo(deps.memoChars ?? DEFAULT_MEMO_CHARS);
  const renderDeps: RenderDeps = {
    sourceLabel: `${knowledge.name} ${knowledge.version}`,
    topic: knowledge.cardTopics ? (concern) => knowledge.cardTopics!.get(concern) : undefined,
    evidenceLinks: (ids) => knowledge.evidenceLinks(ids),
    evidencePageUrl: knowledge.hasEvidencePages && publicBase ? (ruleId) => `${publicBase}/evidence/${encodeURIComponent(ruleId)}` : undefined,
  };
  /** Answer templates of an evaluation, by which of its cards are shown ('*': all of them; else their indices). */
  const templates = new WeakMap<MemoEntry, Map<string, AnswerTemplate>>();
  const templateFor = (entry: MemoEntry, shown: string, drafts: () => CardDraft[]): AnswerTemplate => {
    let byShown = templates.get(entry);
    if (!byShown) templates.set(entry, (byShown = new Map()));
    let template = byShown.get(shown);
    if (!template) byShown.set(shown, (template = AnswerTemplate.build(drafts(), renderDeps)));
    return template;
  };
  /** The pure part: facts, rule results and what each card is about. A function of its arguments only. */
  const evaluateChart = (service: ServiceDefinition, chart: Chart, report: GatherReport, today: Date, logger: Logger): MemoEntry => {
    const facts = knowledge.extractFacts(chart, today);
    const drafts = new Map<string, MedicationRequest>();
    for (const r of chart.draftOrders) if (r.resourceType === 'MedicationRequest' && r.id) drafts.set(`MedicationRequest/${r.id}`, r as MedicationRequest);
    const context: RuleContext = { draftOrder: (ref) => drafts.get(ref) };
    const ruleDrafts = runRules(knowledge.rulesFor(service), facts, context, logger, deps.observer);
    const { patientIdHashKey } = deps.config;
    return {
      facts,
      drafts: ruleDrafts,
      drugKeys: ruleDrafts.map((d) => drugKey(d, facts)),
      orderKeys: ruleDrafts.map((d) => orderKeys(d, facts, patientIdHashKey, chart.patientId)),
      patientHash: patientHash(patientIdHashKey, chart.patientId),
      report,
    };
  };

  /** The evaluation of this call: remembered by the body's digest, else gathered and remembered by the chart. */
  const recall = async (service: ServiceDefinition, request: HookRequest, today: Date, logger: Logger, body: EvaluateOptions['body']): Promise<{ entry: MemoEntry; report: GatherReport; hit: boolean }> => {
    const memoOn = memo.maxWeight > 0;
    const day = today.toISOString().slice(0, 10);
    const bodyKey = memoOn && body ? bodyMemoKey(service.id, day, body) : undefined;
    const known = bodyKey ? memo.get(bodyKey) : undefined;
    if (known) return { entry: known, report: known.report, hit: true };
    const { chart, report } = await gatherChart(service, request, { config: deps.config, logger, fetch: deps.fetch, onFhirRequest: deps.observer?.fhirRequest, onDropped: deps.observer?.resourcesDropped });
    // Under the body's digest only when the body alone decided the chart (nothing fetched); else the chart's content.
    const key = bodyKey && suppliedByRequest(report) ? bodyKey : memoOn ? memoKey(service.id, chart, day) : undefined;
    const same = key && key !== bodyKey ? memo.get(key) : undefined;
    if (same) return { entry: same, report, hit: true };
    await knowledge.warmFacts?.(chart); // a large new chart is normalised in slices, not in one block
    const entry = evaluateChart(service, chart, report, today, logger);
    if (key) memo.set(key, entry);
    return { entry, report, hit: false };
  };

  const engine: Engine = {
    knowledge,
    async call(serviceId, document, options = {}) {
      const endpoint = knowledge.services.endpoint(serviceId);
      if (!endpoint) throw new OutcomeError(notFound(`No CDS service "${serviceId}"`));
      options.onEndpoint?.(endpoint.id);
      const { request, bodyDigest } =
        document instanceof JsonDocument ? parseHookDocument(document, endpoint.hooks, endpoint.id) : { request: parseHookRequest(document, endpoint.hooks, endpoint.id), bodyDigest: undefined };
      // One service per hook; a former id (several hooks under one id) is answered by the service for this hook.
      const service = endpoint.forHook(request.hook)!;
      const logger = typeof options.logger === 'function' ? options.logger(service, request) : options.logger;
      const body = bodyDigest && document instanceof JsonDocument ? { digest: bodyDigest, bytes: document.bytes.length } : undefined;
      const evaluation = await engine.evaluate(service, request, { ...(logger ? { logger } : {}), ...(body ? { body } : {}), ...(options.client ? { client: options.client } : {}) });
      return { service, request, evaluation };
    },
    async evaluate(service, request, options = {}) {
      const logger = options.logger ?? deps.logger;
      const today = now();
      const { entry: evaluated, report, hit } = await recall(service, request, today, logger, options.body);
      deps.observer?.memo?.(hit);
      const { facts, drafts: cardDrafts, drugKeys, orderKeys: cardOrderKeys, patientHash: patient } = evaluated;
      const storage = deps.storage;
      const candidates = cardDrafts.map((draft, i) => ({ draft, drugKey: drugKeys[i]!, orderKeys: cardOrderKeys[i]! }));
      const scope = clientScope(options.client, request.fhirServer);
      const shown = storage ? storage.suppression.filter(candidates, { serviceId: service.id, hook: request.hook, patientHash: patient, scope, now: today }) : candidates;
      const shownKey = shown.length === candidates.length ? '*' : shown.map((c) => candidates.indexOf(c)).join(',');
      const answer = templateFor(evaluated, shownKey, () => shown.map((c) => c.draft)).instantiate();
      const suppressed = candidates.length - shown.length;
      const body = suppressed ? withSuppressedCount(answer.body, suppressed) : answer.body;
      if (storage && answer.cards.length) {
        const identity = new Map(shown.map((c) => [c.draft, c]));
        storage.audit.recordCards(
          answer.cards.map(({ draft, uuid, suggestionUuids }) => ({
            cardUuid: uuid,
            suggestionUuids,
            serviceId: service.id,
            ruleId: draft.ruleId,
            ruleVersion: draft.ruleVersion,
            concern: draft.concern,
            hook: request.hook,
            hookInstance: request.hookInstance,
            indicator: draft.indicator,
            patientHash: patient,
            drugKey: identity.get(draft)!.drugKey,
            orderKeys: identity.get(draft)!.orderKeys,
            shownAt: today,
            scope,
          })),
        );
      }
      const evaluation: Evaluation = {
        body,
        cards: answer.cards.map((c) => c.draft),
        suppressed,
        get response() {
          return suppressed ? { ...answer.response, extension: { [SUPPRESSED_EXTENSION]: suppressed } } : answer.response;
        },
        get rendered() {
          return answer.rendered;
        },
        facts,
        report,
        patientHash: patient,
      };
      deps.observer?.evaluated?.(service, evaluation);
      return evaluation;
    },
  };
  return engine;
}
