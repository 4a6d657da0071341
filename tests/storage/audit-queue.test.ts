/**
 * The audit queue's logic, with a stand-in writer and fake timers (no database, no wall-clock asserts):
 * a flush under sustained load waits only for what was queued before it began, and the retry back-off of an
 * outage is forgotten as soon as the database answers again.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditQueue, entryBytes, type AuditEntry } from '../../src/storage/audit.js';
import { AuditSpill } from '../../src/storage/audit-spill.js';
import { clientScope } from '../../src/storage/scope.js';
import { DatabaseHealth } from '../../src/storage/errors.js';
import { silentLogger } from './backends.js';
import { auditEntry } from './harness.js';

const entries = (n: number): AuditEntry[] => Array.from({ length: n }, () => auditEntry({ cardUuid: randomUUID() }));

interface FakeDb {
  written: string[];
  writes: number;
  down: boolean;
  /** Called inside each write, before it completes (the test's "traffic" arriving meanwhile). */
  during?: () => void;
}

function queueOver(db: FakeDb, options: { retryMaxMs?: number; health?: DatabaseHealth } = {}): AuditQueue {
  return new AuditQueue({
    async write(batch) {
      db.writes += 1;
      db.during?.();
      await Promise.resolve();
      if (db.down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      db.written.push(...batch.map((e) => e.cardUuid));
    },
    health: options.health ?? new DatabaseHealth(silentLogger),
    maxBytes: 1024 ** 3,
    retryMaxMs: options.retryMaxMs ?? 60_000,
    logger: silentLogger,
  });
}

describe('audit queue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flush ends after writing what was queued before it, while traffic keeps arriving', async () => {
    const db: FakeDb = { written: [], writes: 0, down: false };
    const queue = queueOver(db);
    const before = entries(450);
    queue.recordCards(before);
    // Every write is followed by 200 more entries (sustained load), for far longer than the flush should take.
    let arrivals = 0;
    db.during = () => {
      if (arrivals++ < 1000) queue.recordCards(entries(200));
    };
    await queue.flush();
    for (const e of before) expect(db.written).toContain(e.cardUuid);
    // 450 entries are 3 batches; chasing the queue would have taken the 1,000 arrivals' writes.
    expect(db.writes).toBe(3);
    expect(queue.depth).toBe(600);
    db.during = undefined;
    await queue.close();
  });

  it('a flush waiting on a background write does not chase entries queued after it began either', async () => {
    const db: FakeDb = { written: [], writes: 0, down: false };
    const queue = queueOver(db);
    queue.recordCards(entries(10));
    await vi.advanceTimersByTimeAsync(50); // the background write starts
    let arrivals = 0;
    db.during = () => {
      if (arrivals++ < 1000) queue.recordCards(entries(200));
    };
    queue.recordCards(entries(5));
    await queue.flush();
    expect(db.writes).toBeLessThan(10);
    db.during = undefined;
    await queue.close();
  });

  it('forgets the outage back-off once a write succeeds: later entries are written after the usual gather delay', async () => {
    const db: FakeDb = { written: [], writes: 0, down: true };
    const queue = queueOver(db, { retryMaxMs: 60_000 });
    queue.recordCards(entries(1));
    // Fail long enough for the back-off to reach its 60 s ceiling.
    for (let i = 0; i < 12; i++) await vi.advanceTimersByTimeAsync(60_000);
    expect(db.written).toHaveLength(0);
    db.down = false;
    await queue.flush(); // feedback's flush finds the database back
    expect(db.written).toHaveLength(1);
    const later = entries(3);
    queue.recordCards(later);
    await vi.advanceTimersByTimeAsync(100);
    expect(db.written).toEqual(expect.arrayContaining(later.map((e) => e.cardUuid)));
    await queue.close();
  });

  it('retries at once when another operation finds the database back (no wait for the back-off)', async () => {
    const health = new DatabaseHealth(silentLogger);
    const db: FakeDb = { written: [], writes: 0, down: true };
    const queue = queueOver(db, { retryMaxMs: 60_000, health });
    health.onRecovered(() => queue.retrySoon());
    const queued = entries(2);
    queue.recordCards(queued);
    for (let i = 0; i < 12; i++) await vi.advanceTimersByTimeAsync(60_000);
    expect(health.isUp).toBe(false);
    db.down = false;
    health.succeeded(); // e.g. the readiness probe or the index refresh
    await vi.advanceTimersByTimeAsync(10);
    expect(db.written).toEqual(queued.map((e) => e.cardUuid));
    await queue.close();
  });
});

describe('audit spill file', () => {
  const tmpFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'ldn-cds-spill-')), 'audit-spill.ndjson');

  it('estimates an entry as its spilled line within 10%', () => {
    const e = auditEntry({ cardUuid: randomUUID(), suggestionUuids: [randomUUID(), randomUUID()], orderKeys: ['a'.repeat(64)], scope: clientScope({ iss: 'https://ehr.example.org', tenant: 't1' }, 'https://fhir.example.org/r4') });
    const line = Buffer.byteLength(`${JSON.stringify(e)}\n`);
    expect(Math.abs(entryBytes(e) - line) / line).toBeLessThan(0.1);
  });

  it('keeps to its byte bound and counts exactly the entries that did not fit', async () => {
    const lost: number[] = [];
    const sample = entries(1)[0]!;
    const lineBytes = Buffer.byteLength(`${JSON.stringify(sample)}\n`);
    const spill = new AuditSpill(tmpFile(), lineBytes * 10 + 5, (n) => lost.push(n));
    spill.append(entries(7));
    spill.append(entries(7));
    await spill.settled();
    expect(lost.reduce((a, b) => a + b, 0)).toBe(4);
    const replayed: string[] = [];
    await spill.replay(async (batch) => void replayed.push(...batch.map((e) => e.cardUuid)), 200);
    expect(replayed).toHaveLength(10);
    expect(spill.bytes).toBe(0);
  });

  it('a replay cut short resumes after the last committed batch (nothing written twice, nothing skipped)', async () => {
    const spill = new AuditSpill(tmpFile(), 1024 ** 3, () => undefined);
    const spilled = entries(25);
    spill.append(spilled);
    let failOnce = true;
    const committed: string[] = [];
    const write = async (batch: AuditEntry[]) => {
      if (committed.length === 10 && failOnce) {
        failOnce = false;
        throw new Error('connection lost');
      }
      committed.push(...batch.map((e) => e.cardUuid));
    };
    await expect(spill.replay(write, 5)).rejects.toThrow('connection lost');
    spill.append(entries(3)); // spilled meanwhile: replayed after the older ones
    await spill.replay(write, 5);
    expect(committed.slice(0, 25)).toEqual(spilled.map((e) => e.cardUuid));
    expect(new Set(committed).size).toBe(28);
    expect(committed).toHaveLength(28);
    expect(spill.bytes).toBe(0);
  });
});
