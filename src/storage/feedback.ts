/**
 * CDS Hooks feedback (§6), stored durably and idempotently. One batch is one transaction and save() resolves
 * only after it committed. A natural key (service, card, outcome, outcomeTimestamp, sorted accepted
 * suggestion ids, reason system|code) collapses duplicates with INSERT … ON CONFLICT DO NOTHING in both
 * dialects, so clients may resend freely. Feedback for a card not in the audit log is stored with
 * known_card = false, and so is feedback on a card shown to another client (issuer, tenant). An override whose reason acknowledges the card also stores a suppression row.
 * userComment is free text that may hold PHI: it is stored only when FEEDBACK_STORE_COMMENTS=on.
 */
import { createHash } from 'node:crypto';
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Logger } from '../observability/logger.js';
import type { DatabaseHealth } from './errors.js';
import { StorageUnavailableError } from './errors.js';
import type { SchemaGate } from './migrations.js';
import { toDbFlag, toDbTime, type FeedbackTable, type StorageSchema } from './schema.js';
import type { ClientScope } from './scope.js';
import { scopeOfRow, type AcknowledgedOverride, type SuppressionIndex } from './suppression.js';
import { stageSpan } from '../observability/tracing.js';

/** One validated feedback item (src/http/feedback.ts parses the request body into these). */
export interface FeedbackItem {
  card: string;
  outcome: 'accepted' | 'overridden';
  /** Accepted suggestion ids (`acceptedSuggestions[].id`); empty for overrides. */
  acceptedSuggestions: string[];
  overrideReason?: {
    reason?: { code: string; system?: string };
    userComment?: string;
  };
  outcomeTimestamp: Date;
}

export interface SaveResult {
  stored: number;
  duplicates: number;
  unknownCards: number;
}

export interface FeedbackStore {
  /** Store a batch in one transaction; resolves after commit. Rejects with StorageUnavailableError. */
  /**
   * Store a batch from `client` in one transaction; resolves after commit. Rejects with StorageUnavailableError.
   * Feedback on a card shown to another client is stored without effect (as for an unknown card).
   */
  save(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date, client: FeedbackClient): Promise<SaveResult>;
}

/** What feedback handling needs to know about an override reason (cds-services/override-reasons.yaml). */
export interface OverrideReasonPolicy {
  system: string;
  /** The clinician acknowledged the risk: the card may be held back afterwards. */
  acknowledges: boolean;
  /** Days the card is held back; absent: SUPPRESSION_DEFAULT_DAYS. */
  suppressDays?: number;
  /** Critical cards are held back too. Absent (the default): critical cards always show. */
  suppressesCritical?: boolean;
}

export interface OverrideReasonLookup {
  get(code: string): OverrideReasonPolicy | undefined;
}

export interface FeedbackStoreDeps {
  db: Kysely<StorageSchema>;
  gate: SchemaGate;
  /** Writes queued audit entries first, so feedback on a card shown a moment ago finds its audit row. */
  flushAudit(): Promise<void>;
  health: DatabaseHealth;
  reasons: OverrideReasonLookup;
  index: SuppressionIndex;
  storeComments: boolean;
  suppressionDefaultDays: number;
  logger: Logger;
}

/** Rows per statement: well under both dialects' bound-parameter limits. */
const CHUNK = 200;
const DAY_MS = 86_400_000;

/** A suppression row about to be written with the feedback that caused it. */
interface NewSuppression extends AcknowledgedOverride {
  feedbackKey: string;
  reasonSystem: string | null;
  reasonCode: string;
}

interface BatchOutcome {
  /** Natural keys inserted now (the others were duplicates). */
  stored: string[];
  unknownCards: number;
  acknowledged: NewSuppression[];
}

interface AuditFacts {
  ruleId: string;
  patientHash: string;
  drugKey: string;
  scope: ClientScope;
}

/** Who sent a feedback batch: the verified JWT's issuer and tenant (src/storage/scope.ts feedbackClient). */
export type FeedbackClient = Pick<ClientScope, 'issuer' | 'tenant'>;

export function createFeedbackStore(deps: FeedbackStoreDeps): FeedbackStore {
  const store = feedbackStore(deps);
  return {
    ...store,
    save: (serviceId, items, receivedAt, client) =>
      stageSpan('storage.feedback', { 'ldn_cds.service': serviceId, 'ldn_cds.items': items.length }, () => store.save(serviceId, items, receivedAt, client)),
  };
}

function feedbackStore(deps: FeedbackStoreDeps): FeedbackStore {
  return {
    async save(serviceId, items, receivedAt, client) {
      const unique = new Map<string, FeedbackItem>();
      for (const item of items) unique.set(naturalKey(serviceId, client, item), item);
      let outcome: BatchOutcome;
      try {
        await deps.flushAudit();
        await deps.gate.ready();
        outcome = await deps.db.transaction().execute((trx) => writeBatch(trx, serviceId, client, unique, receivedAt, deps));
      } catch (err) {
        if (err instanceof StorageUnavailableError) throw err; // the audit flush failed, already counted and logged
        deps.health.failed('feedback write', err, 'write');
        throw new StorageUnavailableError('feedback write', err);
      }
      deps.health.succeeded();
      deps.index.noteAcknowledged(outcome.acknowledged);
      const result = { stored: outcome.stored.length, duplicates: items.length - outcome.stored.length, unknownCards: outcome.unknownCards };
      deps.logger.info({ serviceId, ...result, suppressionsAdded: outcome.acknowledged.length }, 'feedback stored');
      return result;
    },
  };
}

