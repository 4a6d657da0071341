/**
 * Keeps the in-memory suppression index (suppression.ts) in step with what every replica wrote, at a cost that
 * does not grow with history:
 *  - acknowledged overrides: the unexpired suppressions, read at start (before ready) and at each refresh;
 *  - order-select cards: read by a cursor on the insertion order of card_audit (PostgreSQL `seq`, SQLite `rowid`;
 *    migration 0003), never by shown_at, which arrives late from other replicas. A refresh reads only the rows
 *    inserted since the previous one, in chunks, aggregated by the database to one row per rule, patient, orders and
 *    scope with the latest shown_at;
 *  - the ORDER_SIGN_DEDUP_WINDOW_MIN window of cards already stored at start is loaded in the background, in chunks
 *    (yielding between them), so start-up and readiness do not wait for it. Until it is loaded a card whose
 *    order-select showing is not known yet is shown at order-sign: the index only ever holds back what it has seen.
 *
 * The cursor is "settled" up to the highest number below which every row has been read. A hole in the numbers is
 * an insert still in flight (PostgreSQL hands out numbers before commit, so a concurrent batch can commit after a
 * later one) or a number never used (a rolled-back or conflicting insert): the refresh keeps re-reading from the
 * hole until it fills, or for CURSOR_GAP_GRACE_MS at most (far longer than any insert may run), then skips it.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Logger } from '../observability/logger.js';
import type { StorageKind } from './connection.js';
import { fromDbFlag, fromDbTime, toDbTime, type StorageSchema } from './schema.js';
import { scopeOfRow, type SuppressionIndex, type SuppressionSettings } from './suppression.js';
import { stageSpan } from '../observability/tracing.js';

/**
 * Rows per query. SQLite runs on the event loop: its chunk bounds each stall (~1 ms per 1,000 rows on an idle
 * core). PostgreSQL runs elsewhere: its chunk bounds each query's time and the rows parsed at once.
 */
export const SYNC_CHUNK_ROWS: Record<StorageKind, number> = { sqlite: 1_000, postgres: 5_000 };
/** How long a hole in the insertion numbers is re-read before it is taken as a number never used. */
export const CURSOR_GAP_GRACE_MS = 60_000;
/**
 * The start-up load begins at the first row shown this long before the window: a row inserted before it with a
 * shown_at inside the window (a replica whose clock ran ahead) is not loaded, so at worst an info card repeats.
 */
export const START_MARGIN_MS = 5 * 60_000;

const SELECT_HOOK = 'order-select';

export interface SyncProgress {
  /** The start-up load of the window is done (or was not needed). */
  warm: boolean;
  /** Rows of the window loaded so far at start-up, of how many to read (by insertion number). */
  warmed: number;
  warmTotal: number;
  /** All rows up to this insertion number have been read (undefined before the first sync). */
  cursor: number | undefined;
  /** Aggregated rows the database returned so far (one per rule, patient, orders and scope per query). */
  rowsRead: number;
}

export class SuppressionSync {
  private settled: number | undefined;
  private gapSince: number | undefined;
  private warmup: Promise<void> | undefined;
  private progress = { warm: false, warmed: 0, warmTotal: 0 };
  private rowsRead = 0;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly seq: RawBuilder<number>;
  /** A filter column the query planner must not pick an index for (the insertion-number range is the one to use). */
  private readonly filterOnly: (column: 'hook' | 'shown_at') => RawBuilder<string>;

  constructor(
    private readonly db: Kysely<StorageSchema>,
    kind: StorageKind,
    private readonly index: SuppressionIndex,
    private readonly settings: SuppressionSettings,
    private readonly logger: Logger,
    private readonly chunkRows = SYNC_CHUNK_ROWS[kind],
  ) {
    this.seq = kind === 'postgres' ? sql<number>`seq` : sql<number>`rowid`;
    // SQLite would rather scan the (hook, shown_at) index over the whole window than the rowid range: unary + hides it.
    this.filterOnly = kind === 'postgres' ? (c) => sql<string>`${sql.ref(c)}` : (c) => sql<string>`+${sql.ref(c)}`;
  }

  state(): SyncProgress {
    return { ...this.progress, cursor: this.settled, rowsRead: this.rowsRead };
  }

  /** Resolves when the start-up load of the window is done (tests, bench). */
  async warmed(): Promise<void> {
    await this.warmup;
  }

  /**
   * One refresh: suppressions, then order-select cards inserted since the previous refresh. The first call also
   * starts the background load of the window. Calls never overlap (a second waits for the one running).
   */
  refresh(now: Date): Promise<void> {
    const run = (this.running ?? Promise.resolve()).then(() => stageSpan('storage.suppression_refresh', {}, () => this.refreshOnce(now)));
    const tracked = run.finally(() => {
      if (this.running === tracked) this.running = undefined;
    });
    this.running = tracked;
    return tracked;
  }

