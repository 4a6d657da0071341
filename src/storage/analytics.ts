/**
 * Rule analytics: per rule and version, how many cards were shown in a date range and what clinicians did with
 * them (feedback joined to the audit log by card uuid and service). A card counts once per outcome however many
 * times its feedback was sent; the range applies to when the card was shown.
 */
import type { JoinBuilder, Kysely } from 'kysely';
import { parseDateTime, parseFullDate } from './rfc3339.js';
import { fromDbCount, toDbTime, type CardAuditTable, type FeedbackTable, type StorageSchema } from './schema.js';

export interface ReportRange {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface RuleAnalytics {
  ruleId: string;
  ruleVersion: string;
  shown: number;
  /** Cards with at least one `accepted` feedback. */
  accepted: number;
  /** Cards with at least one `overridden` feedback. */
  overridden: number;
  /** Overridden cards by reason code; NO_REASON for overrides without a coded reason. */
  overriddenByReason: Record<string, number>;
  /** accepted / shown (4 decimals); null when nothing was shown. */
  acceptanceRate: number | null;
}

/** overriddenByReason key for overrides that gave no coded reason (cannot clash with a kebab-case code). */
export const NO_REASON = '(none)';

/** Feedback counts for a card only when it came from the client that was shown the card (src/storage/scope.ts). */
const sameCard = (join: JoinBuilder<StorageSchema & { a: CardAuditTable; f: FeedbackTable }, 'a' | 'f'>) =>
  join.onRef('a.card_uuid', '=', 'f.card_uuid').onRef('a.service_id', '=', 'f.service_id').onRef('a.client_issuer', '=', 'f.client_issuer').onRef('a.client_tenant', '=', 'f.client_tenant');

export async function queryRuleAnalytics(db: Kysely<StorageSchema>, range: ReportRange): Promise<RuleAnalytics[]> {
  let shownQuery = db
    .selectFrom('card_audit as a')
    .select(['a.rule_id', 'a.rule_version', (eb) => eb.fn.countAll<string | number>().as('n')])
    .groupBy(['a.rule_id', 'a.rule_version']);
  let outcomeQuery = db
    .selectFrom('feedback as f')
    .innerJoin('card_audit as a', sameCard)
    .select(['a.rule_id', 'a.rule_version', 'f.outcome', (eb) => eb.fn.count<string | number>('f.card_uuid').distinct().as('n')])
    .groupBy(['a.rule_id', 'a.rule_version', 'f.outcome']);
  let reasonQuery = db
    .selectFrom('feedback as f')
    .innerJoin('card_audit as a', sameCard)
    .where('f.outcome', '=', 'overridden')
    .select(['a.rule_id', 'a.rule_version', 'f.reason_code', (eb) => eb.fn.count<string | number>('f.card_uuid').distinct().as('n')])
    .groupBy(['a.rule_id', 'a.rule_version', 'f.reason_code']);
  if (range.from) {
    const from = toDbTime(range.from);
    shownQuery = shownQuery.where('a.shown_at', '>=', from);
    outcomeQuery = outcomeQuery.where('a.shown_at', '>=', from);
    reasonQuery = reasonQuery.where('a.shown_at', '>=', from);
  }
  if (range.to) {
    const to = toDbTime(range.to);
    shownQuery = shownQuery.where('a.shown_at', '<', to);
    outcomeQuery = outcomeQuery.where('a.shown_at', '<', to);
    reasonQuery = reasonQuery.where('a.shown_at', '<', to);
  }
  const [shown, outcomes, reasons] = await Promise.all([shownQuery.execute(), outcomeQuery.execute(), reasonQuery.execute()]);

  const byRule = new Map<string, RuleAnalytics>();
  const entry = (ruleId: string, ruleVersion: string): RuleAnalytics => {
    const key = `${ruleId}\u0000${ruleVersion}`;
    let e = byRule.get(key);
    if (!e) {
      e = { ruleId, ruleVersion, shown: 0, accepted: 0, overridden: 0, overriddenByReason: {}, acceptanceRate: null };
      byRule.set(key, e);
    }
    return e;
  };
  for (const r of shown) entry(r.rule_id, r.rule_version).shown = fromDbCount(r.n);
  for (const r of outcomes) entry(r.rule_id, r.rule_version)[r.outcome] = fromDbCount(r.n);
  for (const r of reasons) entry(r.rule_id, r.rule_version).overriddenByReason[r.reason_code ?? NO_REASON] = fromDbCount(r.n);
  for (const e of byRule.values()) e.acceptanceRate = e.shown ? Math.round((e.accepted / e.shown) * 10_000) / 10_000 : null;
  return [...byRule.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId) || a.ruleVersion.localeCompare(b.ruleVersion));
}

/**
 * Parse report bounds given as a date (YYYY-MM-DD, UTC; `to` then includes that whole day) or an RFC 3339
 * date-time (`to` exclusive). Throws a RangeError naming the bad bound.
 */
export function parseReportRange(from: string | undefined, to: string | undefined): ReportRange {
  const range: ReportRange = {};
  if (from) range.from = parseBound('from', from, false);
  if (to) range.to = parseBound('to', to, true);
  if (range.from && range.to && range.from >= range.to) throw new RangeError('"from" must be before "to"');
  return range;
}

function parseBound(name: string, value: string, isEnd: boolean): Date {
  const day = parseFullDate(value);
  if (day) return isEnd ? new Date(day.getTime() + 86_400_000) : day;
  const instant = parseDateTime(value);
  if (instant) return instant;
  throw new RangeError(`"${name}" must be a date (YYYY-MM-DD) or an RFC 3339 date-time, got "${value}"`);
}
