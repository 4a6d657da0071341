/**
 * The card audit log: one row per card returned, so feedback and analytics join to the rule that made it.
 * Recording never blocks a hook call and never throws: entries go to a bounded in-memory queue that a
 * background writer drains. When the database cannot be written the writer retries with exponential backoff;
 * past AUDIT_QUEUE_MAX_BYTES the oldest entries go to a local spill file (src/storage/audit-spill.ts), replayed
 * once the database answers; only what the spill file cannot hold is dropped, counted and logged. Rows hold
 * hashes, never raw ids.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Insertable } from 'kysely';
import type { Logger } from '../observability/logger.js';
import { StorageUnavailableError, type DatabaseHealth } from './errors.js';
import type { DatabaseLink } from './connection.js';
import { toDbTime, type CardAuditTable } from './schema.js';
import type { AuditSpill } from './audit-spill.js';
import { stageSpan } from '../observability/tracing.js';
import type { AuditEntry } from './audit-entry.js';

export type { AuditEntry } from './audit-entry.js';

export interface AuditLog {
  /** Queue entries for writing; returns at once, never throws. */
  recordCards(entries: AuditEntry[]): void;
  /** Write everything queued now; rejects with StorageUnavailableError when the database cannot be written. */
  flush(): Promise<void>;
}

/** Rows per INSERT: well under both dialects' bound-parameter limits. */
const BATCH_SIZE = 200;
/**
 * Entries gather this long before a write, so a busy service commits a few transactions a second instead of one
 * per hook call (each SQLite commit is an fsync on the event loop). Feedback flushes the queue first, so a card
 * shown a moment ago is still known; audit rows are not promised to survive a crash (feedback rows are).
 */
const GATHER_MS = 50;
const FIRST_RETRY_MS = 100;
/** How much goes to the spill file at a time once the queue is past its bound. */
const SPILL_CHUNK_BYTES = 1024 * 1024;

/** The card_audit columns in insert order, and one entry as the row written to them. */
const AUDIT_COLUMNS = [
  'card_uuid', 'service_id', 'rule_id', 'rule_version', 'concern', 'hook', 'hook_instance', 'indicator',
  'patient_hash', 'drug_key', 'order_keys', 'suggestion_uuids', 'shown_at', 'client_issuer', 'client_tenant', 'fhir_server',
] as const satisfies readonly (keyof CardAuditTable)[];

function auditRow(e: AuditEntry): Insertable<CardAuditTable> {
  return {
    card_uuid: e.cardUuid,
    service_id: e.serviceId,
    rule_id: e.ruleId,
    rule_version: e.ruleVersion,
    concern: e.concern,
    hook: e.hook,
    hook_instance: e.hookInstance,
    indicator: e.indicator,
    patient_hash: e.patientHash,
    drug_key: e.drugKey,
    order_keys: JSON.stringify(e.orderKeys),
    suggestion_uuids: JSON.stringify(e.suggestionUuids),
    shown_at: toDbTime(e.shownAt),
    client_issuer: e.scope.issuer,
    client_tenant: e.scope.tenant,
    fhir_server: e.scope.fhirServer,
  };
}

/** Writes one batch of audit rows; a row already written (a retried batch that had in fact committed) is skipped. */
export type AuditWriter = (entries: readonly AuditEntry[]) => Promise<void>;

/**
 * The audit writer for a database. PostgreSQL: one multi-row INSERT per batch (one round trip). SQLite: one
 * prepared statement run per row inside one transaction, on kysely's connection: kysely would build and prepare
 * a new statement for every batch size, and on SQLite that work runs on the event loop between hook calls (it was
 * ~12% of the service's CPU under load; the prepared statement costs a third of it). Prepared on first use, after
 * the migrations have created the table.
 */
export function auditWriter(link: Pick<DatabaseLink, 'db' | 'sqlite'>): AuditWriter {
  const write = untracedAuditWriter(link);
  return (entries) => stageSpan('storage.audit', { 'ldn_cds.rows': entries.length }, () => write(entries));
}

