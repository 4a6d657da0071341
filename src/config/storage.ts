/**
 * Storage tuning read from the environment (documented in docs/storage.md). Kept apart from src/config.ts so
 * the storage layer can be configured and tested on its own; the lead may later fold these into Config and
 * pass them to createStorage as `deps.options`.
 */
import { z } from 'zod';
import { issueText } from '../model/problems.js';

const onOff = (fallback: 'on' | 'off') =>
  z
    .enum(['on', 'off'])
    .default(fallback)
    .transform((v) => v === 'on');

/**
 * A whole number from the environment, within [min, max]; unset or blank (`VAR=`, as compose and shells write an
 * empty value) takes the default, where `z.coerce` alone would read it as 0.
 */
export const int = (min: number, max: number, fallback: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().int().min(min).max(max).default(fallback));

/** The storage variables, part of the service's one validated configuration (src/config.ts). */
export const StorageEnv = z.object({
  /** Acknowledged-override suppression (a card is held back after an override whose reason acknowledges it). */
  SUPPRESSION: onOff('on'),
  /** How long an acknowledging override holds a card back when its reason sets no suppressDays. */
  SUPPRESSION_DEFAULT_DAYS: int(1, 3650, 30),
  /** order-select → order-sign coordination: an info card already shown at order-select is not repeated at order-sign. */
  ORDER_SIGN_DEDUP: onOff('on'),
  /** How long after an order-select card the order-sign info card for the same order is held back, minutes. */
  ORDER_SIGN_DEDUP_WINDOW_MIN: int(1, 10_080, 720),
  /** Analytics: a card shown again for the same client, patient, draft orders and hook within this many seconds of the previous showing is the same showing (0: count every card). */
  ANALYTICS_REPEAT_WINDOW_S: int(0, 86_400, 300),
  /** Card-audit entries kept in memory while the database cannot take them, in serialised bytes (heap: ~3.5×); beyond it the oldest are spilled to AUDIT_SPILL_FILE. */
  AUDIT_QUEUE_MAX_BYTES: int(4096, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  /** Spill audit entries past AUDIT_QUEUE_MAX_BYTES to a local file and replay them when the database is back; off: drop them (counted). */
  AUDIT_SPILL: onOff('on'),
  /** The spill file; default: audit-spill.ndjson beside SQLITE_PATH (one file per instance: give replicas on one host their own). */
  AUDIT_SPILL_FILE: z.string().min(1).optional(),
  /** Most bytes the spill file may hold; entries beyond it are dropped (counted). */
  AUDIT_SPILL_MAX_BYTES: int(4096, 1024 ** 4, 1024 * 1024 * 1024),
  /** Longest wait between two attempts to write queued audit entries, ms (attempts back off from 100 ms to this). */
  AUDIT_RETRY_MAX_MS: int(10, 600_000, 30_000),
  /** Store feedback `userComment` text (free text a clinician typed; it may contain PHI). Off: only `has_comment` is stored. */
  FEEDBACK_STORE_COMMENTS: onOff('off'),
  /** How often the in-memory suppression index is refreshed from the database (other instances' writes), seconds. */
  STORAGE_SYNC_INTERVAL_S: int(1, 3600, 30),
  /** PostgreSQL: connection timeout, ms. */
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 60_000, 2000),
  /** PostgreSQL: longest a query may take before it fails, ms (migrations are exempt). */
  DATABASE_QUERY_TIMEOUT_MS: int(100, 600_000, 10_000),
  /** PostgreSQL: connection pool size. */
  DATABASE_POOL_MAX: int(1, 100, 10),
  /** SQLite: how long a write waits for another process's lock before failing, ms (the wait blocks the event loop). */
  SQLITE_BUSY_TIMEOUT_MS: int(0, 60_000, 1000),
});

export interface StorageOptions {
  suppression: boolean;
  suppressionDefaultDays: number;
  orderSignDedup: boolean;
  orderSignDedupWindowMin: number;
  analyticsRepeatWindowS: number;
  auditQueueMaxBytes: number;
  auditSpill: boolean;
  /** Absent: beside the SQLite file (src/storage/index.ts). */
  auditSpillFile?: string;
  auditSpillMaxBytes: number;
  auditRetryMaxMs: number;
  feedbackStoreComments: boolean;
  syncIntervalS: number;
  databaseConnectTimeoutMs: number;
  databaseQueryTimeoutMs: number;
  databasePoolMax: number;
  sqliteBusyTimeoutMs: number;
}

/** Storage options from already-validated variables. */
export function storageOptionsFrom(e: z.infer<typeof StorageEnv>): StorageOptions {
  return Object.freeze({
    suppression: e.SUPPRESSION,
    suppressionDefaultDays: e.SUPPRESSION_DEFAULT_DAYS,
    orderSignDedup: e.ORDER_SIGN_DEDUP,
    orderSignDedupWindowMin: e.ORDER_SIGN_DEDUP_WINDOW_MIN,
    analyticsRepeatWindowS: e.ANALYTICS_REPEAT_WINDOW_S,
    auditQueueMaxBytes: e.AUDIT_QUEUE_MAX_BYTES,
    auditSpill: e.AUDIT_SPILL,
    ...(e.AUDIT_SPILL_FILE ? { auditSpillFile: e.AUDIT_SPILL_FILE } : {}),
    auditSpillMaxBytes: e.AUDIT_SPILL_MAX_BYTES,
    auditRetryMaxMs: e.AUDIT_RETRY_MAX_MS,
    feedbackStoreComments: e.FEEDBACK_STORE_COMMENTS,
    syncIntervalS: e.STORAGE_SYNC_INTERVAL_S,
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    databaseQueryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
    databasePoolMax: e.DATABASE_POOL_MAX,
    sqliteBusyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
  });
}

/** Read and validate the storage options on their own (tests); throws an Error naming every bad variable. */
export function readStorageOptions(env: NodeJS.ProcessEnv = process.env): StorageOptions {
  const parsed = StorageEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid storage configuration:\n${parsed.error.issues.map((i) => `  - ${issueText(i)}`).join('\n')}`);
  }
  return storageOptionsFrom(parsed.data);
}