async function writeBatch(
  trx: Transaction<StorageSchema>,
  serviceId: string,
  client: FeedbackClient,
  items: ReadonlyMap<string, FeedbackItem>,
  receivedAt: Date,
  deps: FeedbackStoreDeps,
): Promise<BatchOutcome> {
  const audit = await auditFactsFor(trx, serviceId, client, [...new Set([...items.values()].map((i) => i.card))]);
  const rows = [...items].map(([key, item]) => toRow(key, serviceId, client, item, audit.has(item.card), receivedAt, deps.storeComments));
  const stored: string[] = [];
  for (const chunk of chunks(rows, CHUNK)) {
    const inserted = await trx.insertInto('feedback').values(chunk).onConflict((oc) => oc.column('natural_key').doNothing()).returning('natural_key').execute();
    stored.push(...inserted.map((r) => r.natural_key));
  }
  const acknowledged: NewSuppression[] = [];
  for (const key of stored) {
    const item = items.get(key)!;
    const facts = audit.get(item.card);
    const suppression = facts && acknowledgingOverride(key, item, facts, receivedAt, deps);
    if (suppression) acknowledged.push(suppression);
  }
  for (const chunk of chunks(acknowledged, CHUNK)) {
    await trx
      .insertInto('suppression')
      .values(
        chunk.map((a) => ({
          feedback_key: a.feedbackKey,
          rule_id: a.ruleId,
          patient_hash: a.patientHash,
          drug_key: a.drugKey,
          reason_system: a.reasonSystem,
          reason_code: a.reasonCode,
          covers_critical: toDbFlag(a.coversCritical),
          created_at: toDbTime(receivedAt),
          expires_at: toDbTime(a.expiresAt),
          client_issuer: a.scope.issuer,
          client_tenant: a.scope.tenant,
          fhir_server: a.scope.fhirServer,
        })),
      )
      .onConflict((oc) => oc.column('feedback_key').doNothing())
      .execute();
  }
  const unknownCards = stored.filter((key) => !audit.has(items.get(key)!.card)).length;
  return { stored, unknownCards, acknowledged };
}

/**
 * The audit facts of these cards, when this service returned them to this client. A card shown to another
 * client (or to no client: rows from before scoping) is not known here: its feedback is stored without effect,
 * and the answer does not tell the sender that the uuid exists elsewhere.
 */
async function auditFactsFor(trx: Transaction<StorageSchema>, serviceId: string, client: FeedbackClient, cards: string[]): Promise<Map<string, AuditFacts>> {
  const facts = new Map<string, AuditFacts>();
  for (const chunk of chunks(cards, CHUNK)) {
    const rows = await trx
      .selectFrom('card_audit')
      .select(['card_uuid', 'rule_id', 'patient_hash', 'drug_key', 'client_issuer', 'client_tenant', 'fhir_server'])
      .where('service_id', '=', serviceId)
      .where('client_issuer', '=', client.issuer)
      .where('client_tenant', '=', client.tenant)
      .where('card_uuid', 'in', chunk)
      .execute();
    for (const r of rows) facts.set(r.card_uuid, { ruleId: r.rule_id, patientHash: r.patient_hash, drugKey: r.drug_key, scope: scopeOfRow(r) });
  }
  return facts;
}

/** The suppression an override creates, when its coded reason (from our code system) acknowledges the card. */
function acknowledgingOverride(
  feedbackKey: string,
  item: FeedbackItem,
  facts: AuditFacts,
  receivedAt: Date,
  deps: Pick<FeedbackStoreDeps, 'reasons' | 'suppressionDefaultDays'>,
): NewSuppression | undefined {
  const reason = item.overrideReason?.reason;
  if (item.outcome !== 'overridden' || !reason) return undefined;
  const policy = deps.reasons.get(reason.code);
  if (!policy?.acknowledges || (reason.system !== undefined && reason.system !== policy.system)) return undefined;
  const days = policy.suppressDays ?? deps.suppressionDefaultDays;
  return {
    feedbackKey,
    ruleId: facts.ruleId,
    patientHash: facts.patientHash,
    drugKey: facts.drugKey,
    scope: facts.scope,
    coversCritical: policy.suppressesCritical === true,
    expiresAt: new Date(receivedAt.getTime() + days * DAY_MS),
    reasonSystem: reason.system ?? null,
    reasonCode: reason.code,
  };
}

/**
 * The idempotency key: equal for resent copies of the same feedback, different for any other feedback. The
 * sender is part of it, so another client's copy can never pre-empt (as a "duplicate") the real client's.
 */
function naturalKey(serviceId: string, client: FeedbackClient, item: FeedbackItem): string {
  const reason = item.overrideReason?.reason;
  const parts = [serviceId, client.issuer, client.tenant, item.card, item.outcome, item.outcomeTimestamp.toISOString(), [...item.acceptedSuggestions].sort(), reason ? `${reason.system ?? ''}|${reason.code}` : ''];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function toRow(key: string, serviceId: string, client: FeedbackClient, item: FeedbackItem, knownCard: boolean, receivedAt: Date, storeComments: boolean): Insertable<FeedbackTable> {
  const comment = item.overrideReason?.userComment;
  return {
    natural_key: key,
    service_id: serviceId,
    card_uuid: item.card,
    outcome: item.outcome,
    outcome_at: toDbTime(item.outcomeTimestamp),
    accepted_suggestions: JSON.stringify([...item.acceptedSuggestions].sort()),
    reason_system: item.overrideReason?.reason?.system ?? null,
    reason_code: item.overrideReason?.reason?.code ?? null,
    has_comment: toDbFlag(Boolean(comment)),
    user_comment: storeComments && comment ? comment : null,
    known_card: toDbFlag(knownCard),
    received_at: toDbTime(receivedAt),
    client_issuer: client.issuer,
    client_tenant: client.tenant,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
