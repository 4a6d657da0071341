/**
 * Durable storage for the card audit log, feedback and suppression: a SQLite file by default, PostgreSQL when
 * DATABASE_URL is set, one kysely query code for both, versioned migrations run at start-up.
 *
 * The database being down never stops hook calls: audit entries queue in memory (bounded in bytes, then spilled to
 * a local file, replayed), the
 * suppression filter works from its in-memory index, feedback and analytics reject with StorageUnavailableError
 * (503), and readiness reports it. Unreachable at start-up: the service starts anyway, not ready, and migrates
 * as soon as the database answers. See docs/storage.md.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { loadOverrideReasons } from '../knowledge/override-reasons.js';
import type { Logger } from '../observability/logger.js';
import { queryRuleAnalytics, type ReportRange, type RuleAnalytics } from './analytics.js';
import { AuditSpill } from './audit-spill.js';
import { AuditQueue, auditWriter, type AuditEntry, type AuditLog } from './audit.js';
import { openDatabase, type StorageKind } from './connection.js';
import { DatabaseHealth, StorageUnavailableError, describeDbError } from './errors.js';
import { createFeedbackStore, type FeedbackStore, type OverrideReasonLookup } from './feedback.js';
import { SchemaGate } from './migrations.js';
import type { StorageOptions } from '../config/storage.js';
import { SuppressionIndex, type Suppression, type SuppressionSettings } from './suppression.js';
import { SuppressionSync, type SyncProgress } from './suppression-sync.js';

export type { AuditEntry, AuditLog } from './audit.js';
export type { ClientIdentity, ClientScope } from './scope.js';
export { clientScope, feedbackClient, UNAUTHENTICATED_ISSUER } from './scope.js';
export type { FeedbackClient, FeedbackItem, FeedbackStore, OverrideReasonLookup, OverrideReasonPolicy, SaveResult } from './feedback.js';
export type { Suppression, SuppressionCandidate, SuppressionContext } from './suppression.js';
export type { ReportRange, RuleAnalytics } from './analytics.js';
export type { StorageOptions } from '../config/storage.js';
export { readStorageOptions } from '../config/storage.js';
export { StorageUnavailableError } from './errors.js';

export interface Storage {
  kind: StorageKind;
  /** Never blocks, never throws; queued (bounded, retried) while the database is down. */
  audit: AuditLog;
  /** One transaction per batch, resolved after commit; rejects with StorageUnavailableError. */
  feedback: FeedbackStore;
  /** In-memory: the hook path does no I/O. */
  suppression: Suppression;
  /** Rejects with StorageUnavailableError. */
  analytics(range: ReportRange): Promise<RuleAnalytics[]>;
  /**
   * Delete the suppressions of these patients (keyed hashes) and forget what the index holds back for them;
   * resolves to the number of suppression rows deleted. For the playground's reset of its synthetic patients only.
   */
  forgetPatients(patientHashes: readonly string[]): Promise<number>;
  readiness(): Promise<{ ok: boolean; detail: string }>;
  /** The suppression index's refresh cursor and start-up load (tests, bench). */
  sync: { state(): SyncProgress; warmed(): Promise<void>; refresh(): Promise<void> };
  close(): Promise<void>;
  stats(): { auditQueueDepth: number; auditSpilledBytes: number; auditDropped: number; writeFailures: number };
}

export interface StorageDeps {
  logger: Logger;
  /** Default: config.storage. */
  options?: StorageOptions;
  /** Override reasons (the knowledge pack's catalogue); default: loaded from cds-services/override-reasons.yaml. */
  overrideReasons?: OverrideReasonLookup;
  /** Rows per suppression-index query (default SYNC_CHUNK_ROWS of the backend; tests make it small to see the chunking). */
  syncChunkRows?: number;
}

/**
 * Open the database and run the migrations. Throws when the SQLite file cannot be opened or a migration fails
 * on a reachable database; a database that cannot be reached starts the storage degraded (not ready, retrying).
 */
