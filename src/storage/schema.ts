/**
 * The database schema as kysely types, and the two value conversions that let one query code serve both
 * dialects: instants are written as ISO-8601 UTC strings (PostgreSQL `timestamptz` parses them, SQLite `text`
 * keeps them, and their fixed format sorts in time order), flags as 0/1 (PostgreSQL `boolean` accepts them).
 * Reading gives a Date (PostgreSQL) or a string (SQLite), a boolean or a number: use fromDbTime / fromDbFlag.
 * No column holds a raw patient id, order id or free text unless FEEDBACK_STORE_COMMENTS is on.
 */
import type { ColumnType } from 'kysely';

/** An instant: ISO-8601 string in, Date (PostgreSQL) or string (SQLite) out. */
export type DbTime = ColumnType<Date | string, string, string>;
/** A flag: 0/1 in, boolean (PostgreSQL) or number (SQLite) out. */
export type DbFlag = ColumnType<boolean | number, number, number>;

/** One row per card returned to a CDS client. */
export interface CardAuditTable {
  card_uuid: string;
  service_id: string;
  rule_id: string;
  rule_version: string;
  concern: string;
  hook: string;
  hook_instance: string;
  indicator: string;
  /** Keyed hash of the patient id. */
  patient_hash: string;
  /** Lower-case, sorted drug names of the card's subjects joined by '+'. */
  drug_key: string;
  /** JSON array of keyed hashes of the draft-order references the card is about. */
  order_keys: string;
  /** JSON array of the card's suggestion uuids. */
  suggestion_uuids: string;
  shown_at: DbTime;
  /** Client scope (src/storage/scope.ts); '' on rows written before migration 0002. */
  client_issuer: ColumnType<string, string | undefined, string>;
  client_tenant: ColumnType<string, string | undefined, string>;
  /** origin + path of the call's fhirServer; '' when none. */
  fhir_server: ColumnType<string, string | undefined, string>;
}

/** One row per distinct feedback item (CDS Hooks §6); duplicates collapse on natural_key. */
export interface FeedbackTable {
  /** sha256 of (service, card, outcome, outcomeTimestamp, sorted accepted ids, reason system|code). */
  natural_key: string;
  service_id: string;
  card_uuid: string;
  outcome: 'accepted' | 'overridden';
  outcome_at: DbTime;
  /** JSON array of accepted suggestion ids, sorted. */
  accepted_suggestions: string;
  reason_system: string | null;
  reason_code: string | null;
  has_comment: DbFlag;
  /** Only when FEEDBACK_STORE_COMMENTS=on. */
  user_comment: string | null;
  /** False when the card uuid was not in the audit log (for this service) when the feedback arrived. */
  known_card: DbFlag;
  received_at: DbTime;
  /** The client that sent the feedback (src/storage/scope.ts). */
  client_issuer: ColumnType<string, string | undefined, string>;
  client_tenant: ColumnType<string, string | undefined, string>;
}

/** One row per acknowledging override: holds the same rule back for the same patient and drug pair until expires_at. */
export interface SuppressionTable {
  feedback_key: string;
  rule_id: string;
  patient_hash: string;
  drug_key: string;
  reason_system: string | null;
  reason_code: string;
  /** 1 only when the reason explicitly allows holding back critical cards. */
  covers_critical: DbFlag;
  created_at: DbTime;
  expires_at: DbTime;
  /** The scope of the card overridden: only calls in the same scope are held back. */
  client_issuer: ColumnType<string, string | undefined, string>;
  client_tenant: ColumnType<string, string | undefined, string>;
  fhir_server: ColumnType<string, string | undefined, string>;
}

export interface StorageSchema {
  card_audit: CardAuditTable;
  feedback: FeedbackTable;
  suppression: SuppressionTable;
}

export const toDbTime = (d: Date): string => d.toISOString();
export const fromDbTime = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
export const toDbFlag = (b: boolean): number => (b ? 1 : 0);
export const fromDbFlag = (v: boolean | number): boolean => v === true || v === 1;
/** COUNT(*) is a bigint string on PostgreSQL and a number on SQLite. */
export const fromDbCount = (v: string | number | bigint): number => Number(v);