function untracedAuditWriter(link: Pick<DatabaseLink, 'db' | 'sqlite'>): AuditWriter {
  const { db, sqlite } = link;
  if (!sqlite) {
    return async (entries) => {
      if (entries.length === 0) return;
      await db.insertInto('card_audit').values(entries.map(auditRow)).onConflict((oc) => oc.column('card_uuid').doNothing()).execute();
    };
  }
  let insertAll: ((entries: readonly AuditEntry[]) => void) | undefined;
  const prepare = (handle: SqliteDatabase.Database) => {
    const insert = handle.prepare<unknown[]>(
      `insert into card_audit (${AUDIT_COLUMNS.join(', ')}) values (${AUDIT_COLUMNS.map(() => '?').join(', ')}) on conflict (card_uuid) do nothing`,
    );
    return handle.transaction((entries: readonly AuditEntry[]) => {
      for (const e of entries) {
        const row = auditRow(e);
        insert.run(AUDIT_COLUMNS.map((c) => row[c]));
      }
    });
  };
  return async (entries) => {
    if (entries.length === 0) return;
    await db.connection().execute(async () => {
      insertAll ??= prepare(sqlite);
      insertAll(entries);
    });
  };
}

export interface AuditQueueDeps {
  /** Writes one batch (runs migrations first when they are still pending). */
  write(entries: readonly AuditEntry[]): Promise<void>;
  health: DatabaseHealth;
  /** Bound of the in-memory queue, in approximate serialised bytes (entryBytes). */
  maxBytes: number;
  /** Where entries past the bound go while the database cannot take them; absent: they are dropped (counted). */
  spill?: AuditSpill;
  retryMaxMs: number;
  logger: Logger;
}

/**
 * An entry's size as a line of the spill file, estimated without serialising it (the hook path pays this):
 * the variable strings plus the fixed keys and punctuation (measured: within 1% of JSON.stringify).
 * In the heap an entry takes about 3.5 times this (2.2 KB for a 650-byte entry, measured on Node 20).
 */
export function entryBytes(e: AuditEntry): number {
  let n = 268 + e.cardUuid.length + e.serviceId.length + e.ruleId.length + e.ruleVersion.length + e.concern.length + e.hook.length;
  n += e.hookInstance.length + e.indicator.length + e.patientHash.length + e.drugKey.length;
  n += e.scope.issuer.length + e.scope.tenant.length + e.scope.fhirServer.length;
  for (const k of e.orderKeys) n += k.length + 3;
  for (const u of e.suggestionUuids) n += u.length + 3;
  return n;
}

export class AuditQueue implements AuditLog {
  private queue: AuditEntry[] = [];
  /** Sum of entryBytes over the queue. */
  private queueBytes = 0;
  /** Entries ever queued: the entry at queue[i] is number `pushed - queue.length + i` (the queue is FIFO). */
  private pushed = 0;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The pending timer is a back-off retry (not the gather delay). */
  private backingOff = false;
  private consecutiveFailures = 0;
  private droppedTotal = 0;
  /** One "dropping" warning per write attempt, not one per entry. */
  private dropWarned = false;
  /** One "spilling" warning per outage. */
  private spillWarned = false;
  private closed = false;

  constructor(private readonly deps: AuditQueueDeps) {}

  recordCards(entries: AuditEntry[]): void {
    if (entries.length === 0) return;
    if (this.closed) {
      this.drop(entries.length, 'storage closed');
      return;
    }
    this.queue.push(...entries);
    for (const e of entries) this.queueBytes += entryBytes(e);
    this.pushed += entries.length;
    this.enforceBound();
    if (!this.draining && !this.timer) this.schedule(this.queue.length >= BATCH_SIZE ? 0 : GATHER_MS);
  }

