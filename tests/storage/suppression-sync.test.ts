/**
 * The suppression index's refresh (src/storage/suppression-sync.ts), on both backends: a cursor on the insertion
 * order of card_audit reads only rows inserted since the previous refresh, whatever their shown_at (other replicas'
 * rows arrive late), in chunks; a hole in the numbers (an insert not committed yet) is read once it fills; a restart
 * resumes; the start-up load of the window runs in the background, and until it has loaded a card, that card is
 * shown at order-sign, never hidden.
 */
import { randomUUID } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/index.js';
import { openDatabase } from '../../src/storage/connection.js';
import { migrateToLatest } from '../../src/storage/migrations.js';
import { SuppressionIndex } from '../../src/storage/suppression.js';
import { CURSOR_GAP_GRACE_MS, SuppressionSync } from '../../src/storage/suppression-sync.js';
import { BACKENDS, openStorage, silentLogger, testOptions, type TestDatabase } from './backends.js';
import { SERVICE, UNSCOPED, auditEntry, draft } from './harness.js';

const HOUR = 3_600_000;
const COLUMNS = [
  'card_uuid', 'service_id', 'rule_id', 'rule_version', 'concern', 'hook', 'hook_instance', 'indicator',
  'patient_hash', 'drug_key', 'order_keys', 'suggestion_uuids', 'shown_at', 'client_issuer', 'client_tenant', 'fhir_server',
];