  /** Stop the background load (storage closing). */
  async close(): Promise<void> {
    this.closed = true;
    await this.warmup?.catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  private async refreshOnce(now: Date): Promise<void> {
    await this.loadSuppressions(now);
    if (this.settings.orderSignDedup) {
      const head = await this.head();
      if (this.settled === undefined || head < this.settled) {
        // First refresh, or the numbers went back (the table was emptied): load the window in the background.
        if (this.settled !== undefined) this.logger.warn({ cursor: this.settled, head }, 'card_audit insertion numbers went back: reloading the order-select window');
        this.settled = head;
        this.gapSince = undefined;
        this.startWarmup(now, head);
      } else {
        await this.catchUp(now);
      }
    }
    this.index.prune(now);
  }

  private async loadSuppressions(now: Date): Promise<void> {
    const rows = await this.db
      .selectFrom('suppression')
      .select(['rule_id', 'patient_hash', 'drug_key', 'covers_critical', 'expires_at', 'client_issuer', 'client_tenant', 'fhir_server'])
      .where('expires_at', '>', toDbTime(now))
      .execute();
    this.index.noteAcknowledged(
      rows.map((r) => ({ ruleId: r.rule_id, patientHash: r.patient_hash, drugKey: r.drug_key, scope: scopeOfRow(r), coversCritical: fromDbFlag(r.covers_critical), expiresAt: fromDbTime(r.expires_at) })),
    );
  }

  /** The highest insertion number stored (0: none). */
  private async head(): Promise<number> {
    const row = await this.db.selectFrom('card_audit').select(sql<number | string | null>`max(${this.seq})`.as('head')).executeTakeFirst();
    return Number(row?.head ?? 0);
  }

  /** Read rows inserted after the settled cursor, chunk by chunk; advance it over every chunk without holes. */
  private async catchUp(now: Date): Promise<void> {
    const windowStart = new Date(now.getTime() - this.settings.orderSignDedupWindowMs);
    let position = this.settled!;
    let contiguous = true;
    for (;;) {
      const chunk = await this.db
        .selectFrom((eb) =>
          eb.selectFrom('card_audit').select(this.seq.as('n')).where(this.seq, '>', position).orderBy(this.seq).limit(this.chunkRows).as('chunk'),
        )
        .select((eb) => [eb.fn.countAll<number | string>().as('rows'), eb.fn.max<number | string | null>('n').as('last')])
        .executeTakeFirst();
      const rows = Number(chunk?.rows ?? 0);
      if (rows === 0) break;
      const last = Number(chunk!.last);
      await this.readShown(position, last, windowStart);
      if (contiguous && rows === last - position) {
        this.settled = last;
        this.gapSince = undefined;
      } else if (contiguous) {
        contiguous = false;
        this.gapSince ??= now.getTime();
        if (now.getTime() - this.gapSince > CURSOR_GAP_GRACE_MS) {
          // A hole this old is a number never used: step over it.
          this.settled = last;
          this.gapSince = undefined;
          contiguous = true;
        }
      }
      position = last;
      if (rows < this.chunkRows) break;
      await yieldToEventLoop();
    }
  }

  /** The background load of the window: rows up to `head`, from the first one shown in it (minus a margin). */
  private startWarmup(now: Date, head: number): void {
    const windowStart = new Date(now.getTime() - this.settings.orderSignDedupWindowMs);
    this.progress = { warm: false, warmed: 0, warmTotal: 0 };
    const started = performance.now();
    this.warmup = (async () => {
      const first = await this.db
        .selectFrom('card_audit')
        .select(this.seq.as('n'))
        .where('shown_at', '>=', toDbTime(new Date(windowStart.getTime() - START_MARGIN_MS)))
        .orderBy('shown_at')
        .limit(1)
        .executeTakeFirst();
      let position = first ? Number(first.n) - 1 : head;
      this.progress.warmTotal = Math.max(0, head - position);
      while (position < head && !this.closed) {
        const last = Math.min(head, position + this.chunkRows);
        await this.readShown(position, last, windowStart);
        this.progress.warmed = this.progress.warmTotal - (head - last);
        position = last;
        await yieldToEventLoop();
      }
      this.progress.warm = true;
      this.logger.info({ rows: this.progress.warmTotal, ms: Math.round(performance.now() - started) }, 'order-select window loaded into the suppression index');
    })().catch((err: unknown) => {
      // Retried from scratch by the next refresh; until then cards not yet seen are shown.
      this.settled = undefined;
      this.logger.warn({ problem: err instanceof Error ? err.message : String(err) }, 'loading the order-select window failed: retrying at the next refresh');
    });
  }

  /** Order-select cards with insertion numbers in (after, upTo], aggregated by the database, into the index. */
  private async readShown(after: number, upTo: number, windowStart: Date): Promise<void> {
    const shown = await this.db
      .selectFrom('card_audit')
      .select((eb) => ['rule_id', 'patient_hash', 'order_keys', 'client_issuer', 'client_tenant', 'fhir_server', eb.fn.max('shown_at').as('last_shown_at')])
      .where(this.seq, '>', after)
      .where(this.seq, '<=', upTo)
      .where(this.filterOnly('hook'), '=', SELECT_HOOK)
      .where(this.filterOnly('shown_at'), '>=', toDbTime(windowStart))
      .groupBy(['rule_id', 'patient_hash', 'order_keys', 'client_issuer', 'client_tenant', 'fhir_server'])
      .execute();
    this.rowsRead += shown.length;
    this.index.noteShown(
      shown.map((r) => ({ hook: SELECT_HOOK, ruleId: r.rule_id, patientHash: r.patient_hash, orderKeys: JSON.parse(r.order_keys) as string[], scope: scopeOfRow(r), shownAt: fromDbTime(r.last_shown_at) })),
    );
  }
}