  /**
   * Write what was queued before this call; entries queued meanwhile are left to the background writer, so a
   * flush ends under sustained load (it used to chase the queue until traffic stopped).
   */
  async flush(): Promise<void> {
    const mark = this.pushed;
    // An attempt already under way may have started before the database came back: let it settle, then try anew.
    while (this.draining) await this.draining.catch(() => undefined);
    if (this.pendingBefore(mark) === 0 && this.spilledBytes === 0) return;
    this.draining = this.attempt(mark).finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** The database answered another operation after an outage: retry now instead of at the end of the back-off. */
  retrySoon(): void {
    if (!this.backingOff || this.closed) return;
    this.consecutiveFailures = 0;
    this.schedule(0);
  }

  get depth(): number {
    return this.queue.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  get depthBytes(): number {
    return this.queueBytes;
  }

  /** Bytes waiting in the spill file. */
  get spilledBytes(): number {
    return this.deps.spill?.bytes ?? 0;
  }

  /**
   * Stop retrying, try one last write; what is still queued goes to the spill file (replayed at the next start),
   * or without one is counted as dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
    const left = this.take(this.queue.length);
    if (left.length && this.deps.spill) this.deps.spill.append(left);
    else if (left.length) this.drop(left.length, 'storage closed');
    await this.deps.spill?.settled();
  }

  /** Spilled entries left by an earlier run: replay them as soon as the database answers. */
  start(): void {
    if (this.spilledBytes > 0 && !this.timer && !this.draining) this.schedule(0);
  }

  /** How many entries queued before `mark` are still in memory. */
  private pendingBefore(mark: number): number {
    return Math.max(0, this.queue.length - (this.pushed - mark));
  }

  /** One write attempt of the entries queued before `mark`; on failure, schedules the next one with backoff. */
  private async attempt(mark: number): Promise<void> {
    try {
      await this.drain(mark);
    } catch (err) {
      this.consecutiveFailures += 1;
      this.deps.health.failed('audit write', err, 'write');
      if (!this.closed) this.schedule(Math.min(this.deps.retryMaxMs, FIRST_RETRY_MS * 2 ** (this.consecutiveFailures - 1)), true);
      throw new StorageUnavailableError('audit write', err);
    }
    this.consecutiveFailures = 0;
    this.spillWarned = false;
    this.deps.health.succeeded();
    // A write went through: a back-off timer left from the outage must not hold the rest back.
    if (this.backingOff) this.cancelTimer();
    if (this.queue.length && !this.timer && !this.closed) this.schedule(this.queue.length >= BATCH_SIZE ? 0 : GATHER_MS);
  }

  /** The spill file first (it holds the oldest entries), then the memory entries queued before `mark`. */
  private async drain(mark: number): Promise<void> {
    if (this.spilledBytes > 0) await this.deps.spill!.replay((batch) => this.deps.write(batch), BATCH_SIZE);
    for (let n = this.pendingBefore(mark); n > 0; n = this.pendingBefore(mark)) {
      const batch = this.take(Math.min(n, BATCH_SIZE));
      try {
        await this.deps.write(batch);
      } catch (err) {
        this.queue.unshift(...batch);
        for (const e of batch) this.queueBytes += entryBytes(e);
        this.enforceBound();
        throw err;
      }
    }
  }

  /** Remove the `n` oldest entries from memory. */
  private take(n: number): AuditEntry[] {
    const taken = this.queue.splice(0, n);
    for (const e of taken) this.queueBytes -= entryBytes(e);
    return taken;
  }

  private schedule(delayMs: number, backOff = false): void {
    clearTimeout(this.timer);
    this.backingOff = backOff;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.backingOff = false;
      this.dropWarned = false;
      this.flush().catch(() => undefined); // a failure is already logged, counted and rescheduled by attempt()
    }, delayMs);
    this.timer.unref();
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.backingOff = false;
  }

  /**
   * Past the byte bound, the oldest entries leave memory: to the spill file when there is one (a chunk of up to
   * SPILL_CHUNK_BYTES below the bound, so appends are few and each serialises only ~1,600 entries on the event
   * loop), else dropped and counted.
   */
  private enforceBound(): void {
    if (this.queueBytes <= this.deps.maxBytes) return;
    const target = this.deps.spill ? this.deps.maxBytes - Math.min(this.deps.maxBytes / 2, SPILL_CHUNK_BYTES) : this.deps.maxBytes;
    let n = 0;
    for (let bytes = this.queueBytes; bytes > target && n < this.queue.length; n++) bytes -= entryBytes(this.queue[n]!);
    const oldest = this.take(n);
    if (this.deps.spill) {
      this.deps.spill.append(oldest);
      if (!this.spillWarned) {
        this.spillWarned = true;
        this.deps.logger.warn({ spilledNow: oldest.length, queueMaxBytes: this.deps.maxBytes }, 'card audit queue full: oldest entries spilled to the local file, replayed when the database is back');
      }
    } else {
      this.drop(oldest.length, 'queue full');
    }
  }

  /** Entries lost for good (spill file full or unwritable, or no spill file and the queue full, or closed). */
  private drop(count: number, why: string): void {
    this.droppedTotal += count;
    if (this.dropWarned && why !== 'storage closed') return;
    this.dropWarned = true;
    this.deps.logger.warn({ why, droppedNow: count, droppedTotal: this.droppedTotal, queueMaxBytes: this.deps.maxBytes }, 'card audit entries dropped (not written to the database)');
  }

  /** For AuditSpill: entries it could not keep. */
  readonly lost = (count: number, why: string): void => this.drop(count, why);
}