describe.each(BACKENDS)('suppression index refresh on $name', (backend) => {
  let db: TestDatabase;
  let storage: Storage;
  /** Another replica writing to the same database. */
  let replica: Storage;

  beforeEach(async () => {
    db = await backend.create();
    storage = await openStorage(db.config, { syncChunkRows: 4 });
    replica = await openStorage(db.config);
  });
  afterEach(async () => {
    await storage?.close();
    await replica?.close();
    await db?.drop();
  });

  const seqColumn = backend.name === 'postgres' ? 'seq' : 'rowid';

  /** A statement that writes (the helper's SQLite handle is read-only). */
  async function write(text: string, params: unknown[]): Promise<void> {
    if (backend.name === 'postgres') {
      await db.query(text, params);
      return;
    }
    const handle = new SqliteDatabase(db.env.SQLITE_PATH!);
    try {
      handle.prepare(text).run(...params);
    } finally {
      handle.close();
    }
  }

  /** The replica shows an info card at order-select for this order (shown `ageMs` ago) and commits it. */
  async function shownElsewhere(order: string, ageMs = 1000): Promise<string> {
    const cardUuid = randomUUID();
    replica.audit.recordCards([auditEntry({ cardUuid, indicator: 'info', hook: 'order-select', orderKeys: [order], shownAt: new Date(Date.now() - ageMs) })]);
    await replica.audit.flush();
    return cardUuid;
  }

  /** Does this instance show the info card at order-sign for this order? */
  function signShows(order: string): boolean {
    const candidate = { draft: draft('ldn-opioid', 'info'), drugKey: 'naltrexone+oxycodone', orderKeys: [order] };
    return storage.suppression.filter([candidate], { serviceId: SERVICE, hook: 'order-sign', patientHash: 'patient-a', scope: UNSCOPED, now: new Date() }).length === 1;
  }

  const head = async (): Promise<number> => Number((await db.query<{ n: unknown }>(`select max(${seqColumn}) as n from card_audit`))[0]!.n);

  it('reads only the rows inserted since the previous refresh, in chunks, and advances its cursor over them', async () => {
    await storage.sync.warmed();
    const orders = Array.from({ length: 10 }, (_, i) => `order-${i}`);
    for (const o of orders) await shownElsewhere(o);
    expect(orders.every(signShows)).toBe(true); // not refreshed yet

    const before = storage.sync.state().rowsRead;
    await storage.sync.refresh();
    expect(storage.sync.state().rowsRead - before).toBe(10); // one aggregated row per order, read in chunks of 4
    expect(storage.sync.state().cursor).toBe(await head());
    expect(orders.some(signShows)).toBe(false);

    await storage.sync.refresh();
    expect(storage.sync.state().rowsRead - before).toBe(10); // nothing new: nothing read

    await shownElsewhere('order-new');
    await storage.sync.refresh();
    expect(storage.sync.state().rowsRead - before).toBe(11);
    expect(signShows('order-new')).toBe(false);
  });

  it('picks up rows that arrive late with an older shown_at (a replica that was cut off), within the window', async () => {
    await storage.sync.warmed();
    await shownElsewhere('order-now');
    await storage.sync.refresh();
    // Written after this instance's cursor passed, but shown two hours ago: the cursor is insertion order, not time.
    await shownElsewhere('order-late', 2 * HOUR);
    await shownElsewhere('order-too-old', 13 * HOUR); // outside ORDER_SIGN_DEDUP_WINDOW_MIN (720)
    await storage.sync.refresh();
    expect(signShows('order-late')).toBe(false);
    expect(signShows('order-too-old')).toBe(true);
  });

  it('re-reads a hole in the insertion numbers (an insert committed after a later one) until it fills', async () => {
    await storage.sync.warmed();
    const uuids = [];
    for (const o of ['order-1', 'order-2', 'order-3', 'order-4']) uuids.push(await shownElsewhere(o));
    // Take the second row away as if its transaction had not committed yet.
    const [row] = await db.query<Record<string, unknown>>(`select ${seqColumn} as n, ${COLUMNS.join(', ')} from card_audit where card_uuid = ?`, [uuids[1]]);
    await write('delete from card_audit where card_uuid = ?', [uuids[1]]);
    await storage.sync.refresh();
    expect(signShows('order-1')).toBe(false);
    expect(signShows('order-4')).toBe(false);
    expect(signShows('order-2')).toBe(true);
    expect(storage.sync.state().cursor).toBeLessThan(Number(row!.n)); // settled below the hole

    // Now it commits, with the number it was given before the later rows.
    const values = COLUMNS.map((c) => (row![c] instanceof Date ? (row![c] as Date).toISOString() : row![c]));
    const overriding = backend.name === 'postgres' ? 'overriding system value ' : '';
    await write(`insert into card_audit (${seqColumn}, ${COLUMNS.join(', ')}) ${overriding}values (${['?', ...COLUMNS.map(() => '?')].join(', ')})`, [Number(row!.n), ...values]);
    await storage.sync.refresh();
    expect(signShows('order-2')).toBe(false);
    expect(storage.sync.state().cursor).toBe(await head());
  });

  it('steps over a hole older than CURSOR_GAP_GRACE_MS (a number never used: a rolled-back insert)', async () => {
    const link = openDatabase(db.config, testOptions(), silentLogger);
    try {
      await migrateToLatest(link);
      const settings = { suppression: true, orderSignDedup: true, orderSignDedupWindowMs: 720 * 60_000 };
      const sync = new SuppressionSync(link.db, link.kind, new SuppressionIndex(settings, silentLogger), settings, silentLogger, 4);
      const now = Date.now();
      await sync.refresh(new Date(now));
      await sync.warmed();
      const uuids = [];
      for (const o of ['order-1', 'order-2', 'order-3']) uuids.push(await shownElsewhere(o));
      await write('delete from card_audit where card_uuid = ?', [uuids[1]]);
      await sync.refresh(new Date(now + 1000));
      const below = sync.state().cursor!;
      await sync.refresh(new Date(now + CURSOR_GAP_GRACE_MS / 2));
      expect(sync.state().cursor).toBe(below); // still waiting for it
      await sync.refresh(new Date(now + 1000 + CURSOR_GAP_GRACE_MS + 1000));
      expect(sync.state().cursor).toBe(await head());
      expect(below).toBeLessThan(await head());
      await sync.close();
    } finally {
      await link.close();
    }
  });

  it('resumes after a restart: rows from before it are loaded, rows after it are read by the cursor', async () => {
    await shownElsewhere('order-before');
    await storage.sync.refresh();
    await storage.close();
    await shownElsewhere('order-while-down');
    storage = await openStorage(db.config, { syncChunkRows: 4 });
    await storage.sync.warmed();
    expect(signShows('order-before')).toBe(false);
    expect(signShows('order-while-down')).toBe(false);
    await shownElsewhere('order-after');
    expect(signShows('order-after')).toBe(true);
    await storage.sync.refresh();
    expect(signShows('order-after')).toBe(false);
    expect(storage.sync.state().cursor).toBe(await head());
  });

  it('starts and is ready before the window has loaded; a card not loaded yet is shown, never hidden', async () => {
    for (let i = 0; i < 40; i++) await shownElsewhere(`order-${i}`);
    await storage.close();
    storage = await openStorage(db.config, { syncChunkRows: 4 });
    // The last order is in the last chunk of ten: not loaded when start-up returns.
    expect(storage.sync.state().warm).toBe(false);
    expect(signShows('order-39')).toBe(true);
    const ready = await storage.readiness();
    expect(ready.ok).toBe(true);
    await storage.sync.warmed();
    expect(storage.sync.state()).toMatchObject({ warm: true, warmed: 40, warmTotal: 40 });
    expect(signShows('order-39')).toBe(false);
    expect(signShows('order-0')).toBe(false);
    expect((await storage.readiness()).detail).not.toMatch(/warming/);
  });

  it('says "warming" in its readiness detail while the window loads', async () => {
    for (let i = 0; i < 40; i++) await shownElsewhere(`order-${i}`);
    await storage.close();
    storage = await openStorage(db.config, { syncChunkRows: 1 });
    expect(storage.sync.state().warm).toBe(false);
    // One readiness probe (one query) against forty sequential chunk queries with a yield between each.
    expect(await storage.readiness()).toMatchObject({ ok: true, detail: expect.stringMatching(/suppression index warming \(\d+\/40 rows\)/) });
    await storage.sync.warmed();
    expect((await storage.readiness()).detail).not.toMatch(/warming/);
  });
});