export async function createStorage(config: Config, deps: StorageDeps): Promise<Storage> {
  const options = deps.options ?? config.storage;
  const logger = deps.logger.child({ component: 'storage' });
  const reasons = deps.overrideReasons ?? overrideReasonsBesideServices(config, logger);
  const link = openDatabase(config, options, logger);
  const health = new DatabaseHealth(logger);
  const gate = new SchemaGate(link, (applied) => {
    if (applied.length) logger.info({ database: link.label, migrations: applied }, 'database migrated');
  });
  const settings: SuppressionSettings = {
    suppression: options.suppression,
    orderSignDedup: options.orderSignDedup,
    orderSignDedupWindowMs: options.orderSignDedupWindowMin * 60_000,
  };
  const index = new SuppressionIndex(settings, logger);
  const writeAudit = auditWriter(link);
  const spillFile = auditSpillFile(config, options);
  // The spill reports its losses to the queue (called only once both exist: on append or replay).
  const spill = spillFile ? new AuditSpill(spillFile, options.auditSpillMaxBytes, (n, why) => queue.lost(n, why)) : undefined;
  const queue = new AuditQueue({
    write: async (entries) => {
      await gate.ready();
      await writeAudit(entries);
    },
    health,
    maxBytes: options.auditQueueMaxBytes,
    ...(spill ? { spill } : {}),
    retryMaxMs: options.auditRetryMaxMs,
    logger,
  });
  health.onRecovered(() => queue.retrySoon());
  queue.start();
  const feedback = createFeedbackStore({
    db: link.db,
    gate,
    flushAudit: () => queue.flush(),
    health,
    reasons,
    index,
    storeComments: options.feedbackStoreComments,
    suppressionDefaultDays: options.suppressionDefaultDays,
    logger,
  });
  const sync = new SuppressionSync(link.db, link.kind, index, settings, logger, deps.syncChunkRows);
  const syncIndex = async (): Promise<void> => {
    await gate.ready();
    await sync.refresh(new Date());
    health.succeeded();
  };

  try {
    await link.probe();
  } catch (err) {
    health.failed('start-up', err, 'read');
    logger.error({ database: link.label, problem: describeDbError(err) }, 'database unreachable at start-up: starting not ready, retrying in the background');
  }
  if (health.isUp) {
    try {
      await syncIndex(); // runs the migrations first; the order-select window then loads in the background
    } catch (err) {
      await link.close();
      throw err;
    }
    logger.info({ database: link.label }, 'storage ready');
  }
  // Refreshes the index from other instances' writes; while the database is down it is also the start-up retry.
  const syncTimer = setInterval(() => {
    syncIndex().catch((err: unknown) => health.failed('suppression index refresh', err, 'read'));
  }, options.syncIntervalS * 1000);
  syncTimer.unref();

  const auditSummary = (): string => `audit queue ${queue.depth}, spilled ${queue.spilledBytes} bytes, dropped ${queue.dropped}`;
  // Ready while the window loads (cards not seen yet are shown, never hidden), and saying so.
  const warmSummary = (): string => {
    const s = sync.state();
    return !settings.orderSignDedup || s.warm ? '' : `; suppression index warming (${s.warmed}/${s.warmTotal} rows)`;
  };

  return {
    kind: link.kind,
    audit: {
      recordCards(entries: AuditEntry[]) {
        index.noteShown(entries);
        queue.recordCards(entries);
      },
      flush: () => queue.flush(),
    },
    feedback,
    suppression: index,
    async forgetPatients(patientHashes) {
      if (patientHashes.length === 0) return 0;
      await gate.ready();
      const result = await link.db.deleteFrom('suppression').where('patient_hash', 'in', [...patientHashes]).executeTakeFirst();
      index.forgetPatients(new Set(patientHashes));
      return Number(result.numDeletedRows);
    },
    async analytics(range) {
      try {
        await queue.flush(); // cards shown a moment ago are counted too (only what was queued before this call)
        await gate.ready();
        const rows = await queryRuleAnalytics(link.db, range, { kind: link.kind, repeatWindowMs: options.analyticsRepeatWindowS * 1000 });
        health.succeeded();
        return rows;
      } catch (err) {
        health.failed('analytics', err, 'read');
        throw new StorageUnavailableError('analytics', err);
      }
    },
    async readiness() {
      try {
        await gate.ready();
        await link.probe();
        health.succeeded();
        return { ok: true, detail: `${link.kind}: ok; ${auditSummary()}${warmSummary()}` };
      } catch (err) {
        health.failed('readiness probe', err, 'read');
        return { ok: false, detail: `${link.kind}: unavailable (${errorCode(err)}); ${auditSummary()}` };
      }
    },
    sync: { state: () => sync.state(), warmed: () => sync.warmed(), refresh: syncIndex },
    async close() {
      clearInterval(syncTimer);
      await sync.close();
      await queue.close();
      await link.close();
    },
    stats: () => ({ auditQueueDepth: queue.depth, auditSpilledBytes: queue.spilledBytes, auditDropped: queue.dropped, writeFailures: health.writeFailures }),
  };
}

/** Where audit entries spill while the database is down: AUDIT_SPILL_FILE, else beside the SQLite file; none for ':memory:' or AUDIT_SPILL=off. */
function auditSpillFile(config: Config, options: StorageOptions): string | undefined {
  if (!options.auditSpill) return undefined;
  if (options.auditSpillFile) return path.resolve(options.auditSpillFile);
  if (config.sqlitePath === ':memory:' || config.sqlitePath === '') return undefined;
  return path.join(path.dirname(path.resolve(config.sqlitePath)), 'audit-spill.ndjson');
}

/** The knowledge pack's override reasons; without the file no reason acknowledges a card (nothing is suppressed). */
function overrideReasonsBesideServices(config: Config, logger: Logger): OverrideReasonLookup {
  const file = path.join(config.cdsServicesDir, 'override-reasons.yaml');
  if (existsSync(file)) return loadOverrideReasons(file);
  logger.warn({ file }, 'no override-reasons.yaml: no override will suppress a card');
  return { get: () => undefined };
}

/** A driver error code for public readiness output (details, which may name hosts, go to the log only). */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'failed';
}
