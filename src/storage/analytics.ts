/**
 * Rule analytics: per rule and version, how many cards were shown in a date range and what clinicians did with
 * them (feedback joined to the audit log by card uuid, service and client). A showing counts once per outcome
 * however many times its feedback was sent and however often it was re-fired within ANALYTICS_REPEAT_WINDOW_S;
 * the range applies to when the card was shown.
 */
import { sql, type Kysely } from 'kysely';
import type { StorageKind } from './connection.js';
import { parseDateTime, parseFullDate } from './rfc3339.js';
import { fromDbCount, toDbTime, type StorageSchema } from './schema.js';

export interface ReportRange {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Only cards shown to this client (JWT issuer; `urn:ldn-cds:auth-off` for AUTH_MODE=off calls). */
  issuer?: string;
  /** With `issuer`: only this tenant ('' for calls without one). */
  tenant?: string;
}

export interface RuleAnalytics {
  ruleId: string;
  ruleVersion: string;
  /** Showings: cards, with a card re-shown within the repeat window (same client, patient, orders, hook) counted once. */
  shown: number;
  /** Showings with at least one `accepted` feedback. */
  accepted: number;
  /** Showings with at least one `overridden` feedback. */
  overridden: number;
  /** Overridden showings by reason code; NO_REASON for overrides without a coded reason. */
  overriddenByReason: Record<string, number>;
  /** accepted / shown (4 decimals); null when nothing was shown. */
  acceptanceRate: number | null;
}

/** overriddenByReason key for overrides that gave no coded reason (cannot clash with a kebab-case code). */
export const NO_REASON = '(none)';

/**
 * What makes two showings the same: service, client scope, rule and version, patient, draft orders and hook.
 * Within it, a card shown again less than the repeat window after the previous showing continues that showing
 * (the CDS Hooks Sandbox and EHRs re-fire order-select on every change of the draft): a showing is a run of
 * such cards, counted once, and it counts as accepted (overridden) when any of its cards was.
 */
const SHOWING_PARTITION = 'service_id, client_issuer, client_tenant, fhir_server, rule_id, rule_version, patient_hash, order_keys, hook';

/** Milliseconds since the epoch of `shown_at` (timestamptz on PostgreSQL, ISO-8601 text on SQLite). */
const epochMs = (kind: StorageKind) =>
  kind === 'postgres' ? sql`(extract(epoch from shown_at) * 1000)` : sql`((julianday(shown_at) - 2440587.5) * 86400000.0)`;

interface CountRow {
  rule_id: string;
  rule_version: string;
  n: string | number;
}

export interface AnalyticsSettings {
  kind: StorageKind;
  /** Repeat window in ms (ANALYTICS_REPEAT_WINDOW_S); 0: every card is a showing of its own. */
  repeatWindowMs: number;
}

export async function queryRuleAnalytics(db: Kysely<StorageSchema>, range: ReportRange, settings: AnalyticsSettings): Promise<RuleAnalytics[]> {
  const t = epochMs(settings.kind);
  const inRange = sql.join(
    [
      sql`1 = 1`,
      ...(range.from ? [sql`shown_at >= ${toDbTime(range.from)}`] : []),
      ...(range.to ? [sql`shown_at < ${toDbTime(range.to)}`] : []),
      ...(range.issuer !== undefined ? [sql`client_issuer = ${range.issuer}`] : []),
      ...(range.tenant !== undefined ? [sql`client_tenant = ${range.tenant}`] : []),
    ],
    sql` and `,
  );
  const partition = sql.raw(SHOWING_PARTITION);
  // Each card in range with the showing it belongs to: `showing` is its partition key and run number.
  const showings = sql`
    with timed as (
      select card_uuid, shown_at, ${partition},
        ${t} as t, lag(${t}) over (partition by ${partition} order by shown_at, card_uuid) as prev_t
      from card_audit where ${inRange}
    ), runs as (
      select card_uuid, service_id, client_issuer, client_tenant, rule_id, rule_version,
        service_id || '|' || client_issuer || '|' || client_tenant || '|' || fhir_server || '|' || rule_id || '|' || rule_version || '|' || patient_hash || '|' || order_keys || '|' || hook || '#' ||
          sum(case when prev_t is null or t - prev_t >= ${settings.repeatWindowMs} then 1 else 0 end)
            over (partition by ${partition} order by shown_at, card_uuid rows between unbounded preceding and current row) as showing
      from timed
    )`;
  // Feedback counts only when it came from the client that was shown the card (src/storage/scope.ts).
  const feedbackJoin = sql`join feedback f on f.card_uuid = r.card_uuid and f.service_id = r.service_id and f.client_issuer = r.client_issuer and f.client_tenant = r.client_tenant`;
  const [shown, outcomes, reasons] = await Promise.all([
    sql<CountRow>`${showings} select rule_id, rule_version, count(distinct showing) as n from runs r group by rule_id, rule_version`.execute(db),
    sql<CountRow & { outcome: 'accepted' | 'overridden' }>`${showings}
      select r.rule_id, r.rule_version, f.outcome, count(distinct r.showing) as n from runs r ${feedbackJoin}
      group by r.rule_id, r.rule_version, f.outcome`.execute(db),
    sql<CountRow & { reason_code: string | null }>`${showings}
      select r.rule_id, r.rule_version, f.reason_code, count(distinct r.showing) as n from runs r ${feedbackJoin}
      where f.outcome = 'overridden' group by r.rule_id, r.rule_version, f.reason_code`.execute(db),
  ]);

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
  for (const r of shown.rows) entry(r.rule_id, r.rule_version).shown = fromDbCount(r.n);
  for (const r of outcomes.rows) entry(r.rule_id, r.rule_version)[r.outcome] = fromDbCount(r.n);
  for (const r of reasons.rows) entry(r.rule_id, r.rule_version).overriddenByReason[r.reason_code ?? NO_REASON] = fromDbCount(r.n);
  for (const e of byRule.values()) e.acceptanceRate = e.shown ? Math.round((e.accepted / e.shown) * 10_000) / 10_000 : null;
  return [...byRule.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId) || a.ruleVersion.localeCompare(b.ruleVersion));
}

/** The client filter as echoed in the answer. */
export function clientOf(range: ReportRange): { issuer?: string; tenant?: string } {
  return { ...(range.issuer !== undefined ? { issuer: range.issuer } : {}), ...(range.tenant !== undefined ? { tenant: range.tenant } : {}) };
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
